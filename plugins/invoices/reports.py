"""The same-day promise measured day by day (read only): the Reports page's invoice section.

For every business day of a period: the invoices whose deadline is that day (first seen
by its cutoff, since the previous business day's cutoff: ``InvoiceDeadline.promise_window``),
and what became of each by the day's deadline (cutoff plus margin):

- ``korjattava``: marked Korjattava by then (the user was asked: the team acted in time);
- ``same_day``: left the queue by then (sent on, or left Netvisor's unsent list);
- ``waiting``: neither, and the deadline is still ahead (today);
- ``late``: neither, and the deadline has passed.

The kept share is (same day + Korjattava) / (all but waiting). The calendar is a small
VALUES table (one row per date: its cutoff and deadline and the next business day's),
joined to the invoices on equality of the sighting's UTC date, so the invoices are read
once; the database counts each outcome with GROUP BY, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Date, and_, case, cast, column, func, literal, values
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from helpdesk.plugin_api import ReportPeriod, UTCDateTime, is_postgres
from plugins.invoices.models import Correction, Invoice
from plugins.invoices.rules.deadline import InvoiceDeadline
from plugins.invoices.settings import deadline_rules

OUTCOMES = ("same_day", "korjattava", "late", "waiting")


class PromiseDay(BaseModel):
    """One business day: invoices due that day and what became of them by its deadline."""

    day: date
    deadline: datetime
    promised: int
    same_day: int
    korjattava: int
    late: int
    waiting: int
    #: Percent kept of those decided (None when none is decided yet).
    kept_percent: float | None


class PromiseReport(BaseModel):
    """``/api/v1/reports/same-day``: every business day of the period, oldest first.

    Invoices belong to no mailbox: the mailbox filter is ignored.
    """

    start: date
    end: date
    days: list[PromiseDay]


class PromiseInvoice(BaseModel):
    """One invoice behind a day's figures."""

    id: int
    number: str
    customer_name: str
    first_seen_at: datetime
    left_unsent_at: datetime | None
    korjattava_at: datetime | None
    status: str
    outcome: str


class PromiseDayDetail(BaseModel):
    """``/api/v1/reports/same-day/{day}``: the day's figures and the invoices behind them."""

    summary: PromiseDay
    invoices: list[PromiseInvoice]


def business_days(period: ReportPeriod, rules: InvoiceDeadline) -> list[date]:
    """The period's business days, oldest first."""
    count = (period.end - period.start).days + 1
    every = (period.start + timedelta(days=n) for n in range(count))
    return [d for d in every if rules.calendar.is_business_day(d)]


def _dates_table(days: list[date], rules: InvoiceDeadline) -> Any:
    """One row per calendar date from the business day before ``days`` to the last of them.

    ``cutoff``, ``same_day`` and ``same_deadline`` are set on business days only (an
    invoice of that date seen by the cutoff is due that day); ``next_day`` and
    ``next_deadline`` take every later sighting (the next business day).
    """
    cal = rules.calendar
    rows = []
    day = cal.local(rules.promise_window(days[0])[0]).date()
    while day <= days[-1]:
        business = cal.is_business_day(day)
        cutoff = cal.at(day, rules.cutoff).astimezone(UTC) if business else None
        following = cal.next_business_day(day)
        rows.append(
            (
                day,
                cutoff,
                day if business else None,
                rules.deadline_for(cutoff) if cutoff else None,
                following,
                rules.deadline_for(cal.at(following, rules.cutoff)),
            )
        )
        day += timedelta(days=1)
    columns: list[Any] = [
        column("date", Date),
        column("cutoff", UTCDateTime()),
        column("same_day", Date),
        column("same_deadline", UTCDateTime()),
        column("next_day", Date),
        column("next_deadline", UTCDateTime()),
    ]
    return values(*columns, name="promise_dates").data(rows).cte("promise_dates")


def _utc_date(session: Session) -> Any:
    """The invoice's first sighting as a UTC date, the key into the dates table.

    The local and UTC dates differ only between local midnight and 02:00/03:00, long
    after the previous cutoff: such a sighting is due the business day after the UTC
    date, which is what the local date gives too.
    """
    if is_postgres(session):
        return cast(func.timezone("UTC", col(Invoice.first_seen_at)), Date)
    return func.date(col(Invoice.first_seen_at))  # SQLite keeps naive UTC text


