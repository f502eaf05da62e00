"""Reading the queue: what waits and by when, the 15:00 alert, the end-of-day summary.

Read-only helpers for pages, the API and the hooks; the sync is the only writer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, func, select

from helpdesk.plugin_api import N_, Agent, NotFound, TicketLink, as_id
from plugins.invoices.models import QUEUE_STATUSES, Invoice, InvoiceEvent
from plugins.invoices.rules.deadline import InvoiceDeadline
from plugins.invoices.settings import deadline_rules, invoice_settings


@dataclass(frozen=True)
class QueueRow:
    """One invoice in the queue with its time left (negative: overdue)."""

    invoice: Invoice
    time_left: timedelta

    @property
    def overdue(self) -> bool:
        return self.time_left < timedelta(0)


def get_invoice(session: Session, invoice_id: int) -> Invoice:
    """One invoice, or NotFound."""
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFound(N_("No such invoice"))
    return invoice


def queue(session: Session, now: datetime, *, due_today: bool = False) -> list[QueueRow]:
    """The invoices waiting for the team, the nearest deadline first; ``due_today``: only
    those that must go by today's deadline (or are late), the ones the alert counts."""
    query = select(Invoice).where(col(Invoice.status).in_(QUEUE_STATUSES))
    if due_today:
        query = query.where(_due_by_today(now))
    rows = session.exec(query.order_by(col(Invoice.deadline_at), col(Invoice.id))).all()
    return [QueueRow(inv, InvoiceDeadline.time_left(inv.deadline_at, now)) for inv in rows]


def today_deadline(now: datetime, rules: InvoiceDeadline | None = None) -> datetime:
    """Today's cutoff plus the margin, in UTC (whether or not today is a business day)."""
    rules = rules or deadline_rules()
    day = rules.calendar.local(now).date()
    return rules.calendar.at(day, rules.cutoff, rules.margin).astimezone(UTC)


def due_today_unsent(session: Session, now: datetime) -> int:
    """How many queued invoices are due by today's deadline (or already late)."""
    return session.exec(
        select(func.count())
        .select_from(Invoice)
        .where(col(Invoice.status).in_(QUEUE_STATUSES), _due_by_today(now))
    ).one()


def _due_by_today(now: datetime) -> ColumnElement[bool]:
    """Due by today's deadline: what the 14:30 alert counts and its link lists."""
    return col(Invoice.deadline_at) <= today_deadline(now)


def alert_count(session: Session, now: datetime) -> int:
    """Invoices to alert about: inside the window before the cutoff, today's still unsent."""
    rules = deadline_rules()
    if not rules.alert_active(now, invoice_settings().alert_window):
        return 0
    return due_today_unsent(session, now)


@dataclass(frozen=True)
class EndOfDay:
    """What came in for one day's deadline, what of it went out, and what is still waiting."""

    day: date
    deadline: datetime
    gone: list[Invoice]
    waiting: list[Invoice]
    late_from_earlier: list[Invoice]
    after_cutoff: list[Invoice]


def end_of_day(session: Session, day: date) -> EndOfDay:
    """The summary for ``day`` (Helsinki date)."""
    rules = deadline_rules()
    cal = rules.calendar
    start = cal.at(day, rules.cutoff.replace(hour=0, minute=0)).astimezone(UTC)
    end = cal.at(day + timedelta(days=1), rules.cutoff.replace(hour=0, minute=0)).astimezone(UTC)
    cutoff = cal.at(day, rules.cutoff).astimezone(UTC)
    deadline = cal.at(day, rules.cutoff, rules.margin).astimezone(UTC)
    due_that_day = session.exec(
        select(Invoice)
        .where(col(Invoice.deadline_at) >= start, col(Invoice.deadline_at) < end)
        .order_by(col(Invoice.first_seen_at), col(Invoice.id))
    ).all()
    earlier = session.exec(
        select(Invoice)
        .where(col(Invoice.status).in_(QUEUE_STATUSES), col(Invoice.deadline_at) < start)
        .order_by(col(Invoice.deadline_at), col(Invoice.id))
    ).all()
    later = session.exec(
        select(Invoice)
        .where(col(Invoice.first_seen_at) > cutoff, col(Invoice.first_seen_at) < end)
        .order_by(col(Invoice.first_seen_at), col(Invoice.id))
    ).all()
    return EndOfDay(
        day=day,
        deadline=deadline,
        gone=[i for i in due_that_day if i.status not in QUEUE_STATUSES],
        waiting=[i for i in due_that_day if i.status in QUEUE_STATUSES],
        late_from_earlier=list(earlier),
        after_cutoff=[i for i in later if i.deadline_at >= end],
    )


def history(session: Session, invoice: Invoice) -> list[tuple[InvoiceEvent, Agent | None]]:
    """The invoice's events, oldest first, with the agent who caused each (if any)."""
    events = session.exec(
        select(InvoiceEvent)
        .where(InvoiceEvent.invoice_id == invoice.id)
        .order_by(col(InvoiceEvent.at), col(InvoiceEvent.id))
    ).all()
    agents = {a.id: a for a in session.exec(select(Agent))}
    return [(e, agents.get(e.agent_id) if e.agent_id else None) for e in events]


def invoices_of_user(
    session: Session, etunnus: str, user_id: int | None, limit: int = 50
) -> Sequence[Invoice]:
    """A user's invoices, newest first (matched on the number's prefix or the link)."""
    condition = Invoice.etunnus == etunnus
    if user_id is not None:
        condition = condition | (Invoice.user_id == user_id)
    return session.exec(
        select(Invoice)
        .where(condition)
        .order_by(col(Invoice.first_seen_at).desc(), col(Invoice.id).desc())
        .limit(limit)
    ).all()


def linked_to_ticket(session: Session, ticket_id: int) -> Sequence[Invoice]:
    """Invoices the ticket is linked to (TicketLink rows of kind ``invoice``)."""
    targets = session.exec(
        select(TicketLink.target).where(
            TicketLink.ticket_id == ticket_id, TicketLink.kind == "invoice"
        )
    ).all()
    ids = [i for i in map(as_id, targets) if i is not None]
    if not ids:
        return []
    return session.exec(
        select(Invoice).where(col(Invoice.id).in_(ids)).order_by(col(Invoice.deadline_at))
    ).all()
