"""A ticket's clocks: first response and resolution, in business hours, kept at write time.

The moments are the ones the reports have always measured:

- first incoming: the ticket's earliest incoming mail (automatic ones too);
- first response: the earliest reply an agent wrote (an ``outgoing`` message with an
  author, not cancelled in the undo window) at or after the first incoming mail;
- resolution: the ticket's last closing, while it stays closed (a reopening clears it, the
  next closing sets it again).

They are set where the rows are written (``tickets.count_message``, ``tickets.add_message``,
every status change, ``outgoing.cancel``), so the reports aggregate stored numbers and the
inbox shows the clocks without reading any thread. ``backfill`` computes the same from the
thread and the audit log for tickets stored before the columns existed (migration 0012).
Business seconds are the service hours of business days (``helpdesk.service_hours``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, Protocol

from sqlalchemy import String, and_, bindparam, case, cast, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlmodel import Session, col

from helpdesk.models import AuditEvent, Message, MessageKind, Ticket, TicketStatus
from helpdesk.models.tickets import TicketClocks
from helpdesk.service_hours import BusinessClock, ServiceCalendar, calendar_from_settings

CLOSED = TicketStatus.closed.value
#: Tickets measured per batch by ``backfill``.
BACKFILL_BATCH = 5000


class Resolvable(Protocol):
    """The columns a status change keeps (a ``Ticket`` and mail-in's ticket state have them)."""

    created_at: datetime
    resolved_at: datetime | None
    resolution_seconds: int | None


def business_seconds(
    start: datetime, end: datetime, calendar: ServiceCalendar | None = None
) -> int:
    """Whole business seconds from ``start`` to ``end`` (0 when end is not after start)."""
    cal = calendar or calendar_from_settings()
    if end <= start:
        return 0
    clock = BusinessClock(cal, cal.local(start).date(), cal.local(end).date())
    return round(clock.between(start, end))


def note_status(
    ticket: Resolvable,
    *,
    old: str,
    new: str,
    at: datetime,
    calendar: ServiceCalendar | None = None,
) -> None:
    """A status change: closing starts a resolution, anything but closed clears it."""
    if new == CLOSED and old != CLOSED:
        ticket.resolved_at = at
        ticket.resolution_seconds = business_seconds(ticket.created_at, at, calendar)
    elif new != CLOSED:
        ticket.resolved_at = None
        ticket.resolution_seconds = None


def note_reply(ticket: Ticket, *, at: datetime, calendar: ServiceCalendar | None = None) -> None:
    """An agent's reply written at ``at``: the first response, if it is the first after mail."""
    first_in = ticket.first_incoming_at
    if first_in is None or at < first_in:
        return
    if ticket.first_response_at is not None and ticket.first_response_at <= at:
        return
    ticket.first_response_at = at
    ticket.first_response_seconds = business_seconds(first_in, at, calendar)


def _first_reply(ticket_id: Any, first_in: Any) -> Any:
    """The earliest agent reply of a ticket at or after its first incoming mail (SQL)."""
    return select(func.min(Message.created_at)).where(
        col(Message.ticket_id) == ticket_id,
        col(Message.kind) == MessageKind.outgoing.value,
        col(Message.author_id).is_not(None),
        col(Message.created_at) >= first_in,
        or_(col(Message.delivery_status).is_(None), col(Message.delivery_status) != "cancelled"),
    )


def reply_cancelled(session: Session, ticket: Ticket, message: Message) -> None:
    """A reply stopped in the undo window: if it was the first response, the next one is."""
    if ticket.first_response_at is None or message.created_at != ticket.first_response_at:
        return
    assert ticket.first_incoming_at is not None
    ticket.first_response_at = session.execute(
        _first_reply(ticket.id, ticket.first_incoming_at)
    ).scalar_one()
    ticket.first_response_seconds = (
        business_seconds(ticket.first_incoming_at, ticket.first_response_at)
        if ticket.first_response_at is not None
        else None
    )
    session.add(ticket)


def clocks_of(
    tickets: Sequence[Ticket], now: datetime, calendar: ServiceCalendar | None = None
) -> dict[int, TicketClocks]:
    """The clocks of a page of tickets, from their stored columns (no query, no write):
    a running clock (no first reply yet, not closed) is the business time until ``now``.

    One ``BusinessClock`` from the oldest moment to now serves every ticket of the page.
    """
    cal = calendar or calendar_from_settings()
    if not tickets:
        return {}
    earliest = min(t.created_at for t in tickets)
    for t in tickets:
        if t.first_incoming_at is not None and t.first_incoming_at < earliest:
            earliest = t.first_incoming_at
    clock = BusinessClock(cal, cal.local(earliest).date(), cal.local(now).date())
    found = {}
    for t in tickets:
        waiting = t.first_incoming_at is not None and t.first_response_at is None
        if t.first_response_seconds is not None:
            first: int | None = t.first_response_seconds
        elif waiting:
            assert t.first_incoming_at is not None
            first = round(clock.between(t.first_incoming_at, now))
        else:
            first = None
        done = t.status == CLOSED and t.resolution_seconds is not None
        found[t.id or 0] = TicketClocks(
            first_response_seconds=first,
            first_response_running=waiting,
            resolution_seconds=(
                t.resolution_seconds or 0 if done else round(clock.between(t.created_at, now))
            ),
            resolution_running=not done,
        )
    return found


def _closed_at(ticket_id: Any) -> Any:
    """The last closing of a ticket in the audit log (a status change or a call's close)."""
    closes = or_(
        and_(
            col(AuditEvent.action) == "ticket.status",
            AuditEvent.details["new"].as_string() == CLOSED,
        ),
        and_(col(AuditEvent.action) == "call.log", AuditEvent.details["closed"].as_boolean()),
    )
    return (
        select(func.max(AuditEvent.at))
        .where(
            col(AuditEvent.object_type) == "ticket",
            col(AuditEvent.object_id) == cast(ticket_id, String),
            closes,
        )
        .scalar_subquery()
    )


def _as_utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def backfill(conn: Connection, calendar: ServiceCalendar | None = None) -> int:
    """Compute every ticket's clocks from its thread and the audit log; returns how many.

    Three UPDATEs with correlated subqueries set the moments (the same statements on
    SQLite and PostgreSQL), then the business seconds are measured in Python, a batch of
    tickets at a time, with one ``BusinessClock`` over the whole span.
    """
    cal = calendar or calendar_from_settings()
    tickets = Ticket.__table__  # type: ignore[attr-defined]
    first_in = (
        select(func.min(Message.created_at))
        .where(
            col(Message.ticket_id) == tickets.c.id,
            col(Message.kind) == MessageKind.incoming.value,
        )
        .scalar_subquery()
    )
    conn.execute(update(tickets).values(first_incoming_at=first_in))
    conn.execute(
        update(tickets).values(
            first_response_at=case(
                (
                    tickets.c.first_incoming_at.is_not(None),
                    _first_reply(tickets.c.id, tickets.c.first_incoming_at).scalar_subquery(),
                )
            )
        )
    )
    conn.execute(
        update(tickets).values(
            resolved_at=case((tickets.c.status == CLOSED, _closed_at(tickets.c.id)))
        )
    )
    span = conn.execute(
        select(
            func.min(tickets.c.created_at),
            func.min(tickets.c.first_incoming_at),
            func.max(tickets.c.first_response_at),
            func.max(tickets.c.resolved_at),
        )
    ).one()
    moments = [_as_utc(m) for m in span if m is not None]
    if not moments:
        return 0
    first_day: date = cal.local(min(moments)).date()
    clock = BusinessClock(cal, first_day, cal.local(max(moments)).date())
    stmt = (
        update(tickets)
        .where(tickets.c.id == bindparam("b_id"))
        .values(
            first_response_seconds=bindparam("b_first"),
            resolution_seconds=bindparam("b_done"),
        )
    )
    query = select(
        tickets.c.id,
        tickets.c.created_at,
        tickets.c.first_incoming_at,
        tickets.c.first_response_at,
        tickets.c.resolved_at,
    ).order_by(tickets.c.id)
    done, last = 0, 0
    while True:
        rows = conn.execute(query.where(tickets.c.id > last).limit(BACKFILL_BATCH)).all()
        if not rows:
            return done
        params = []
        for tid, created, first_in_at, reply_at, closed_at in rows:
            params.append(
                {
                    "b_id": tid,
                    "b_first": (
                        round(clock.between(_as_utc(first_in_at), _as_utc(reply_at)))
                        if first_in_at is not None and reply_at is not None
                        else None
                    ),
                    "b_done": (
                        round(clock.between(_as_utc(created), _as_utc(closed_at)))
                        if closed_at is not None
                        else None
                    ),
                }
            )
        conn.execute(stmt, params)
        done += len(rows)
        last = rows[-1][0]
