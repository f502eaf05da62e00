"""The worker: mailbox IDLE/poll loops, periodic core tasks and the plugins' scheduled jobs.

Safe with N workers on one database: each mailbox is fetched by one worker at a time
(``helpdesk.locks.MailboxLock``) and each due run of a job is claimed by exactly one
worker (``helpdesk.locks.claim_unchanged``). SIGTERM stops taking new work, wakes the IDLE
loops and lets the mail being imported finish its transaction.

Every tick reads the job table once and decides in memory what is due; only a due job
opens a write session, to claim it. While a job runs, its lease is renewed in the
background (``helpdesk.locks.LeaseKeeper``), so a job may run longer than its lease; a
long job can call :func:`still_claimed` between steps and stop when another worker has
taken the job over (which happens only if renewing failed for a whole lease).

Core features add their periodic tasks with ``register_periodic`` (the outbox's is below).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import FrameType
from typing import Any

from sqlmodel import Session

from helpdesk import db
from helpdesk.hookspecs import ScheduledJob
from helpdesk.locks import (
    JobState,
    LeaseKeeper,
    claim_unchanged,
    is_free,
    job_states,
    owner_id,
    release,
)
from helpdesk.mail.inbound.watch import MailboxWatcher, fetch_once, fetchable
from helpdesk.mail.outbound import outbox
from helpdesk.models import utcnow
from helpdesk.plugins import collect, hook
from helpdesk.services import notification_mail

log = logging.getLogger(__name__)

#: How often the worker looks at the job table and for new or removed mailboxes.
TICK_SECONDS = 1.0
MAILBOX_RESCAN_SECONDS = 30.0
DEFAULT_JOB_LEASE_SECONDS = 15 * 60.0


@dataclass(frozen=True)
class PeriodicTask:
    """A core task run every ``interval`` seconds, by one worker at a time."""

    name: str
    run: Callable[[Session], Any]
    interval: float

    def as_job(self) -> ScheduledJob:
        interval = timedelta(seconds=self.interval)

        def due(now: datetime, last_run: datetime | None) -> bool:
            return last_run is None or now - last_run >= interval

        return ScheduledJob(name=f"core:{self.name}", due=due, run=self.run)


#: Periodic core tasks, in registration order.
PERIODIC: list[PeriodicTask] = []

#: The lease of the job this thread is running (see :func:`still_claimed`).
_running: ContextVar[LeaseKeeper | None] = ContextVar("running_job_lease", default=None)


def register_periodic(name: str, run: Callable[[Session], Any], interval: float) -> None:
    """Add a periodic core task to every worker (idempotent per name)."""
    if any(task.name == name for task in PERIODIC):
        return
    PERIODIC.append(PeriodicTask(name=name, run=run, interval=interval))


def scheduled_jobs() -> list[ScheduledJob]:
    """Core periodic tasks followed by every plugin's scheduled jobs."""
    jobs = [task.as_job() for task in PERIODIC]
    jobs += collect(hook().helpdesk_scheduled_jobs())
    return jobs


def still_claimed() -> bool:
    """Inside a scheduled job: False once another worker has taken the job over.

    The lease is renewed in the background, so this turns False only when renewing
    failed for longer than the lease. A long job calls it between steps and returns early
    when it is False; outside a job it is always True.
    """
    keeper = _running.get()
    return keeper is None or not keeper.lost.is_set()


def run_due_jobs(
    jobs: list[ScheduledJob] | None = None,
    *,
    session_factory: Callable[[], Session] | None = None,
    read_session_factory: Callable[[], Session] | None = None,
    stop: threading.Event | None = None,
) -> list[str]:
    """Run each due job this worker manages to claim; returns the names that ran.

    What is due is decided from one read of the job rows (``read_session_factory``, by
    default a plain session: no write lock); only a due job gets a ``session_factory``
    session, to claim and run it.
    """
    factory = session_factory or job_session
    read_factory = read_session_factory or session_factory or db.new_session
    jobs = scheduled_jobs() if jobs is None else jobs
    if not jobs:
        return []
    names = [f"job:{job.name}" for job in jobs]
    try:
        with contextlib.closing(read_factory()) as session:
            seen = job_states(session, names)
    except Exception:
        log.exception("could not read the job table")
        return []
    owner = owner_id()
    ran: list[str] = []
    for job, name in zip(jobs, names, strict=True):
        if stop is not None and stop.is_set():
            break
        state = seen.get(name) or JobState(name=name)
        now = utcnow()
        try:
            if not job.due(now, state.last_started_at) or not is_free(state, now, owner):
                continue
        except Exception:
            log.exception("could not tell whether job %s is due", job.name)
            continue
        if _claim_and_run(job, state, factory):
            ran.append(job.name)
    return ran


