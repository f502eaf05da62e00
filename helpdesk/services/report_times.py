"""First response and resolution times, in business hours, by week and by mailbox.

Each ticket keeps its two durations (``helpdesk.services.ticket_clocks``, set when the
first reply is written and when the ticket is closed), so the report is SQL aggregates
over the tickets that came in in the period, read from the reports' ticket index: the
count, the median and the nearest-rank 90th percentile per week and per mailbox.
PostgreSQL has them as ordered-set aggregates (``percentile_cont(0.5)`` is the median,
``percentile_disc(0.9)`` the nearest rank); SQLite numbers each group's rows with window
functions and picks the middle and the 90 % row.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Integer, and_, case, false, func, literal, or_, union_all
from sqlalchemy import select as sa_select
from sqlalchemy.sql import Select
from sqlmodel import Session, col, select

from helpdesk.db import is_postgres
from helpdesk.hookspecs import ReportPeriod
from helpdesk.models import Mailbox, Ticket
from helpdesk.models.base import UTCDateTime
from helpdesk.models.reports import DurationStats, TimesReport, TimesRow
from helpdesk.service_hours import ServiceCalendar, calendar_from_settings
from helpdesk.services.reports import bounds, period_read, plain_plans

HOUR = 3600.0
#: The two stored durations a report row shows.
MEASURES = {"first": col(Ticket.first_response_seconds), "done": col(Ticket.resolution_seconds)}
NONE_STATS = DurationStats(count=0, median_hours=None, p90_hours=None)


def _hours(seconds: Any) -> float | None:
    return None if seconds is None else round(float(seconds) / HOUR, 2)


def _stats(count: Any, median: Any, p90: Any) -> DurationStats:
    return DurationStats(count=int(count), median_hours=_hours(median), p90_hours=_hours(p90))


def _quantiles(
    session: Session, source: Callable[[list[str]], Select[Any, Any]]
) -> dict[str, dict[int, DurationStats]]:
    """Per measure (``first``, ``done``) and per group: count, median and 90th percentile.

    ``source(names)`` selects ``grp`` and the named measures of the tickets that have one
    of them at least (a null where a ticket has not that one)."""
    found: dict[str, dict[int, DurationStats]] = {name: {} for name in MEASURES}
    if is_postgres(session):
        src = source(list(MEASURES)).subquery()
        # One scan for both measures: the ordered-set aggregates skip nulls.
        figures = []
        for name in MEASURES:
            figures += [
                func.count(src.c[name]),
                func.percentile_cont(0.5).within_group(src.c[name]),
                func.percentile_disc(0.9).within_group(src.c[name]),
            ]
        for grp, *row in session.connection().execute(
            sa_select(src.c.grp, *figures).group_by(src.c.grp)
        ):
            for i, name in enumerate(MEASURES):
                if row[3 * i]:
                    found[name][int(grp)] = _stats(*row[3 * i : 3 * i + 3])
        return found
    # SQLite: one measure at a time, so that its "not null" narrows the index scan.
    for name in MEASURES:
        src = source([name]).subquery()
        seconds = src.c[name]
        ranked = sa_select(
            src.c.grp,
            seconds.label("s"),
            func.row_number().over(partition_by=src.c.grp, order_by=seconds).label("rn"),
            func.count().over(partition_by=src.c.grp).label("n"),
        ).subquery()
        rn, n = ranked.c.rn, ranked.c.n
        middle = or_(rn == (n + 1) // 2, rn == (n + 2) // 2)
        query = sa_select(
            ranked.c.grp,
            n,
            func.avg(case((middle, ranked.c.s))),
            # Nearest rank: row ceil(0.9 n), in integers.
            func.max(case((rn == (9 * n + 9) // 10, ranked.c.s))),
        ).group_by(ranked.c.grp, n)
        for grp, *row in session.connection().execute(query):
            found[name][int(grp)] = _stats(*row)
    return found


def _mondays(period: ReportPeriod) -> list[date]:
    """The Mondays of the period's weeks."""
    monday = period.start - timedelta(days=period.start.weekday())
    mondays = []
    while monday <= period.end:
        mondays.append(monday)
        monday += timedelta(days=7)
    return mondays


