"""Reports: when mail and calls come, the open backlog, who handled what (read only).

Every count is made by the database with GROUP BY on SQLite and PostgreSQL: rows are
counted per Helsinki hour or day on PostgreSQL, per UTC hour on SQLite (``hour_bucket``),
and Python only folds those buckets into Helsinki weekdays, hours and days.
Finland's offsets from UTC are whole hours, so a UTC hour never straddles a local hour.
The response and resolution times are in ``report_times``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Integer, String, and_, case, cast, false, func, or_, text, true, type_coerce
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from helpdesk.db import is_postgres
from helpdesk.hookspecs import ReportPeriod
from helpdesk.i18n import N_
from helpdesk.models import Agent, AuditEvent, Call, Mailbox, Message, Ticket
from helpdesk.models.reports import (
    AgentRow,
    AgentsReport,
    BacklogDay,
    BacklogReport,
    CallsHour,
    CallsReport,
    Heatmap,
    PeriodRead,
    VolumeReport,
)
from helpdesk.models.tickets import TicketStatus
from helpdesk.service_hours import ServiceCalendar, calendar_from_settings
from helpdesk.services.errors import ServiceError

#: The longest period one report counts (a year and a leap day).
MAX_DAYS = 366
#: What the page shows without a choice: the last twelve weeks up to today.
DEFAULT_DAYS = 84
CLOSED = TicketStatus.closed.value
#: Not closed: the backlog (an IN list, so the status index answers).
OPEN_STATUSES = tuple(s.value for s in TicketStatus if s != TicketStatus.closed)
#: SQLite keeps naive UTC text: seconds are counted from this naive epoch.
NAIVE_EPOCH = datetime(1970, 1, 1)
#: The dates a period may cover (far outside them a date has no UTC moment).
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


def default_period(today: date, mailbox_id: int | None = None) -> ReportPeriod:
    """The twelve weeks that end today."""
    return ReportPeriod(today - timedelta(days=DEFAULT_DAYS - 1), today, mailbox_id)


def make_period(start: date, end: date, mailbox_id: int | None = None) -> ReportPeriod:
    """A period from ``start`` to ``end``, both included; a wrong one is a ServiceError."""
    if not (start >= EARLIEST and end <= LATEST):
        raise ServiceError(N_("Choose dates between 2000 and 2099"))
    if end < start:
        raise ServiceError(N_("The end date is before the start date"))
    if (end - start).days >= MAX_DAYS:
        raise ServiceError(N_("A report covers at most 366 days"))
    return ReportPeriod(start, end, mailbox_id)


def bounds(period: ReportPeriod, calendar: ServiceCalendar) -> tuple[datetime, datetime]:
    """The period as UTC moments: from its first day's midnight to the midnight after its last."""
    start = calendar.at(period.start, time(0)).astimezone(UTC)
    end = calendar.at(period.end + timedelta(days=1), time(0)).astimezone(UTC)
    return start, end


def days_of(period: ReportPeriod) -> list[date]:
    """Every date of the period, in order."""
    return [period.start + timedelta(days=n) for n in range((period.end - period.start).days + 1)]


def period_read(session: Session, period: ReportPeriod) -> PeriodRead:
    """The period as the API shows it, with the mailbox's address."""
    box = session.get(Mailbox, period.mailbox_id) if period.mailbox_id else None
    return PeriodRead(start=period.start, end=period.end, mailbox=box.address if box else None)


def plain_plans(session: Session) -> None:
    """For the rest of this read, no JIT and no parallel workers on PostgreSQL: a report's
    estimated cost is high enough to trigger both, and compiling (~1 s) or starting
    workers (~15 ms, more on a busy machine) takes longer than the index scans they serve."""
    if is_postgres(session):
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))


def raw_moment(session: Session, column: Any) -> ColumnElement[Any]:
    """A UTC timestamp as the driver gives it, unparsed: ``moment_seconds`` reads it.

    SQLite's own date functions parse text slowly (a few microseconds a row), so SQLite
    hands over its stored text; PostgreSQL gives POSIX seconds.
    """
    if is_postgres(session):
        return func.extract("epoch", column)
    return type_coerce(column, String)


def moment_seconds(value: Any) -> float | None:
    """POSIX seconds of what ``raw_moment`` selected (None stays None)."""
    if value is None:
        return None
    if isinstance(value, str):  # SQLite: naive UTC text
        return (datetime.fromisoformat(value) - NAIVE_EPOCH).total_seconds()
    return float(value)


