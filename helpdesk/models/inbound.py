"""Mail as fetched from the servers (one row per server copy) and the worker's job locks."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from helpdesk.limits import chars
from helpdesk.models.base import ts_field


class InboundOutcome(StrEnum):
    """What became of one fetched copy."""

    imported = "imported"  # a new message row
    unparsed = "unparsed"  # a new message row, flagged: the parser could not read it
    duplicate = "duplicate"  # the same mail is stored already (other mailbox, resync)
    ours = "ours"  # our own outgoing mail seen again (Sent folder, Bcc, loop)


class InboundMail(SQLModel, table=True):
    """One message copy on an IMAP server (or in an imported file) and what it produced.

    ``(mailbox_id, folder, uidvalidity, uid)`` is unique: it is the final guard that makes
    fetching exactly-once. Imported files have no uid (NULLs never collide); they are
    deduplicated by ``header_message_id`` and the hashes like everything else.
    ``message_id`` is the Message row this copy produced or duplicates.
    """

    __tablename__ = "inbound_mail"
    __table_args__ = (
        UniqueConstraint("mailbox_id", "folder", "uidvalidity", "uid", name="uq_inbound_server"),
        Index("ix_inbound_raw_sha256", "raw_sha256"),
        Index("ix_inbound_content_sha256", "content_sha256"),
        Index("ix_inbound_header_message_id", "header_message_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    mailbox_id: int = Field(foreign_key="mailbox.id", index=True)
    folder: str = Field(max_length=255)
    uidvalidity: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    uid: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    raw_sha256: str = Field(max_length=64)
    # The hash without trace headers (Received, Delivered-To, ...), which differ between
    # the copies one mail leaves in two mailboxes.
    content_sha256: str = Field(max_length=64)
    size: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    header_message_id: str | None = Field(
        default=None, max_length=chars("inbound_mail.header_message_id")
    )
    message_id: int | None = Field(default=None, foreign_key="message.id", index=True)
    outcome: InboundOutcome = Field(sa_type=String(16))
    fetched_at: datetime = ts_field()


class JobLock(SQLModel, table=True):
    """A named job's last run and who holds it now, so N workers run each job once.

    Mailbox fetch loops on SQLite hold a row here too (``mailbox:<id>``); on PostgreSQL
    they use advisory locks instead, which die with the connection.
    """

    __tablename__ = "job_lock"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    last_started_at: datetime | None = ts_field(nullable=True, default_now=False)
    last_finished_at: datetime | None = ts_field(nullable=True, default_now=False)
    last_error: str | None = None
    locked_by: str | None = Field(default=None, max_length=200)
    locked_until: datetime | None = ts_field(nullable=True, default_now=False)