def _weeks(period: ReportPeriod, calendar: ServiceCalendar) -> tuple[Any, list[date]]:
    """The period's weeks as a small table (``i``, ``ws``, ``we``: from Monday midnight to
    the next, in UTC) to join the tickets to, and each week's Monday."""
    mondays = _mondays(period)
    start, end = bounds(period, calendar)
    rows = []
    for i, monday in enumerate(mondays):
        ws = max(start, calendar.at(monday, time(0)))
        we = min(end, calendar.at(monday + timedelta(days=7), time(0)))
        rows.append(
            sa_select(
                literal(i, Integer).label("i"),
                literal(ws, UTCDateTime()).label("ws"),
                literal(we, UTCDateTime()).label("we"),
            )
        )
    return union_all(*rows).cte("weeks"), mondays


def response_times(
    session: Session,
    period: ReportPeriod,
    calendar: ServiceCalendar | None = None,
    now: datetime | None = None,
) -> TimesReport:
    """First response and resolution times of the period's tickets, by week and by mailbox.

    ``now`` is not needed (the durations are stored); it stays for the callers' symmetry
    with the other reports.
    """
    cal = calendar or calendar_from_settings()
    start, end = bounds(period, cal)
    plain_plans(session)
    weeks, mondays = _weeks(period, cal)
    created = col(Ticket.created_at)
    # The mailbox chosen, and never spam: no work was done on it.
    where = [col(Ticket.spam) == false()]
    if period.mailbox_id:
        where.append(col(Ticket.mailbox_id) == period.mailbox_id)

    def measured(names: list[str]) -> tuple[list[Any], Any]:
        # Tickets with none of the figures need not be read.
        some = or_(*(MEASURES[n].is_not(None) for n in names))
        return [MEASURES[n].label(n) for n in names], some

    def in_weeks(names: list[str]) -> Select[Any, Any]:
        columns, some = measured(names)
        return (
            sa_select(weeks.c.i.label("grp"), *columns)
            .select_from(weeks)
            .join(Ticket, and_(created >= weeks.c.ws, created < weeks.c.we))
            .where(some, *where)
        )

    def in_boxes(names: list[str]) -> Select[Any, Any]:
        columns, some = measured(names)
        grp = func.coalesce(col(Ticket.mailbox_id), 0).label("grp")
        return sa_select(grp, *columns).where(created >= start, created < end, some, *where)

    by_week = _quantiles(session, in_weeks)
    by_box = _quantiles(session, in_boxes)
    week_rows = []
    for i in sorted(set(by_week["first"]) | set(by_week["done"])):
        monday = mondays[i]
        week_rows.append(
            TimesRow(
                week=f"{monday.isocalendar().year}-W{monday.isocalendar().week:02d}",
                week_start=monday,
                first_response=by_week["first"].get(i, NONE_STATS),
                resolution=by_week["done"].get(i, NONE_STATS),
            )
        )
    box_ids = set(by_box["first"]) | set(by_box["done"])
    boxes = {
        b.id: b.address
        for b in session.exec(select(Mailbox).where(col(Mailbox.id).in_([i for i in box_ids if i])))
    }
    box_rows = [
        TimesRow(
            mailbox=boxes.get(box_id) if box_id else None,
            first_response=by_box["first"].get(box_id, NONE_STATS),
            resolution=by_box["done"].get(box_id, NONE_STATS),
        )
        for box_id in sorted(box_ids, key=lambda i: boxes.get(i, "") if i else "")
    ]
    return TimesReport(period=period_read(session, period), by_week=week_rows, by_mailbox=box_rows)
