"""The worker's part of dispatching: claim due dispatches, run their steps, send comments.

Claiming is the outbox's pattern: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a
conditional ``UPDATE ... WHERE claimed_by IS NULL`` on SQLite, committed before any
step runs. A claim left by a worker that died (its process is gone, or it is older than
``STALE_CLAIM``) is released; the step it was in is idempotent, so running it again is
safe. The job ``invoices.dispatch`` runs every few seconds and on ``helpdesk worker --once``.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from helpdesk.plugin_api import claim_due, holder_gone, owner_id, utcnow
from plugins.invoices.dispatch import comments
from plugins.invoices.dispatch.steps import Clients, run_step
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
STALE_CLAIM = timedelta(minutes=10)
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
    """Free claims whose worker died; returns how many."""
    rows = session.exec(select(Dispatch).where(col(Dispatch.claimed_by).is_not(None))).all()
    session.commit()
    released = 0
    for row in rows:
        old = row.claimed_at is None or now - row.claimed_at > STALE_CLAIM
        if not (old or holder_gone(row.claimed_by)):
            continue
        result = session.exec(
            update(Dispatch)
            .where(col(Dispatch.id) == row.id, col(Dispatch.claimed_by) == row.claimed_by)
            .values(claimed_by=None, claimed_at=None)
        )
        session.commit()
        released += result.rowcount
    return released


def claim(session: Session, *, worker_id: str, now: datetime, limit: int = 20) -> list[int]:
    """Take up to ``limit`` due dispatches for this worker (committed before any step)."""
    due = (
        select(Dispatch.id)
        .where(
            col(Dispatch.state).in_(WORKING),
            col(Dispatch.next_attempt_at) <= now,
            col(Dispatch.claimed_by).is_(None),
        )
        .order_by(col(Dispatch.id))
        .limit(limit)
    )
    claimed = claim_due(
        session,
        due,
        lambda dispatch_id: (
            update(Dispatch)
            .where(col(Dispatch.id) == dispatch_id, col(Dispatch.claimed_by).is_(None))
            .values(claimed_by=worker_id, claimed_at=now)
        ),
    )
    session.commit()
    return claimed


def _release(session: Session, dispatch: Dispatch, worker_id: str, delay: timedelta) -> None:
    session.rollback()
    values: dict[str, Any] = {"claimed_by": None, "claimed_at": None}
    if delay:
        values["next_attempt_at"] = utcnow() + delay
    session.exec(
        update(Dispatch)
        .where(col(Dispatch.id) == dispatch.id, col(Dispatch.claimed_by) == worker_id)
        .values(**values)
    )
    session.commit()


def _work(session: Session, dispatch_id: int, worker_id: str, clients: Clients) -> int:
    dispatch = session.get(Dispatch, dispatch_id)
    if dispatch is None:
        return 0
    session.refresh(dispatch)
    invoice = session.get(Invoice, dispatch.invoice_id)
    assert invoice is not None
    steps = 0
    delay = timedelta(0)
    try:
        for _ in range(MAX_STEPS):
            outcome = run_step(session, dispatch, invoice, clients)
            steps += 1
            if outcome.kind != "next":
                delay = outcome.delay
                break
    finally:
        _release(session, dispatch, worker_id, delay)
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
    worker = worker_id or owner_id()
    moment = now or utcnow()
    own = clients is None
    clients = clients or default_clients()
    try:
        summary.released = release_stale(session, moment)
        ids = claim(session, worker_id=worker, now=moment)
        summary.claimed = len(ids)
        for dispatch_id in ids:
            try:
                summary.steps += _work(session, dispatch_id, worker, clients)
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
