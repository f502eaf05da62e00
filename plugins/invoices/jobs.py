"""When the worker syncs: every few minutes in service hours, and always the 15:00 last check.

``helpdesk invoices sync`` from the CLI, the "Sync now" button and the worker all go through
:func:`run_sync`, which builds the client from the settings and records a
configuration problem like any other failure.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session

from helpdesk.hookspecs import ScheduledJob
from helpdesk.models import utcnow
from plugins.invoices.models import SyncState
from plugins.invoices.netvisor import NetvisorClient
from plugins.invoices.settings import NetvisorNotConfigured, invoice_settings, netvisor_settings
from plugins.invoices.sync import SYNC_NAME, SyncResult, deadline_rules, sync_unsent

log = logging.getLogger(__name__)

JOB_NAME = "invoices.sync"
DISPATCH_JOB = "invoices.dispatch"


def sync_due(now: datetime, last_run: datetime | None) -> bool:
    """Whether the sync should run now.

    On business days: every ``sync_interval`` from opening until the deadline (cutoff plus
    margin), and always once at or after the cutoff if the last run was before it, so the
    15:00 last check happens even when the worker was busy or down at 15:00.
    """
    rules = deadline_rules()
    cal = rules.calendar
    local = cal.local(now)
    day = local.date()
    if not cal.is_business_day(day):
        return False
    cutoff = cal.at(day, rules.cutoff)
    if now >= cutoff and (last_run is None or last_run < cutoff):
        return True
    opens = cal.at(day, cal.opens)
    until = cal.at(day, rules.cutoff, rules.margin)
    if not opens <= now < until:
        return False
    return last_run is None or now - last_run >= invoice_settings().sync_interval


def make_client() -> NetvisorClient:
    """A client for the configured Netvisor (NetvisorNotConfigured if it is not)."""
    return NetvisorClient(netvisor_settings().client_config())


def run_sync(session: Session, now: datetime | None = None) -> SyncResult:
    """One sync against the configured Netvisor; failures end up in the result and SyncState."""
    now = now or utcnow()
    try:
        client = make_client()
    except NetvisorNotConfigured as exc:
        state = session.get(SyncState, SYNC_NAME) or SyncState(name=SYNC_NAME)
        state.last_started_at = state.last_error_at = now
        state.last_error = str(exc)
        session.add(state)
        session.commit()
        return SyncResult(ok=False, error=str(exc))
    with client:
        return sync_unsent(session, client, now)


def _run_job(session: Session) -> SyncResult:
    result = run_sync(session)
    if not result.ok:
        log.warning("invoices.sync: %s", result.error)
    return result


def dispatch_due(now: datetime, last_run: datetime | None) -> bool:
    """Dispatch steps run every couple of seconds, whatever the hour."""
    from plugins.invoices.dispatch_runner import INTERVAL

    return last_run is None or now - last_run >= INTERVAL


def _run_dispatch(session: Session) -> object:
    from plugins.invoices.dispatch_runner import run_job

    return run_job(session)


def scheduled_jobs() -> list[ScheduledJob]:
    """The plugin's jobs for the worker: the sync, and the dispatch steps."""
    return [
        ScheduledJob(name=JOB_NAME, due=sync_due, run=_run_job),
        ScheduledJob(
            name=DISPATCH_JOB, due=dispatch_due, run=_run_dispatch, extra={"lease_seconds": 600}
        ),
    ]