def hour_bucket(
    session: Session, column: Any, calendar: ServiceCalendar, unit: str = "hour"
) -> ColumnElement[Any]:
    """A timestamp column's bucket to GROUP BY: on PostgreSQL the calendar's wall-clock
    ``unit`` (``hour`` or ``day``: ``date_trunc`` of the local time, so the database folds
    the hours and Python reads a few hundred rows, not thousands), on SQLite the
    ``YYYY-MM-DD HH`` prefix of the stored UTC text (cheap to cut; SQLite knows no zones)."""
    if is_postgres(session):
        return func.date_trunc(unit, func.timezone(calendar.tz, column))
    return func.substr(column, 1, 13)


def local_hours(
    rows: Iterable[tuple[Any, int]], calendar: ServiceCalendar
) -> list[tuple[datetime, int]]:
    """``(bucket, count)`` rows as ``(Helsinki start of that hour or day, count)``."""
    zone = calendar.zone
    found = []
    for bucket, count in rows:
        if isinstance(bucket, str):  # SQLite: a UTC hour
            start = datetime.fromisoformat(bucket + ":00").replace(tzinfo=UTC).astimezone(zone)
        else:  # PostgreSQL: the naive wall-clock time already
            start = bucket
        found.append((start, int(count)))
    return found


def _heatmap(rows: Iterable[tuple[Any, int]], calendar: ServiceCalendar) -> Heatmap:
    cells = [[0] * 24 for _ in range(7)]
    for moment, count in local_hours(rows, calendar):
        cells[moment.weekday()][moment.hour] += count
    return Heatmap(total=sum(map(sum, cells)), cells=cells)


def spam_ticket_ids() -> Any:
    """The tickets marked as spam (few, read through their partial index): no report counts
    them, their mail or their status changes."""
    return select(Ticket.id).where(col(Ticket.spam) == true())


def _counts_by_hour(
    session: Session, calendar: ServiceCalendar, column: Any, *where: Any, unit: str = "hour"
) -> list[tuple[Any, int]]:
    bucket = hour_bucket(session, column, calendar, unit).label("bucket")
    rows = session.exec(select(bucket, func.count()).where(*where).group_by(bucket)).all()
    return [(b, int(n)) for b, n in rows]


def volume(
    session: Session, period: ReportPeriod, calendar: ServiceCalendar | None = None
) -> VolumeReport:
    """Incoming mail (of the mailbox, if one is chosen) and incoming calls by weekday and hour."""
    cal = calendar or calendar_from_settings()
    start, end = bounds(period, cal)
    mail_where = [
        Message.kind == "incoming",
        col(Message.created_at) >= start,
        col(Message.created_at) < end,
        or_(col(Message.ticket_id).is_(None), col(Message.ticket_id).not_in(spam_ticket_ids())),
    ]
    if period.mailbox_id:
        mail_where.append(Message.mailbox_id == period.mailbox_id)
    mail = _counts_by_hour(session, cal, Message.created_at, *mail_where)
    calls = _counts_by_hour(
        session,
        cal,
        Call.started_at,
        Call.direction == "incoming",
        col(Call.started_at) >= start,
        col(Call.started_at) < end,
    )
    return VolumeReport(
        period=period_read(session, period),
        mail=_heatmap(mail, cal),
        calls=_heatmap(calls, cal),
    )


def calls_by_hour(
    session: Session, period: ReportPeriod, calendar: ServiceCalendar | None = None
) -> CallsReport:
    """Calls per hour of the day, incoming and outgoing."""
    cal = calendar or calendar_from_settings()
    start, end = bounds(period, cal)
    bucket = hour_bucket(session, Call.started_at, cal).label("bucket")
    rows = session.exec(
        select(bucket, Call.direction, func.count())
        .where(col(Call.started_at) >= start, col(Call.started_at) < end)
        .group_by(bucket, Call.direction)
    ).all()
    incoming, outgoing = [0] * 24, [0] * 24
    for bucket_value, direction, count in rows:
        (moment, n) = local_hours([(bucket_value, int(count))], cal)[0]
        (incoming if direction == "incoming" else outgoing)[moment.hour] += n
    return CallsReport(
        period=period_read(session, period),
        hours=[CallsHour(hour=h, incoming=incoming[h], outgoing=outgoing[h]) for h in range(24)],
    )


