"""Phone calls logged by agents; each is also a ``call`` message in a ticket."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from helpdesk.models.base import ts_field
from helpdesk.values import Id, Line, Text


class CallDirection(StrEnum):
    incoming = "incoming"
    outgoing = "outgoing"


class Call(SQLModel, table=True):
    """A phone call: who, when, how long, about what."""

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", unique=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="etunnus_user.id", index=True)
    agent_id: int | None = Field(default=None, foreign_key="agent.id")
    phone: str | None = Field(default=None, max_length=32, index=True)
    direction: CallDirection = Field(default=CallDirection.incoming, sa_type=String(16))
    started_at: datetime = ts_field(index=True)
    duration_seconds: int = 0
    topic: str = Field(default="", max_length=300)


class CallCreate(SQLModel):
    """``POST /calls``: a call to log; without ``ticket_id`` it opens a new phone ticket.

    ``user`` is an e-tunnus number; when it is missing the caller is matched by phone.
    """

    phone: Line | None = None
    direction: CallDirection = CallDirection.incoming
    started_at: datetime | None = None
    duration_seconds: int = Field(default=0, ge=0, le=24 * 3600)
    topic: Line = Field(default="", max_length=300)
    notes: Text = ""
    user: Line | None = None
    ticket_id: Id | None = None


class CallRead(SQLModel):
    """A logged call as the API shows it."""

    id: int
    ticket_id: int
    ticket_number: int | None
    message_id: int
    user: str | None
    agent: str | None
    phone: str | None
    direction: str
    started_at: datetime
    duration_seconds: int
    topic: str
    notes: str
