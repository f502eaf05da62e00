"""The plugin's jobs for the worker: the sync and the dispatch steps, and when each is due.

The sync runs every few minutes in service hours, and always at the 15:00 last check;
the dispatch steps every couple of seconds (``dispatch/runner.py``).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session

from helpdesk.plugin_api import ScheduledJob
from plugins.invoices.dispatch.runner import INTERVAL
from plugins.invoices.dispatch.runner import run_job as run_dispatch_job
from plugins.invoices.settings import deadline_rules, invoice_settings
from plugins.invoices.sync import SyncResult, run_sync

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


def _run_job(session: Session) -> SyncResult:
    result = run_sync(session)
    if not result.ok:
        log.warning("invoices.sync: %s", result.error)
    return result


def dispatch_due(now: datetime, last_run: datetime | None) -> bool:
    """Dispatch steps run every couple of seconds, whatever the hour."""
    return last_run is None or now - last_run >= INTERVAL


def scheduled_jobs() -> list[ScheduledJob]:
    """The plugin's jobs for the worker: the sync, and the dispatch steps."""
    return [
        ScheduledJob(name=JOB_NAME, due=sync_due, run=_run_job),
        ScheduledJob(
            name=DISPATCH_JOB, due=dispatch_due, run=run_dispatch_job, extra={"lease_seconds": 600}
        ),
    ]
