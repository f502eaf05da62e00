"""Sending invoices on: dispatches, Netvisor comment lines, Korjattava rounds, the texts.

A ``Dispatch`` is one attempt to send one invoice by one method. Its ``state`` moves
queued → (waiting) → sending → sent → finalised → user_notified, or to ``failed`` with
the step that failed; a failed dispatch can be resumed from that step. At most one
dispatch per invoice is *active* (any state but failed, cancelled and user_notified):
a partial unique index enforces it on SQLite and PostgreSQL alike, so two agents, a
double click or an API retry can never start a second one.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, String, Text, text
from sqlmodel import Field, SQLModel

from helpdesk.plugin_api import QueueRow, json_field, ts_field


class DispatchState(StrEnum):
    queued = "queued"
    #: Waiting for the agent: sent by hand in Netvisor, or the Finvoice file downloaded.
    waiting = "waiting"
    sending = "sending"
    sent = "sent"
    finalised = "finalised"
    user_notified = "user_notified"
    failed = "failed"
    cancelled = "cancelled"


#: States that no longer hold the invoice's one active dispatch.
INACTIVE_STATES = (DispatchState.failed, DispatchState.cancelled, DispatchState.user_notified)
#: The normal path, for the progress chips.
PATH = (
    DispatchState.queued,
    DispatchState.sending,
    DispatchState.sent,
    DispatchState.finalised,
    DispatchState.user_notified,
)
_ACTIVE_SQL = text("state NOT IN ('failed', 'cancelled', 'user_notified')")


class DispatchMode(StrEnum):
    """How the method is carried out."""

    email = "email"
    print_netvisor = "print_netvisor"
    print_maventa = "print_maventa"
    einvoice_maventa = "einvoice_maventa"
    einvoice_download = "einvoice_download"

    @property
    def manual(self) -> bool:
        """The agent does the sending outside the helpdesk and confirms it."""
        return self in (DispatchMode.print_netvisor, DispatchMode.einvoice_download)


class Dispatch(QueueRow, table=True):
    """One attempt to send an invoice on; see the module docstring for the states.

    Dispatches are a work queue (``QueueRow``): the worker claims a due one, runs its
    steps and gives it back with the time of its next attempt.
    """

    __tablename__ = "invoice_dispatch"
    __table_args__ = (
        Index(
            "uq_invoice_dispatch_active",
            "invoice_id",
            unique=True,
            sqlite_where=_ACTIVE_SQL,
            postgresql_where=_ACTIVE_SQL,
        ),
        Index("ix_invoice_dispatch_due", "state", "next_attempt_at", "id"),
    )

    invoice_id: int = Field(foreign_key="invoice.id", index=True, ondelete="CASCADE")
    method: str = Field(sa_type=String(16))
    mode: DispatchMode = Field(sa_type=String(24))
    state: DispatchState = Field(default=DispatchState.queued, sa_type=String(16))
    #: The step that failed (fetch_pdf, build, send, upload, delivery, finalise, notify)
    #: and why.
    failed_step: str | None = Field(default=None, sa_type=String(16))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    #: Set when the agent chose another method than the invoice's own.
    override_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    agent_id: int | None = Field(default=None, foreign_key="agent.id", ondelete="SET NULL")
    idempotency_key: str | None = Field(default=None, max_length=200, unique=True)
    #: Where it went: an email address, an e-invoice address, or the postal address.
    recipient: str = Field(default="", max_length=400)

    pdf_sha256: str | None = Field(default=None, max_length=64)
    document_sha256: str | None = Field(default=None, max_length=64)
    outbound_mail_id: int | None = Field(default=None, foreign_key="outbound_mail.id")
    #: The uuid we give the Maventa upload, committed before it goes: Maventa makes it the
    #: invoice's id, so an upload whose answer was lost is found by it, never sent twice.
    maventa_uuid: str | None = Field(default=None, max_length=36)
    #: Maventa's id for the upload, once Maventa confirmed it (our uuid).
    maventa_invoice_id: str | None = Field(default=None, max_length=64)
    #: Set (and committed) before the upload: after a crash, look before uploading again.
    upload_started_at: datetime | None = ts_field(nullable=True, default_now=False)
    finalise_attempts: int = 0
    notice_mail_id: int | None = Field(default=None, foreign_key="outbound_mail.id")
    notice_ticket_id: int | None = Field(default=None, foreign_key="ticket.id")

    attempts: int = 0
    next_attempt_at: datetime = ts_field()

    created_at: datetime = ts_field()
    sending_at: datetime | None = ts_field(nullable=True, default_now=False)
    sent_at: datetime | None = ts_field(nullable=True, default_now=False)
    #: Who confirmed a manual send (or whose dispatch the sync saw leave Netvisor).
    sent_by: int | None = Field(default=None, foreign_key="agent.id", ondelete="SET NULL")
    finalised_at: datetime | None = ts_field(nullable=True, default_now=False)
    notified_at: datetime | None = ts_field(nullable=True, default_now=False)
    failed_at: datetime | None = ts_field(nullable=True, default_now=False)
    updated_at: datetime = ts_field()

    @property
    def active(self) -> bool:
        return self.state not in INACTIVE_STATES


class CommentState(StrEnum):
    pending = "pending"
    sending = "sending"
    done = "done"
    failed = "failed"
    #: The call may or may not have reached Netvisor; never repeated (it could add twice).
    unknown = "unknown"


class NetvisorComment(SQLModel, table=True):
    """A line for the invoice's process history in Netvisor, sent by the worker.

    ``key`` makes queueing it idempotent; the worker marks it ``sending`` (committed)
    before the call, so a worker killed mid-call leaves ``unknown``, never a second line.
    """

    __tablename__ = "invoice_netvisor_comment"
    __table_args__ = (Index("ix_invoice_netvisor_comment_due", "state", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=120, unique=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True, ondelete="CASCADE")
    text: str = Field(sa_column=Column(Text, nullable=False))
    state: CommentState = Field(default=CommentState.pending, sa_type=String(16))
    attempts: int = 0
    next_attempt_at: datetime = ts_field()
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = ts_field()
    done_at: datetime | None = ts_field(nullable=True, default_now=False)


class Correction(SQLModel, table=True):
    """One Korjattava round: why, the questions sent to the user, and when it was resolved."""

    __tablename__ = "invoice_correction"

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True, ondelete="CASCADE")
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", ondelete="SET NULL")
    #: Each ``{"name": check name or "other", "text": reason}``.
    reasons: list[dict[str, Any]] = json_field(list)
    message: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    agent_id: int | None = Field(default=None, foreign_key="agent.id", ondelete="SET NULL")
    marked_at: datetime = ts_field()
    resolved_at: datetime | None = ts_field(nullable=True, default_now=False)
    resolved_by: int | None = Field(default=None, foreign_key="agent.id", ondelete="SET NULL")


class InvoiceText(SQLModel, table=True):
    """An admin-edited text (subject and body) that replaces a built-in Finnish default."""

    __tablename__ = "invoice_text"

    key: str = Field(primary_key=True, max_length=32)
    subject: str = Field(default="", max_length=250)
    body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    updated_by: int | None = Field(default=None, foreign_key="agent.id", ondelete="SET NULL")
    updated_at: datetime = ts_field()
