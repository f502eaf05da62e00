"""Locks that let several workers share one database without doing the same work twice.

Two kinds:

- **Job claims** (``job_lock`` rows): a job runs when a worker wins a compare-and-set
  ``UPDATE`` on the job's row. The ``WHERE`` clause repeats what the worker read
  (holder, lease and last start), so of N workers that all found a job due, exactly one
  update matches; the others see ``rowcount == 0`` and move on. This works the same on
  SQLite and PostgreSQL and needs no long-held transaction. What is due is decided on a
  plain read (:func:`job_states`), so an idle scheduler never takes SQLite's write lock.
  While a job runs, :class:`LeaseKeeper` renews its lease in the background, so a job
  longer than its lease is not taken over; a keeper that finds the claim gone says so.
  (Rows of work queues, the outbox and invoice dispatches, are claimed the same way by
  ``helpdesk.workqueue``, with the same keeper and the same test for a dead holder.)
- **Mailbox locks**: one fetcher per mailbox. On PostgreSQL a session-level advisory lock
  on a dedicated connection (``pg_try_advisory_lock``): the server drops it the moment
  the holder's connection dies, so a killed worker never blocks the others. SQLite has no
  such thing, so there the mailbox lock is a job claim with a lease that the holder
  renews; since SQLite is always on one host, a claim whose holder process is gone is
  taken over at once instead of waiting for the lease to run out.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from helpdesk.db import transaction
from helpdesk.models import JobLock, utcnow

log = logging.getLogger(__name__)

#: Advisory-lock namespace of mailbox fetchers ("MAIL"); the second key is the mailbox id.
MAILBOX_LOCK_CLASS = 0x4D41494C


@cache
def _owner_for(pid: int) -> str:
    return f"{socket.gethostname()}:{pid}:{uuid.uuid4().hex[:8]}"


def owner_id() -> str:
    """This process's name in ``locked_by`` (host:pid:random; new after a fork)."""
    return _owner_for(os.getpid())


def holder_gone(holder: str | None, *, per_call_names: bool = False) -> bool:
    """True when ``holder`` (host:pid:...) ran on this host and its process no longer exists.

    A holder naming this process's pid is an earlier incarnation from before a fork unless
    it is :func:`owner_id`. Callers that make a new name per call (the outbox's
    ``worker_name``) pass ``per_call_names``: for them this pid is always alive, since
    another thread of this process may hold the claim.
    """
    host, _, rest = (holder or "").partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return not per_call_names and holder != owner_id()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def is_free(row: JobLock | JobState, now: datetime, owner: str) -> bool:
    """Whether ``owner`` may take the row: unheld, lease run out, or its holder is dead."""
    if row.locked_by is None or row.locked_by == owner:
        return True
    if row.locked_until is None or row.locked_until < now:
        return True
    return holder_gone(row.locked_by)


@dataclass(frozen=True)
class JobState:
    """A job's row as a worker read it: enough to decide, and to claim only if unchanged."""

    name: str
    locked_by: str | None = None
    locked_until: datetime | None = None
    last_started_at: datetime | None = None


@dataclass(frozen=True)
class Claim:
    """A job claim held by this process."""

    name: str
    owner: str
    started_at: datetime
    last_run: datetime | None


def job_states(session: Session, names: list[str]) -> dict[str, JobState]:
    """The rows of ``names`` in one read, then the read transaction ends.

    A job never claimed has no row yet, so no entry. Ending the read matters on SQLite: a
    transaction that read and then writes fails at once if another worker committed in
    between, while one that starts by writing waits for the lock.
    """
    rows = session.exec(select(JobLock).where(col(JobLock.name).in_(names))).all()
    states = {
        row.name: JobState(
            name=row.name,
            locked_by=row.locked_by,
            locked_until=row.locked_until,
            last_started_at=row.last_started_at,
        )
        for row in rows
    }
    session.rollback()
    return states


def _ensure_row(session: Session, name: str) -> None:
    try:
        with session.begin_nested():
            session.add(JobLock(name=name))
    except IntegrityError:
        pass  # another worker inserted it first


def claim_unchanged(session: Session, seen: JobState, *, lease_seconds: float) -> Claim | None:
    """Claim the job for ``lease_seconds`` if its row is still as ``seen``; commits.

    The caller has decided from ``seen`` that the job is due and free; the compare-and-set
    ``UPDATE`` makes sure no other worker claimed it since.
    """
    owner = owner_id()
    now = utcnow()
    with transaction(session):
        if seen.locked_by is None and seen.last_started_at is None:
            _ensure_row(session, seen.name)  # first run: the row may not exist yet
        result = session.exec(
            update(JobLock)
            .where(
                col(JobLock.name) == seen.name,
                col(JobLock.locked_by).is_not_distinct_from(seen.locked_by),
                col(JobLock.locked_until).is_not_distinct_from(seen.locked_until),
                col(JobLock.last_started_at).is_not_distinct_from(seen.last_started_at),
            )
            .values(
                locked_by=owner,
                locked_until=now + timedelta(seconds=lease_seconds),
                last_started_at=now,
            )
        )
    if result.rowcount != 1:
        return None
    return Claim(name=seen.name, owner=owner, started_at=now, last_run=seen.last_started_at)