def _status_change() -> ColumnElement[int]:
    """+1 for an audit event that reopened a closed ticket, -1 for one that closed it."""
    old = AuditEvent.details["old"].as_string()
    new = AuditEvent.details["new"].as_string()
    action = col(AuditEvent.action)
    closes = and_(action == "ticket.status", new == CLOSED, old != CLOSED)
    reopens = and_(old == CLOSED, or_(action == "ticket.reopen", new != CLOSED))
    return case((closes, -1), (reopens, 1), else_=0)


def backlog(
    session: Session,
    period: ReportPeriod,
    calendar: ServiceCalendar | None = None,
    now: datetime | None = None,
) -> BacklogReport:
    """Open and pending tickets at the end of each day, counted back from today's number.

    Today's count is exact (the tickets' status); each earlier day takes off the tickets
    created after it and undoes the closings and reopenings after it (the audit log).
    """
    cal = calendar or calendar_from_settings()
    start, _ = bounds(period, cal)
    ticket_where: list[Any] = []
    if period.mailbox_id:
        ticket_where.append(Ticket.mailbox_id == period.mailbox_id)
    # By id, not by the spam column: the status index holds the id, so this stays a count
    # of the index alone.
    not_spam = col(Ticket.id).not_in(spam_ticket_ids())
    current = session.exec(
        select(func.count())
        .select_from(Ticket)
        .where(col(Ticket.status).in_(OPEN_STATUSES), not_spam, *ticket_where)
    ).one()
    created = _counts_by_hour(
        session,
        cal,
        Ticket.created_at,
        col(Ticket.created_at) >= start,
        col(Ticket.spam) == false(),
        *ticket_where,
        unit="day",
    )
    bucket = hour_bucket(session, AuditEvent.at, cal, "day").label("bucket")
    changes_q = (
        select(bucket, func.sum(_status_change()))
        .where(
            col(AuditEvent.action).in_(("ticket.status", "ticket.reopen")),
            col(AuditEvent.at) >= start,
            AuditEvent.object_type == "ticket",
            cast(AuditEvent.object_id, Integer).not_in(spam_ticket_ids()),
        )
        .group_by(bucket)
    )
    if period.mailbox_id:
        changes_q = changes_q.join(
            Ticket, col(Ticket.id) == cast(AuditEvent.object_id, Integer)
        ).where(*ticket_where)
    changes = [(b, int(n or 0)) for b, n in session.exec(changes_q).all()]
    # What happened on each local day from the period's start on: +created, ±status.
    per_day: dict[date, int] = {}
    for moment, n in local_hours(created, cal) + local_hours(changes, cal):
        per_day[moment.date()] = per_day.get(moment.date(), 0) + n
    today = cal.local(now or datetime.now(UTC)).date()
    level = current - sum(n for day, n in per_day.items() if day > period.end)
    days: list[BacklogDay] = []
    for day in reversed(days_of(period)):
        if day <= today:
            days.append(BacklogDay(day=day, open=level))
        level -= per_day.get(day, 0)
    return BacklogReport(period=period_read(session, period), days=days[::-1])


def agents(
    session: Session, period: ReportPeriod, calendar: ServiceCalendar | None = None
) -> AgentsReport:
    """Per agent: tickets with a reply or call of theirs in the period, the replies and calls."""
    cal = calendar or calendar_from_settings()
    start, end = bounds(period, cal)
    where = [
        col(Message.kind).in_(("outgoing", "call")),
        col(Message.author_id).is_not(None),
        col(Message.created_at) >= start,
        col(Message.created_at) < end,
        or_(col(Message.delivery_status).is_(None), col(Message.delivery_status) != "cancelled"),
    ]
    if period.mailbox_id:
        where.append(col(Message.mailbox_id) == period.mailbox_id)
    rows = session.exec(
        select(
            Message.author_id,
            func.count(func.distinct(Message.ticket_id)),
            func.sum(case((col(Message.kind) == "outgoing", 1), else_=0)),
            func.sum(case((col(Message.kind) == "call", 1), else_=0)),
        )
        .where(*where)
        .group_by(col(Message.author_id))
    ).all()
    names = {
        a.id: a.name
        for a in session.exec(select(Agent).where(col(Agent.id).in_([r[0] for r in rows])))
    }
    found = [
        AgentRow(
            agent_id=int(aid or 0),
            agent=names.get(aid, str(aid)),
            tickets=int(tickets),
            replies=int(replies or 0),
            calls=int(calls or 0),
        )
        for aid, tickets, replies, calls in rows
    ]
    found.sort(key=lambda r: (-r.tickets, r.agent))
    return AgentsReport(period=period_read(session, period), agents=found)
