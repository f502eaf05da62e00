"""Mail out: the outbox rows the worker sends, saved replies, and who is in which ticket."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from helpdesk.models.base import json_field, ts_field
from helpdesk.models.messages import DeliveryStatus
from helpdesk.models.queue import QueueRow


class OutboundKind(StrEnum):
    """Why a mail is going out; only human replies omit Auto-Submitted."""

    reply = "reply"
    new = "new"
    notice = "notice"
    invoice = "invoice"
    forward = "forward"

    @property
    def automatic(self) -> bool:
        return self in (OutboundKind.notice, OutboundKind.invoice)


class OutboundMail(QueueRow, table=True):
    """One composed mail on its way out (the transactional outbox, a work queue).

    The composed bytes live in the blob store under ``raw_sha256`` and never change, so
    every attempt sends the same Message-ID. ``smtp_accepted_at`` is committed right after
    the server took the mail and before anything else, so a worker killed afterwards
    never sends it again. A row is claimed (``QueueRow``) while it is ``sending``.
    """

    __tablename__ = "outbound_mail"
    __table_args__ = (Index("ix_outbound_due", "status", "next_attempt_at", "id"),)

    message_row_id: int | None = Field(default=None, foreign_key="message.id", index=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    mailbox_id: int = Field(foreign_key="mailbox.id")
    kind: OutboundKind = Field(default=OutboundKind.reply, sa_type=String(16))
    message_id: str = Field(max_length=998, unique=True)
    subject: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    envelope_from: str = Field(max_length=254)
    recipients: list[str] = json_field(list)
    raw_sha256: str = Field(max_length=64)
    status: DeliveryStatus = Field(default=DeliveryStatus.queued, sa_type=String(16))
    attempts: int = 0
    next_attempt_at: datetime = ts_field()
    send_after: datetime = ts_field()
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    smtp_accepted_at: datetime | None = ts_field(nullable=True, default_now=False)
    #: The last attempt ended where the server may have taken the mail (killed worker,
    #: connection lost during DATA): look for it in the Sent folder before sending again.
    reconcile: bool = False
    sent_at: datetime | None = ts_field(nullable=True, default_now=False)
    sent_copy_at: datetime | None = ts_field(nullable=True, default_now=False)
    idempotency_key: str | None = Field(default=None, max_length=200, unique=True)
    created_by: int | None = Field(default=None, foreign_key="agent.id")
    created_at: datetime = ts_field()
    updated_at: datetime = ts_field()


class SavedReply(SQLModel, table=True):
    """A reply template admins keep; ``body`` may use {asiakas}, {tiketti}, {agentti}."""

    __tablename__ = "saved_reply"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200, unique=True)
    body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    active: bool = True
    created_by: int | None = Field(default=None, foreign_key="agent.id")
    updated_by: int | None = Field(default=None, foreign_key="agent.id")
    created_at: datetime = ts_field()
    updated_at: datetime = ts_field()


class PresenceState(StrEnum):
    viewing = "viewing"
    composing = "composing"


class TicketPresence(SQLModel, table=True):
    """Who has a ticket open right now; a row older than a poll or two is stale."""

    __tablename__ = "ticket_presence"
    __table_args__ = (UniqueConstraint("ticket_id", "agent_id", name="uq_ticket_presence"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True, ondelete="CASCADE")
    agent_id: int = Field(foreign_key="agent.id", ondelete="CASCADE")
    state: PresenceState = Field(default=PresenceState.viewing, sa_type=String(16))
    seen_at: datetime = ts_field()
