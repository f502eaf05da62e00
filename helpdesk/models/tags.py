"""Tags on tickets, and the inbox views agents save (a named set of filters)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from helpdesk.models.base import json_field, ts_field

#: The longest tag name: a word or two, shown as a chip in the inbox.
MAX_TAG_NAME = 40
#: The longest saved view name, shown in the inbox's list of views.
MAX_VIEW_NAME = 80


class Tag(SQLModel, table=True):
    """A label agents put on tickets; ``key`` is the name case-folded, unique, so that
    "Lasku" and "lasku" are one tag. ``colour`` is ``#rrggbb`` or empty."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=MAX_TAG_NAME)
    key: str = Field(max_length=MAX_TAG_NAME, unique=True)
    colour: str | None = Field(default=None, max_length=7)
    created_at: datetime = ts_field()


class TicketTag(SQLModel, table=True):
    """A tag on a ticket; the inbox's tag filter reads it by tag first."""

    __tablename__ = "ticket_tag"
    __table_args__ = (Index("ix_ticket_tag_tag", "tag_id", "ticket_id"),)

    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True, ondelete="CASCADE")
    tag_id: int = Field(foreign_key="tag.id", primary_key=True, ondelete="CASCADE")


class SavedView(SQLModel, table=True):
    """Inbox filters saved under a name; ``shared`` views are listed for every agent.

    ``filters`` holds the inbox's query values (status, mailbox, assignee, user, tag, q)."""

    __tablename__ = "saved_view"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=MAX_VIEW_NAME)
    agent_id: int = Field(foreign_key="agent.id", index=True, ondelete="CASCADE")
    shared: bool = False
    filters: dict[str, str] = json_field(dict)
    created_at: datetime = ts_field()


class TagRead(SQLModel):
    """A tag as the API shows it."""

    id: int
    name: str
    colour: str | None


class SavedViewRead(SQLModel):
    """A saved view as the API shows it; ``count`` is how many tickets it shows (capped)."""

    id: int
    name: str
    shared: bool
    owner: str | None
    filters: dict[str, str]
    count: int | None = None
