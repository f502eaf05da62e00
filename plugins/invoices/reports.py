"""The same-day promise measured day by day (read only): the Reports page's invoice section.

For every business day of a period: the invoices whose deadline is that day (first seen
by its cutoff, since the previous business day's cutoff: ``InvoiceDeadline.promise_window``),
and what became of each by the day's deadline (cutoff plus margin):

- ``korjattava``: marked Korjattava by then (the user was asked: the team acted in time);
- ``same_day``: left the queue by then (sent on, or left Netvisor's unsent list);
- ``waiting``: neither, and the deadline is still ahead (today);
- ``late``: neither, and the deadline has passed.

The kept share is (same day + Korjattava) / (all but waiting). The days are a small table
of literal rows (one SELECT per business day, UNION ALL) joined to the invoices, and the
database counts each outcome with GROUP BY, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Date, and_, case, func, literal, union_all
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from helpdesk.plugin_api import ReportPeriod, UTCDateTime
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


def _days_table(days: list[date], rules: InvoiceDeadline) -> Any:
    rows = []
    for day in days:
        opens, cutoff = rules.promise_window(day)
        deadline = rules.deadline_for(cutoff)
        rows.append(
            sa_select(
                literal(day, Date).label("day"),
                literal(opens, UTCDateTime()).label("opens"),
                literal(cutoff, UTCDateTime()).label("cutoff"),
                literal(deadline, UTCDateTime()).label("deadline"),
            )
        )
    return (union_all(*rows) if len(rows) > 1 else rows[0]).cte("promise_days")


def _first_marked() -> Any:
    return (
        select(Correction.invoice_id, func.min(Correction.marked_at).label("marked_at"))
        .group_by(col(Correction.invoice_id))
        .subquery("first_marked")
    )


def _due(days: Any, marked: Any, *columns: Any) -> Any:
    """``columns`` of each day's invoices (first seen in its window) with their first marking."""
    window = and_(
        col(Invoice.first_seen_at) > days.c.opens, col(Invoice.first_seen_at) <= days.c.cutoff
    )
    return (
        sa_select(*columns)
        .select_from(days)
        .join(Invoice, window)
        .outerjoin(marked, marked.c.invoice_id == col(Invoice.id))
    )


def _outcome(days: Any, marked: Any, now: datetime) -> Any:
    return case(
        (marked.c.marked_at <= days.c.deadline, "korjattava"),
        (col(Invoice.left_unsent_at) <= days.c.deadline, "same_day"),
        (days.c.deadline > literal(now, UTCDateTime()), "waiting"),
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
    table, marked = _days_table(days, rules), _first_marked()
    outcome = _outcome(table, marked, now)
    counted = [func.sum(case((outcome == name, 1), else_=0)) for name in OUTCOMES]
    query = _due(table, marked, table.c.day, *counted).group_by(table.c.day)
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
    table, marked = _days_table([day], rules), _first_marked()
    outcome = _outcome(table, marked, now).label("outcome")
    rows = session.execute(
        _due(table, marked, Invoice, marked.c.marked_at, outcome).order_by(
            col(Invoice.first_seen_at), col(Invoice.id)
        )
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
