"""The columns every work-queue row carries (the outbox, invoice dispatches).

``helpdesk.workqueue`` claims, leases and releases such rows; a table becomes a queue by
deriving from ``QueueRow`` and naming itself in a ``workqueue.Queue``.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from helpdesk.models.base import UTCDateTime


class QueueRow(SQLModel):
    """An integer id and who holds the row now: a worker's name and its lease.

    ``claimed_by`` is None while nobody works on the row. ``claimed_until`` is the end of
    the holder's lease: the holder renews it while it works, and once it has passed,
    another worker may take the row over. ``claimed_at`` is when the last claim began.
    """

    id: int | None = Field(default=None, primary_key=True)
    claimed_by: str | None = Field(default=None, max_length=200)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime(), nullable=True)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime(), nullable=True)
