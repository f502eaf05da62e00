""" "Send all clean": every waiting invoice whose checks pass goes in one action.

Each invoice is started with ``start_dispatch`` like a single click (one unit of work
each, through the same gate, with no override), so a failing check, a Korjattava
invoice or one another agent is already sending is left with its reason and never stops
the others. Exactly once holds as for one click: the one-active-dispatch index refuses a
second start, and with a ``key`` (one per button press) a repeated request answers the
dispatches the first one started.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from helpdesk.plugin_api import N_, Agent, ServiceError
from plugins.invoices.dispatch.gate import ChecksFailed
from plugins.invoices.dispatch.service import ActiveDispatch, start_dispatch
from plugins.invoices.models import Dispatch, Invoice, InvoiceStatus
from plugins.invoices.rules.checks import CheckResult


@dataclass(frozen=True)
class Started:
    """An invoice that went (its dispatch runs on in the worker)."""

    invoice: Invoice
    dispatch: Dispatch


@dataclass(frozen=True)
class Skipped:
    """An invoice left in the queue: ``code`` and ``message`` (a msgid) say why."""

    invoice: Invoice
    code: str
    message: str
    failed: list[CheckResult] = field(default_factory=list)


@dataclass(frozen=True)
class CleanRun:
    """What one "send all clean" did."""

    sent: list[Started]
    skipped: list[Skipped]


def candidates(session: Session, invoice_ids: Sequence[int] | None) -> list[Invoice]:
    """The invoices to try: those given, or every one waiting or Korjattava, by deadline."""
    query = select(Invoice).order_by(col(Invoice.deadline_at), col(Invoice.id))
    if invoice_ids is None:
        query = query.where(
            col(Invoice.status).in_([InvoiceStatus.unsent, InvoiceStatus.korjattava])
        )
    else:
        query = query.where(col(Invoice.id).in_(list(invoice_ids)))
    return list(session.exec(query))


def dispatch_clean(
    session: Session,
    *,
    agent: Agent,
    invoice_ids: Sequence[int] | None = None,
    key: str | None = None,
) -> CleanRun:
    """Start every clean invoice of ``invoice_ids`` (default: the whole queue). Commits.

    ``invoice_ids`` are what the agent saw (an invoice that arrived since is not sent
    unseen); ``key`` makes a repeated request answer the same dispatches.
    """
    sent: list[Started] = []
    skipped: list[Skipped] = []
    for invoice in candidates(session, invoice_ids):
        try:
            dispatch = start_dispatch(
                session,
                invoice=invoice,
                agent=agent,
                idempotency_key=f"clean-{agent.id}-{key}-{invoice.id}" if key else None,
            )
        except ActiveDispatch as exc:
            skipped.append(Skipped(invoice, exc.code, exc.message))
        except ChecksFailed as exc:
            skipped.append(Skipped(invoice, exc.code, N_("Failing checks"), exc.failed))
        except ServiceError as exc:  # Korjattava, not waiting, no method or recipient
            skipped.append(Skipped(invoice, exc.code, exc.message))
        else:
            sent.append(Started(invoice, dispatch))
    return CleanRun(sent, skipped)