def try_claim(
    session: Session,
    name: str,
    *,
    lease_seconds: float,
    due: Callable[[datetime, datetime | None], bool] | None = None,
) -> Claim | None:
    """Claim job ``name`` for ``lease_seconds`` if it is free (and due); commits.

    ``due(now, last_run)`` gets the start time of the previous run (None before the first).
    """
    seen = job_states(session, [name]).get(name) or JobState(name=name)
    now = utcnow()
    if due is not None and not due(now, seen.last_started_at):
        return None
    if not is_free(seen, now, owner_id()):
        return None
    return claim_unchanged(session, seen, lease_seconds=lease_seconds)


def renew(session: Session, claim: Claim, *, lease_seconds: float) -> bool:
    """Extend a held claim; False when it was lost (taken over after the lease ran out)."""
    with transaction(session):
        result = session.exec(
            update(JobLock)
            .where(col(JobLock.name) == claim.name, col(JobLock.locked_by) == claim.owner)
            .values(locked_until=utcnow() + timedelta(seconds=lease_seconds))
        )
    return bool(result.rowcount == 1)


class LeaseKeeper:
    """Renews a lease in a background thread while the work it covers runs.

    ``renew(session)`` extends the lease and says whether it is still ours: a job claim
    (:meth:`for_job`) or the rows a worker took from a work queue
    (``helpdesk.workqueue.Lease``). Renewing every third of the lease keeps long work from
    being taken over by another worker. A renewal that finds the lease no longer ours (it
    ran out, say while the database was unreachable, and another worker took over) sets
    :attr:`lost` and stops; the work may look at it and give up, and the worker then
    leaves the rows alone. A renewal that fails for another reason is tried again at the
    next interval.
    """

    def __init__(
        self,
        name: str,
        renew: Callable[[Session], bool],
        *,
        lease_seconds: float,
        session_factory: Callable[[], Session],
    ) -> None:
        self.name = name
        self.renew = renew
        self.lease_seconds = lease_seconds
        self.session_factory = session_factory
        self.lost = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._renew_until_done, name=f"lease-{name}", daemon=True
        )

    @classmethod
    def for_job(
        cls, claim: Claim, *, lease_seconds: float, session_factory: Callable[[], Session]
    ) -> LeaseKeeper:
        """A keeper of a job claim (``job_lock`` row)."""
        return cls(
            claim.name,
            lambda session: renew(session, claim, lease_seconds=lease_seconds),
            lease_seconds=lease_seconds,
            session_factory=session_factory,
        )

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _renew_until_done(self) -> None:
        while not self._done.wait(self.lease_seconds / 3):
            try:
                with contextlib.closing(self.session_factory()) as session:
                    held = self.renew(session)
            except Exception:
                log.exception("could not renew the lease of %s; trying again", self.name)
                continue
            if not held:
                log.warning("%s: the claim was lost while the job ran", self.name)
                self.lost.set()
                return


def release(session: Session, claim: Claim, *, error: str | None = None) -> None:
    """Give the claim back and note when the run finished (and how)."""
    with transaction(session):
        session.exec(
            update(JobLock)
            .where(col(JobLock.name) == claim.name, col(JobLock.locked_by) == claim.owner)
            .values(
                locked_by=None,
                locked_until=None,
                last_finished_at=utcnow(),
                last_error=error[:2000] if error else None,
            )
        )


class MailboxLock:
    """One fetcher per mailbox across processes; see the module docstring for how."""

    #: How long a SQLite lease lasts without renewal.
    LEASE_SECONDS = 120.0

    def __init__(self, session: Session, mailbox_id: int) -> None:
        self.session = session
        self.mailbox_id = mailbox_id
        self._connection: Connection | None = None
        self._claim: Claim | None = None

    @property
    def name(self) -> str:
        return f"mailbox:{self.mailbox_id}"

    def acquire(self) -> bool:
        """Try once; True when this process now holds the mailbox."""
        bind: Any = self.session.get_bind()
        if bind.dialect.name == "postgresql":
            # Autocommit: a session-level advisory lock needs no transaction around it.
            connection = bind.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                got = connection.execute(
                    text("SELECT pg_try_advisory_lock(:a, :b)"),
                    {"a": MAILBOX_LOCK_CLASS, "b": self.mailbox_id},
                ).scalar()
            except BaseException:
                connection.close()
                raise
            if got:
                self._connection = connection
                return True
            connection.close()
            return False
        self._claim = try_claim(self.session, self.name, lease_seconds=self.LEASE_SECONDS)
        return self._claim is not None

    def keep(self) -> bool:
        """Renew the hold (SQLite lease); False when it was lost."""
        if self._claim is not None:
            return renew(self.session, self._claim, lease_seconds=self.LEASE_SECONDS)
        return self._connection is not None

    def release(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            with contextlib.suppress(Exception):
                connection.execute(
                    text("SELECT pg_advisory_unlock(:a, :b)"),
                    {"a": MAILBOX_LOCK_CLASS, "b": self.mailbox_id},
                )
            connection.close()
        if self._claim is not None:
            claim, self._claim = self._claim, None
            with contextlib.suppress(Exception):
                self.session.rollback()
                release(self.session, claim)


@contextlib.contextmanager
def mailbox_lock(session: Session, mailbox_id: int) -> Iterator[MailboxLock | None]:
    """The mailbox's lock if this process got it, else None; released on exit."""
    lock = MailboxLock(session, mailbox_id)
    if not lock.acquire():
        yield None
        return
    try:
        yield lock
    finally:
        lock.release()
