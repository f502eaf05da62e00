"""Phone calls logged by agents; each is also a ``call`` message in a ticket."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from helpdesk.models.base import ts_field


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
