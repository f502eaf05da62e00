"""Tickets: one conversation with a customer, across mail, phone and notes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, String, false, text
from sqlmodel import Field, SQLModel

from helpdesk.limits import chars
from helpdesk.models.base import json_field, ts_field
from helpdesk.values import Line

#: Human ticket numbers start here, so the first ticket is #1001.
TICKET_NUMBER_OFFSET = 1000


class TicketStatus(StrEnum):
    open = "open"
    pending = "pending"
    closed = "closed"


class Channel(StrEnum):
    email = "email"
    phone = "phone"
    web = "web"


class TicketBase(SQLModel):
    """Fields shared by the table and the API shapes."""

    subject: str = Field(default="", max_length=chars("ticket.subject"))
    status: TicketStatus = Field(default=TicketStatus.open, sa_type=String(16))
    channel: Channel = Field(default=Channel.email, sa_type=String(16))
    customer_email: str | None = Field(
        default=None, max_length=chars("ticket.customer_email"), index=True
    )
    customer_name: str | None = Field(default=None, max_length=chars("ticket.customer_name"))


class Ticket(TicketBase, table=True):
    """A ticket; ``number`` is what people say on the phone (#1042)."""

    __table_args__ = (
        Index("ix_ticket_inbox", "status", "last_message_at", "id"),
        Index("ix_ticket_mailbox_inbox", "mailbox_id", "status", "last_message_at", "id"),
        Index("ix_ticket_assignee_inbox", "assignee_id", "status", "last_message_at", "id"),
        Index("ix_ticket_activity", "last_message_at", "id"),
        # The reports: counts by creation time, and the stored clocks beside them (and
        # spam, which no report counts).
        Index(
            "ix_ticket_created",
            "created_at",
            "mailbox_id",
            "status",
            "first_response_seconds",
            "resolution_seconds",
            "spam",
        ),
        # The Snoozed and Spam views and their counts. Partial, so that neither database
        # reads them for "not spam" or "not snoozed" (every inbox list): those go by the
        # inbox indexes above, as before.
        Index(
            "ix_ticket_snoozed",
            "snoozed_until",
            sqlite_where=text("snoozed_until IS NOT NULL"),
            postgresql_where=text("snoozed_until IS NOT NULL"),
        ),
        Index(
            "ix_ticket_spam",
            "last_message_at",
            "id",
            sqlite_where=text("spam = 1"),
            postgresql_where=text("spam = true"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: int | None = Field(default=None, unique=True, index=True)
    mailbox_id: int | None = Field(default=None, foreign_key="mailbox.id")
    user_id: int | None = Field(default=None, foreign_key="etunnus_user.id", index=True)
    assignee_id: int | None = Field(default=None, foreign_key="agent.id")
    #: Set when the ticket was merged into another: its thread lives there now.
    merged_into_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    message_count: int = 0
    flags: list[str] = json_field(list)
    created_at: datetime = ts_field()
    updated_at: datetime = ts_field()
    last_message_at: datetime = ts_field()
    last_incoming_at: datetime | None = ts_field(nullable=True, default_now=False)
    last_agent_reply_at: datetime | None = ts_field(nullable=True, default_now=False)
    # The clocks (``helpdesk.services.ticket_clocks``), kept at write time so that the
    # reports aggregate numbers and the inbox shows them without reading the thread:
    # the first incoming mail, the first agent reply after it, the last closing (None
    # while not closed), and the business-hour seconds from the first mail to the
    # reply and from the ticket's creation to the closing.
    first_incoming_at: datetime | None = ts_field(nullable=True, default_now=False)
    first_response_at: datetime | None = ts_field(nullable=True, default_now=False)
    first_response_seconds: int | None = None
    resolved_at: datetime | None = ts_field(nullable=True, default_now=False)
    resolution_seconds: int | None = None
    #: Hidden from the open lists while in the future; once past (and until an agent acts
    #: on the ticket) it marks the ticket as back from snooze. Nothing flips it at that
    #: moment: every read compares it with now.
    snoozed_until: datetime | None = ts_field(nullable=True, default_now=False)
    #: In the Spam view instead of the inbox (marked by an agent or from a blocked sender).
    spam: bool = Field(default=False, sa_column_kwargs={"server_default": false()})

    @property
    def ref(self) -> str:
        return f"#{self.number}"


class TicketLink(SQLModel, table=True):
    """A link from a ticket to something it concerns, found in its mail or set by an agent.

    ``kind`` is ``user`` for E-tunnus users or a plugin's kind (``invoice``); ``state`` is
    ``linked`` or ``suggested`` (ambiguous matches are only suggested, never guessed).
    """

    __tablename__ = "ticket_link"
    __table_args__ = (
        Index("uq_ticket_link", "ticket_id", "kind", "target", unique=True),
        Index("ix_ticket_link_target", "kind", "target"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", ondelete="CASCADE")
    kind: str = Field(max_length=32)
    target: str = Field(max_length=64)
    label: str = Field(default="", max_length=200)
    state: str = Field(default="linked", max_length=16)
    source: str = Field(default="auto", max_length=16)
    found_text: str | None = Field(default=None, max_length=200)
    details: dict[str, Any] = json_field(dict)
    created_at: datetime = ts_field()


class TicketClocks(SQLModel):
    """A ticket's first-response and resolution clocks, in business seconds (the service
    hours of business days), as the inbox shows them; computed when read, never stored."""

    first_response_seconds: int | None = Field(
        description="Business seconds from the customer's first mail to the first agent "
        "reply; while unanswered (running), waited so far; null without customer mail"
    )
    first_response_running: bool = Field(
        description="True while the customer's mail waits for its first reply"
    )
    resolution_seconds: int = Field(
        description="Business seconds from the ticket's creation to its last closing; "
        "while not closed (running), elapsed so far"
    )
    resolution_running: bool = Field(description="True while the ticket is not closed")


class TicketRead(SQLModel):
    """A ticket as the API shows it."""

    id: int
    number: int
    subject: str
    status: str
    channel: str
    mailbox: str | None
    user: str | None
    assignee: str | None
    customer_email: str | None
    customer_name: str | None
    message_count: int
    created_at: datetime
    last_message_at: datetime
    flags: list[str]
    clocks: TicketClocks
    tags: list[str] = []
    #: The ticket this one was merged into (its thread lives there now), if it was.
    merged_into_id: int | None = None
    snoozed_until: datetime | None = None
    spam: bool = False


class TicketUpdate(SQLModel):
    """What ``PATCH /tickets/{id}`` may change; ``assignee`` is an agent email or null."""

    status: TicketStatus | None = None
    assignee: Line | None = None