def _claim_and_run(job: ScheduledJob, seen: JobState, factory: Callable[[], Session]) -> bool:
    """Run ``job`` if this worker wins its claim; False when another worker was first."""
    lease = float(job.extra.get("lease_seconds", DEFAULT_JOB_LEASE_SECONDS))
    with contextlib.closing(factory()) as session:
        try:
            claim = claim_unchanged(session, seen, lease_seconds=lease)
        except Exception:
            log.exception("could not claim job %s", job.name)
            return False
        if claim is None:
            return False
        error: str | None = None
        keeper = LeaseKeeper.for_job(claim, lease_seconds=lease, session_factory=factory)
        running = _running.set(keeper)
        try:
            with keeper:
                job.run(session)
        except Exception as exc:  # one failing job must not stop the others
            log.exception("job %s failed", job.name)
            error = f"{type(exc).__name__}: {exc}"
        finally:
            _running.reset(running)
            with contextlib.suppress(Exception):
                session.rollback()
                if keeper.lost.is_set():
                    # Another worker holds the job now: its claim is not ours to release.
                    log.warning("job %s ended after its claim was lost", job.name)
                else:
                    release(session, claim, error=error)
    return True


def job_session() -> Session:
    """A session for scheduled jobs: their transactions read, then write (claims, steps).

    Reads are deferred and take no lock; each write phase is a ``db.transaction``, which
    takes SQLite's write lock up front and waits its turn under the busy timeout.
    """
    return db.new_session()


class Worker:
    """``helpdesk worker``: mailbox watchers plus the job scheduler, until SIGTERM."""

    def __init__(self, *, session_factory: Callable[[], Session] | None = None) -> None:
        self.session_factory = session_factory or db.new_session
        self.job_session_factory = session_factory or job_session
        self.stop = threading.Event()
        self.watchers: dict[int, MailboxWatcher] = {}

    def run_once(self) -> dict[str, Any]:
        """Fetch every mailbox once and run the jobs that are due, then return."""
        fetched = fetch_once(session_factory=self.session_factory)
        ran = run_due_jobs(
            session_factory=self.job_session_factory, read_session_factory=self.session_factory
        )
        return {"mail": fetched.counts.as_dict(), "mailboxes": fetched.mailboxes, "jobs": ran}

    def install_signal_handlers(self) -> None:
        def handle(signum: int, _frame: FrameType | None) -> None:
            log.info("signal %s: stopping", signum)
            self.stop_all()

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)

    def stop_all(self) -> None:
        self.stop.set()
        for watcher in self.watchers.values():
            watcher.interrupt()

    def reconcile_watchers(self) -> None:
        """Start a watcher for every fetchable mailbox that has none running."""
        with contextlib.closing(self.session_factory()) as session:
            ids = [m.id for m in fetchable(session) if m.id is not None]
        for mailbox_id in ids:
            watcher = self.watchers.get(mailbox_id)
            if watcher is None or not watcher.alive:
                watcher = MailboxWatcher(
                    mailbox_id, self.stop, session_factory=self.session_factory
                )
                self.watchers[mailbox_id] = watcher
                watcher.start()

    def run(self) -> None:
        """Serve until ``stop`` is set (SIGTERM/SIGINT when signal handlers are installed)."""
        log.info("worker started")
        next_scan = 0.0
        while not self.stop.is_set():
            clock = time.monotonic()
            if clock >= next_scan:
                try:
                    self.reconcile_watchers()
                except Exception:
                    log.exception("could not list mailboxes")
                next_scan = clock + MAILBOX_RESCAN_SECONDS
            run_due_jobs(
                session_factory=self.job_session_factory,
                read_session_factory=self.session_factory,
                stop=self.stop,
            )
            self.stop.wait(TICK_SECONDS)
        self.stop_all()
        for watcher in self.watchers.values():
            if watcher.thread is not None:
                watcher.thread.join(timeout=30)
        log.info("worker stopped")


register_periodic("outbox", outbox.run_job, outbox.FLUSH_SECONDS)
register_periodic("notification-mail", notification_mail.run_job, 5.0)
