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
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    column,
    func,
    or_,
    select,
    update,
    values,
)
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


def _as_utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _as_utc_any(value: Any) -> Any:
    return _as_utc(value) if isinstance(value, datetime) else value


def _span(conn: Connection, calendar: ServiceCalendar) -> BusinessClock | None:
    """One business clock over every day a ticket's clocks can touch (None: no tickets)."""

    def edge(aggregate: Any) -> datetime | None:
        return _as_utc(conn.execute(select(aggregate)).scalar_one())

    found = [edge(func.min(Ticket.created_at)), edge(func.min(Message.created_at))]
    moments = [m for m in found if m is not None]
    if not moments:
        return None
    last = max(datetime.now(UTC), *moments)
    for latest in (edge(func.max(Message.created_at)), edge(func.max(AuditEvent.at))):
        last = max(last, latest or last)
    return BusinessClock(calendar, calendar.local(min(moments)).date(), calendar.local(last).date())


def _write(conn: Connection, changed: list[dict[str, Any]]) -> None:
    """Store the batch's changed clocks: one UPDATE ... FROM (VALUES ...) on PostgreSQL (a
    statement per row costs a round trip there), an executemany on SQLite (in-process)."""
    tickets = Ticket.__table__  # type: ignore[attr-defined]
    names = ("b_id", *STORED)
    if conn.dialect.name == "postgresql":
        rows = values(
            column("b_id", Integer),
            *(column(n, tickets.c[n].type) for n in STORED),
            name="clocks",
        ).data([tuple(row[n] for n in names) for row in changed])
        conn.execute(
            update(tickets)
            .where(tickets.c.id == rows.c.b_id)
            .values({n: rows.c[n] for n in STORED})
        )
        return
    stmt = (
        update(tickets)
        .where(tickets.c.id == bindparam("b_id"))
        .values({n: bindparam(f"v_{n}") for n in STORED})
    )
    conn.execute(stmt, [{"b_id": r["b_id"]} | {f"v_{n}": r[n] for n in STORED} for r in changed])


#: The columns ``backfill`` computes.
STORED = (
    "first_incoming_at",
    "first_response_at",
    "first_response_seconds",
    "resolved_at",
    "resolution_seconds",
)


def backfill(conn: Connection, calendar: ServiceCalendar | None = None) -> int:
    """Compute every ticket's clocks from its thread and the audit log; returns how many
    tickets changed.

    A batch of tickets at a time, one SELECT finds each ticket's moments with the old
    report's correlated subqueries (the same SQL on SQLite and PostgreSQL), Python measures
    the business seconds with one ``BusinessClock`` over the whole span, and only the
    tickets whose stored clocks differ are written, each once.
    """
    cal = calendar or calendar_from_settings()
    clock = _span(conn, cal)
    if clock is None:
        return 0
    tickets = Ticket.__table__  # type: ignore[attr-defined]
    # An alias: inside the first reply's subquery this must not correlate to its message.
    incoming = Message.__table__.alias("incoming")  # type: ignore[attr-defined]
    first_in = (
        select(func.min(incoming.c.created_at))
        .where(
            incoming.c.ticket_id == tickets.c.id,
            incoming.c.kind == MessageKind.incoming.value,
        )
        .correlate(tickets)
        .scalar_subquery()
    )
    query = select(
        tickets.c.id,
        tickets.c.created_at,
        first_in,
        _first_reply(tickets.c.id, first_in).scalar_subquery(),
        case((tickets.c.status == CLOSED, _closed_at(tickets.c.id))),
        *(tickets.c[n] for n in STORED),
    ).order_by(tickets.c.id)
    changed_count, last = 0, 0
    while True:
        rows = conn.execute(query.where(tickets.c.id > last).limit(BACKFILL_BATCH)).all()
        if not rows:
            return changed_count
        changed = []
        for tid, created, first_at, reply_at, closed_at, *stored in rows:
            first_at, reply_at, closed_at = map(_as_utc, (first_at, reply_at, closed_at))
            found = {
                "b_id": tid,
                "first_incoming_at": first_at,
                "first_response_at": reply_at,
                "first_response_seconds": (
                    round(clock.between(first_at, reply_at))
                    if first_at is not None and reply_at is not None
                    else None
                ),
                "resolved_at": closed_at,
                "resolution_seconds": (
                    round(clock.between(_as_utc(created) or created, closed_at))
                    if closed_at is not None
                    else None
                ),
            }
            if tuple(found[n] for n in STORED) != tuple(map(_as_utc_any, stored)):
                changed.append(found)
        if changed:
            _write(conn, changed)
        changed_count += len(changed)
        last = rows[-1][0]
