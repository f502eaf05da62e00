"""Notifications to agents: who follows which ticket, @mentions in notes, the rows themselves."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, String
from sqlmodel import Field, SQLModel

from helpdesk.models.base import json_field, ts_field


class NotificationKind(StrEnum):
    """What happened; the page and the mail say it in the agent's language."""

    mention = "mention"
    note = "note"
    incoming = "incoming"
    reply = "reply"
    status = "status"
    assigned = "assigned"
    admin = "admin"


class NotifyEmail(StrEnum):
    """An agent's choice on the profile page: notifications also by mail, or not."""

    off = "off"
    immediately = "immediately"


class TicketFollower(SQLModel, table=True):
    """An agent who wants to hear of what happens in a ticket (the assignee does anyway)."""

    __tablename__ = "ticket_follower"

    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True, ondelete="CASCADE")
    agent_id: int = Field(foreign_key="agent.id", primary_key=True, index=True)
    created_at: datetime = ts_field()


class Mention(SQLModel, table=True):
    """An agent named in a note: a reference to the agent, and the handle as it was typed."""

    __tablename__ = "mention"

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", index=True, ondelete="CASCADE")
    agent_id: int = Field(foreign_key="agent.id")
    handle: str = Field(max_length=254)


class Notification(SQLModel, table=True):
    """One thing an agent is told of; unread until ``read_at``.

    ``mail_due`` marks a row the worker still has to mail (the agent asked for mail);
    the mail's outbox key is the row's id, so it goes out once however often it is tried.
    """

    __table_args__ = (
        # The unread badge is one count on this index (agent, unread) on every page.
        Index("ix_notification_agent_unread", "agent_id", "read_at", "id"),
        Index("ix_notification_mail_due", "mail_due", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id")
    kind: NotificationKind = Field(sa_type=String(16))
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", ondelete="CASCADE")
    message_id: int | None = Field(default=None, foreign_key="message.id", ondelete="SET NULL")
    actor_id: int | None = Field(default=None, foreign_key="agent.id")
    #: Values the text is filled in with (a status, an admin notice's message id and values).
    params: dict[str, Any] = json_field(dict)
    created_at: datetime = ts_field()
    read_at: datetime | None = ts_field(nullable=True, default_now=False)
    mail_due: bool = False
