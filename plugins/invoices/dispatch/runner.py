"""The worker's part of dispatching: claim due dispatches, run their steps, send comments.

Dispatches are a queue of the core's work queue (``helpdesk.workqueue``, ``DISPATCHES``
in ``steps``): due dispatches are claimed under a lease (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, a conditional ``UPDATE ... WHERE claimed_by IS NULL`` on SQLite), committed
before any step runs, and the lease is renewed in the background while the steps run, so
a long Netvisor or Maventa call keeps its dispatch. A claim whose lease ran out, or whose
worker's process is gone, is released; the step it was in is idempotent, so running it
again is safe, and the worker that lost it writes nothing more (``LeaseLost``). The job
``invoices.dispatch`` runs every few seconds and on ``helpdesk worker --once``.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col

from helpdesk.plugin_api import Lease, LeaseLost, utcnow
from plugins.invoices.dispatch import comments
from plugins.invoices.dispatch.steps import DISPATCHES, Clients, Work, run_step
from plugins.invoices.models import Dispatch, DispatchState, Invoice
from plugins.invoices.settings import maventa_client, netvisor_client

log = logging.getLogger(__name__)

#: States the worker moves on by itself.
WORKING = (
    DispatchState.queued,
    DispatchState.sending,
    DispatchState.sent,
    DispatchState.finalised,
)
#: How often the worker looks for dispatch steps (and ``worker --once`` always does).
INTERVAL = timedelta(seconds=2)
#: Steps one dispatch may take in one run (queued → ... → user_notified is five).
MAX_STEPS = 8


@dataclass
class RunSummary:
    """What one run did."""

    claimed: int = 0
    steps: int = 0
    released: int = 0
    comments: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def release_stale(session: Session, now: datetime) -> int:
    """Free claims whose lease ran out or whose worker died; returns how many."""
    return sum(DISPATCHES.take_over(session, row) for row in DISPATCHES.stale(session, now))


def claim(
    session: Session, *, worker_id: str | None, now: datetime, limit: int = 20
) -> Lease[Dispatch]:
    """Take up to ``limit`` due dispatches for this worker (committed before any step)."""
    return DISPATCHES.claim(
        session,
        col(Dispatch.state).in_(WORKING),
        col(Dispatch.next_attempt_at) <= now,
        now=now,
        limit=limit,
        holder=worker_id,
    )


def _work(session: Session, lease: Lease[Dispatch], dispatch_id: int, clients: Clients) -> int:
    with lease.unit(session, dispatch_id):
        dispatch = session.get(Dispatch, dispatch_id)
        if dispatch is not None:
            session.refresh(dispatch)
            invoice = session.get(Invoice, dispatch.invoice_id)
    if dispatch is None:
        return 0
    assert invoice is not None
    work = Work(session, lease, dispatch, invoice, clients)
    steps = 0
    delay = timedelta(0)
    try:
        for _ in range(MAX_STEPS):
            if not lease.holds(dispatch_id):  # the background renewal found it taken over
                raise LeaseLost(f"dispatch {dispatch_id}: taken over by another worker")
            outcome = run_step(work)
            steps += 1
            if outcome.kind != "next":
                delay = outcome.delay
                break
    finally:
        session.rollback()  # whatever a failed step left unflushed
        # Nothing happens when the dispatch is no longer ours.
        values = {"next_attempt_at": utcnow() + delay} if delay else {}
        lease.release(session, dispatch_id, **values)
    return steps


def default_clients() -> Clients:
    """Clients from the settings (made only when a step needs them)."""
    return Clients(netvisor_factory=netvisor_client, maventa_factory=maventa_client)


def run_due(
    session: Session,
    *,
    worker_id: str | None = None,
    now: datetime | None = None,
    clients: Clients | None = None,
) -> RunSummary:
    """Run every due dispatch step and send the due Netvisor comments; safe with N workers."""
    summary = RunSummary()
    moment = now or utcnow()
    own = clients is None
    clients = clients or default_clients()
    try:
        summary.released = release_stale(session, moment)
        lease = claim(session, worker_id=worker_id, now=moment)
        summary.claimed = len(lease.ids)
        with lease.kept():
            for dispatch_id in lease.ids:
                try:
                    summary.steps += _work(session, lease, dispatch_id, clients)
                except LeaseLost as exc:  # the new holder goes on from the last step
                    summary.errors.append(str(exc))
                except Exception as exc:  # one bad dispatch must not stop the others
                    log.exception("dispatch %s failed", dispatch_id)
                    session.rollback()
                    summary.errors.append(f"{dispatch_id}: {exc}")
        if comments.pending_count(session):
            # Comments queued by the steps just now are due too.
            due = max(moment, utcnow())
            summary.comments = comments.send_due(session, clients.netvisor(), due)
    finally:
        if own:
            clients.close()
    return summary


def run_job(session: Session) -> RunSummary:
    """The worker's scheduled job."""
    summary = run_due(session)
    if summary.errors:
        log.warning("invoices.dispatch: %s", summary.errors)
    return summary