class _Due:
    """Each invoice with its due day and deadline, joined in SQL (see the module docstring).

    The invoices of the days' windows are read once into a materialised CTE with their key,
    so that the join to the dates is a lookup: without it SQLite scans the invoices once per
    date (it cannot index the key expression).
    """

    def __init__(self, session: Session, days: list[date], rules: InvoiceDeadline) -> None:
        self.dates = _dates_table(days, rules)
        self.marked = (
            select(Correction.invoice_id, func.min(Correction.marked_at).label("marked_at"))
            .group_by(col(Correction.invoice_id))
            .subquery("first_marked")
        )
        opens, closes = rules.promise_window(days[0])[0], rules.promise_window(days[-1])[1]
        self.invoices = (
            sa_select(
                col(Invoice.id).label("id"),
                col(Invoice.first_seen_at).label("first_seen_at"),
                col(Invoice.left_unsent_at).label("left_unsent_at"),
                _utc_date(session).label("key"),
            )
            .where(col(Invoice.first_seen_at) > opens, col(Invoice.first_seen_at) <= closes)
            .cte("due_invoices")
            .prefix_with("MATERIALIZED")
        )
        dates, invoices = self.dates.c, self.invoices.c
        in_time = and_(dates.cutoff.is_not(None), invoices.first_seen_at <= dates.cutoff)
        self.day = case((in_time, dates.same_day), else_=dates.next_day)
        self.deadline = case((in_time, dates.same_deadline), else_=dates.next_deadline)

    def select(self, *columns: Any) -> Any:
        """``columns`` over the invoices first seen in the days' windows."""
        return (
            sa_select(*columns)
            .select_from(self.invoices)
            .join(self.dates, self.invoices.c.key == self.dates.c.date)
            .outerjoin(self.marked, self.marked.c.invoice_id == self.invoices.c.id)
        )

    def outcome(self, now: datetime) -> Any:
        return case(
            (self.marked.c.marked_at <= self.deadline, "korjattava"),
            (self.invoices.c.left_unsent_at <= self.deadline, "same_day"),
            (self.deadline > literal(now, UTCDateTime()), "waiting"),
            else_="late",
        )


def _summary(day: date, deadline: datetime, counts: dict[str, int]) -> PromiseDay:
    decided = counts["same_day"] + counts["korjattava"] + counts["late"]
    kept = counts["same_day"] + counts["korjattava"]
    return PromiseDay(
        day=day,
        deadline=deadline,
        promised=sum(counts.values()),
        kept_percent=round(100 * kept / decided, 1) if decided else None,
        **counts,
    )


def promise_report(
    session: Session, period: ReportPeriod, now: datetime, rules: InvoiceDeadline | None = None
) -> PromiseReport:
    """The same-day promise for every business day of the period."""
    rules = rules or deadline_rules()
    days = business_days(period, rules)
    if not days:
        return PromiseReport(start=period.start, end=period.end, days=[])
    due = _Due(session, days, rules)
    outcome = due.outcome(now)
    counted = [func.sum(case((outcome == name, 1), else_=0)) for name in OUTCOMES]
    query = due.select(due.day.label("due_day"), *counted).group_by(due.day)
    found: dict[date, dict[str, int]] = {}
    for row in session.execute(query):
        day = row[0] if isinstance(row[0], date) else date.fromisoformat(str(row[0]))
        found[day] = {name: int(n or 0) for name, n in zip(OUTCOMES, row[1:], strict=True)}
    empty = dict.fromkeys(OUTCOMES, 0)
    return PromiseReport(
        start=period.start,
        end=period.end,
        days=[
            _summary(day, rules.deadline_for(rules.promise_window(day)[1]), found.get(day, empty))
            for day in days
        ],
    )


def promise_day(
    session: Session, day: date, now: datetime, rules: InvoiceDeadline | None = None
) -> PromiseDayDetail | None:
    """One business day's figures and its invoices (None when ``day`` is no business day)."""
    rules = rules or deadline_rules()
    if not rules.calendar.is_business_day(day):
        return None
    due = _Due(session, [day], rules)
    rows = session.execute(
        due.select(Invoice, due.marked.c.marked_at, due.outcome(now).label("outcome"))
        .join(Invoice, col(Invoice.id) == due.invoices.c.id)
        .order_by(col(Invoice.first_seen_at), col(Invoice.id))
    ).all()
    invoices = [
        PromiseInvoice(
            id=inv.id or 0,
            number=inv.number,
            customer_name=inv.customer_name,
            first_seen_at=inv.first_seen_at,
            left_unsent_at=inv.left_unsent_at,
            korjattava_at=_aware(marked_at),
            status=str(inv.status),
            outcome=str(result),
        )
        for inv, marked_at, result in rows
    ]
    counts = dict.fromkeys(OUTCOMES, 0)
    for invoice in invoices:
        counts[invoice.outcome] += 1
    deadline = rules.deadline_for(rules.promise_window(day)[1])
    return PromiseDayDetail(summary=_summary(day, deadline, counts), invoices=invoices)


def _aware(value: Any) -> datetime | None:
    # min() over a timestamp comes back untyped: text on SQLite, aware on PostgreSQL.
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
