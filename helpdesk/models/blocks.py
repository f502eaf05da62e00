"""Blocked senders: mail from them goes to the Spam view instead of the inbox."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from helpdesk.models.base import ts_field


class BlockScope(StrEnum):
    address = "address"
    domain = "domain"


class SenderBlock(SQLModel, table=True):
    """One blocked sender: a whole address, or a domain (every address at it).

    ``value`` is lower case: ``someone@example.com`` or ``example.com``.
    """

    __tablename__ = "sender_block"

    id: int | None = Field(default=None, primary_key=True)
    scope: BlockScope = Field(sa_type=String(16))
    value: str = Field(max_length=320, unique=True)
    created_by_id: int | None = Field(default=None, foreign_key="agent.id")
    created_at: datetime = ts_field()


class SenderBlockRead(SQLModel):
    """A block as the API shows it."""

    id: int
    scope: str
    value: str
    created_by: str | None
    created_at: datetime
