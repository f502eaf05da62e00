"""First response and resolution times, in business hours, by week and by mailbox.

The database picks each ticket's moments (its first incoming mail, the first reply an
agent sent after it, its last closing) with indexed subqueries, one row per ticket that
came in in the period. A business-hour duration cannot be a SQL aggregate on both
databases (it needs the holidays), so Python measures each with one ``BusinessClock``
built for the period and takes the median and the 90th percentile per group.
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_right
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import String, case, cast, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from helpdesk.hookspecs import ReportPeriod
from helpdesk.models import AuditEvent, Mailbox, Message, Ticket
from helpdesk.models.reports import DurationStats, TimesReport, TimesRow
from helpdesk.service_hours import BusinessClock, ServiceCalendar, calendar_from_settings
from helpdesk.services.reports import (
    CLOSED,
    bounds,
    moment_seconds,
    no_jit,
    period_read,
    raw_moment,
)

HOUR = 3600.0


def nearest_rank(values: list[float], q: float) -> float:
    """The q-quantile, nearest rank: the smallest value with q of all at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def stats(seconds: list[float]) -> DurationStats:
    """Count, median and nearest-rank 90th percentile, in hours (two decimals)."""
    if not seconds:
        return DurationStats(count=0, median_hours=None, p90_hours=None)
    return DurationStats(
        count=len(seconds),
        median_hours=round(statistics.median(seconds) / HOUR, 2),
        p90_hours=round(nearest_rank(seconds, 0.9) / HOUR, 2),
    )


def _ticket_moments(session: Session, period: ReportPeriod, start: datetime, end: datetime) -> Any:
    """Per ticket that came in in the period: mailbox, first incoming, first reply, closed at."""
    first_in = (
        select(func.min(Message.created_at))
        .where(Message.ticket_id == Ticket.id, Message.kind == "incoming")
        .correlate(Ticket)
        .scalar_subquery()
    )
    first_reply = (
        select(func.min(Message.created_at))
        .where(
            Message.ticket_id == Ticket.id,
            Message.kind == "outgoing",
            col(Message.author_id).is_not(None),
            col(Message.created_at) >= first_in,
            or_(
                col(Message.delivery_status).is_(None), col(Message.delivery_status) != "cancelled"
            ),
        )
        .correlate(Ticket)
        .scalar_subquery()
    )
    closed_at = (
        select(func.max(AuditEvent.at))
        .where(
            AuditEvent.object_type == "ticket",
            AuditEvent.object_id == cast(Ticket.id, String),
            AuditEvent.action == "ticket.status",
            AuditEvent.details["new"].as_string() == CLOSED,
        )
        .correlate(Ticket)
        .scalar_subquery()
    )
    # More columns than sqlmodel's select() types: SQLAlchemy's own. Moments unparsed
    # (``raw_moment``): tens of thousands of rows stay cheap to read and to measure.
    query = sa_select(
        col(Ticket.mailbox_id),
        raw_moment(session, col(Ticket.created_at)),
        col(Ticket.status),
        raw_moment(session, first_in),
        raw_moment(session, first_reply),
        # Only a ticket closed now has a resolution: the others skip the audit log.
        raw_moment(session, case((col(Ticket.status) == CLOSED, closed_at))),
    ).where(col(Ticket.created_at) >= start, col(Ticket.created_at) < end)
    if period.mailbox_id:
        query = query.where(col(Ticket.mailbox_id) == period.mailbox_id)
    # Core rows, not the ORM's: nothing here is an entity, and tens of thousands of rows
    # cost a third less without its result machinery.
    return session.connection().execute(query).all()


def _mondays(period: ReportPeriod, calendar: ServiceCalendar) -> tuple[list[float], list[date]]:
    """The Mondays of the period's weeks and when each begins (POSIX seconds), for bisect."""
    monday = period.start - timedelta(days=period.start.weekday())
    mondays = []
    while monday <= period.end:
        mondays.append(monday)
        monday += timedelta(days=7)
    return [calendar.at(m, time(0)).timestamp() for m in mondays], mondays


def response_times(
    session: Session,
    period: ReportPeriod,
    calendar: ServiceCalendar | None = None,
    now: datetime | None = None,
) -> TimesReport:
    """First response and resolution times of the period's tickets, by week and by mailbox."""
    cal = calendar or calendar_from_settings()
    start, end = bounds(period, cal)
    no_jit(session)
    rows = _ticket_moments(session, period, start, end)
    today = cal.local(now or datetime.now(UTC)).date()
    clock = BusinessClock(cal, period.start, max(today, period.end) + timedelta(days=1))
    week_first: dict[date, list[float]] = defaultdict(list)
    week_done: dict[date, list[float]] = defaultdict(list)
    box_first: dict[int | None, list[float]] = defaultdict(list)
    box_done: dict[int | None, list[float]] = defaultdict(list)
    starts, mondays = _mondays(period, cal)
    for mailbox_id, created_raw, status, first_in_raw, reply_raw, closed_raw in rows:
        created = moment_seconds(created_raw) or 0.0
        monday = mondays[bisect_right(starts, created) - 1]
        first_in, reply = moment_seconds(first_in_raw), moment_seconds(reply_raw)
        if first_in is not None and reply is not None:
            seconds = clock.between_seconds(first_in, reply)
            week_first[monday].append(seconds)
            box_first[mailbox_id].append(seconds)
        closed = moment_seconds(closed_raw) if status == CLOSED else None
        if closed is not None:
            seconds = clock.between_seconds(created, closed)
            week_done[monday].append(seconds)
            box_done[mailbox_id].append(seconds)
    weeks = sorted(set(week_first) | set(week_done))
    by_week = [
        TimesRow(
            week=f"{monday.isocalendar().year}-W{monday.isocalendar().week:02d}",
            week_start=monday,
            first_response=stats(week_first[monday]),
            resolution=stats(week_done[monday]),
        )
        for monday in weeks
    ]
    boxes = {
        b.id: b.address
        for b in session.exec(
            select(Mailbox).where(col(Mailbox.id).in_([i for i in box_first | box_done if i]))
        )
    }
    by_mailbox = [
        TimesRow(
            mailbox=boxes.get(box_id) if box_id else None,
            first_response=stats(box_first[box_id]),
            resolution=stats(box_done[box_id]),
        )
        for box_id in sorted(
            set(box_first) | set(box_done), key=lambda i: boxes.get(i, "") if i else ""
        )
    ]
    return TimesReport(period=period_read(session, period), by_week=by_week, by_mailbox=by_mailbox)
