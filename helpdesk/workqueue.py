"""The work queue under the outbox and invoice dispatch: claim, lease, renew, back off.

A queue is a table whose rows carry the claim columns of ``helpdesk.models.QueueRow``
(who holds a row, since when, until when), described by a :class:`Queue` (the model, the
lease, the retry policy). A worker goes through it so:

1. **Stale claims** are freed first: :meth:`Queue.stale` finds rows whose lease ran out,
   or whose holder's process is gone from this host; :meth:`Queue.take_over` frees one by
   a compare-and-set on the claim as it was seen, so a holder that renewed meanwhile keeps
   its row. What else a takeover writes is the queue's own business (the outbox decides
   there whether the mail may have gone).
2. **Claim**: :meth:`Queue.claim` sets ``claimed_by``, ``claimed_at`` and ``claimed_until``
   with one ``UPDATE ... WHERE claimed_by IS NULL`` per due row, all in one transaction
   before any work starts. On PostgreSQL the candidates are read ``FOR UPDATE SKIP
   LOCKED`` in that transaction, so concurrent workers see different rows and never wait
   for each other; on SQLite they are read first, outside it (a transaction that starts by
   writing waits its turn, one that turns a read into a write fails at once), and the
   ``WHERE`` is the lock. Of N workers, each row goes to exactly one.
3. **Work** happens between units of work: :meth:`Lease.unit` is a ``db.transaction``
   whose first statement extends the row's lease where ``claimed_by`` is still this
   worker. When it is not (the lease ran out and another worker took the row), it raises
   :class:`LeaseLost` and writes nothing, so a late result never lands over the new
   holder's. Calls to the outside world (SMTP, IMAP, Netvisor, Maventa) are made between
   units, never inside one.
4. **Renewal**: :meth:`Lease.kept` renews every held row in the background, every third of
   the lease, so long jobs keep their rows: Netvisor calls of up to 120 s x 3 tries,
   Maventa uploads, large SMTP sends, and the rows still waiting their turn in the batch.
   A row found lost there is skipped before its next call.
5. **Release**: :meth:`Lease.release` gives the row back, typically with its next attempt's
   time from :meth:`Queue.backoff` (:func:`backoff` is the one formula).

:meth:`Queue.crash_point` is the test-only way to kill a worker between two units, to
prove that nothing is done twice after a crash.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, update
from sqlmodel import Session, col, select

from helpdesk import db
from helpdesk.locks import LeaseKeeper, holder_gone, owner_id
from helpdesk.models import QueueRow, utcnow
from helpdesk.settings import get_settings

log = logging.getLogger(__name__)

Row = TypeVar("Row", bound=QueueRow)

#: Test only (HELPDESK_ENVIRONMENT=test): ``<queue>:<point>`` kills the worker there.
CRASH_ENV = "HELPDESK_TEST_CRASH"
#: A claim not renewed for this long belongs to a worker that died on another host.
DEFAULT_LEASE = timedelta(minutes=10)


class LeaseLost(RuntimeError):
    """The row is no longer ours: its lease ran out and another worker took it over."""


def backoff(attempts: int, *, first: timedelta, cap: timedelta) -> timedelta:
    """The wait after ``attempts`` failed attempts: ``first``, then twice as long each
    time, at most ``cap``."""
    doublings = min(max(attempts - 1, 0), 40)  # past 40 every cap is reached anyway
    return min(first * (1 << doublings), cap)


def holder_name() -> str:
    """A new claim's ``claimed_by``: this process (host:pid:...) and a part of its own.

    Each claim gets its own name, so two threads of one process never write on each
    other's rows; :func:`helpdesk.locks.holder_gone` still reads the host and pid in it.
    """
    return f"{owner_id()}:{os.urandom(3).hex()}"


def _lapsed(row: QueueRow, now: datetime) -> bool:
    if row.claimed_until is None or row.claimed_until < now:
        return True
    # Holder names are per claim: a live process may hold several (see holder_name).
    return holder_gone(row.claimed_by, per_call_names=True)


@dataclass(frozen=True)
class Queue(Generic[Row]):
    """A table worked as a queue: its model, how long a claim lasts, how retries back off."""

    model: type[Row]
    #: In logs and in crash points.
    name: str
    lease: timedelta = DEFAULT_LEASE
    first_retry: timedelta = timedelta(seconds=30)
    max_retry: timedelta = timedelta(hours=1)
    #: Attempts after which a transient failure counts as final (see :meth:`retry_after`).
    max_attempts: int = 6

    def backoff(self, attempts: int) -> timedelta:
        """The wait before the next attempt after ``attempts`` failed ones."""
        return backoff(attempts, first=self.first_retry, cap=self.max_retry)

    def retry_after(self, attempts: int) -> timedelta | None:
        """The wait before trying again, or None once ``attempts`` reached the maximum."""
        return None if attempts >= self.max_attempts else self.backoff(attempts)

    def claim(
        self,
        session: Session,
        *due: ColumnElement[bool],
        now: datetime,
        limit: int,
        holder: str | None = None,
        values: dict[str, Any] | None = None,
        on_claimed: Callable[[Session, list[int]], object] | None = None,
    ) -> Lease[Row]:
        """Claim up to ``limit`` free rows matching ``due``, oldest first; committed.

        ``values`` are set with the claim (a status, an attempt counter) and ``on_claimed``
        runs in the same transaction with the ids won. An empty SQLite poll only reads.
        """
        model = self.model
        free = (col(model.claimed_by).is_(None), *due)
        candidates = select(model.id).where(*free).order_by(col(model.id)).limit(limit)
        lease = Lease(self, holder or holder_name())
        postgres = db.is_postgres(session)
        ids: Iterable[int | None] = [] if postgres else session.exec(candidates).all()
        if not (postgres or ids):
            return lease
        with db.transaction(session):
            if postgres:
                ids = session.exec(candidates.with_for_update(skip_locked=True)).all()
            claim = {
                "claimed_by": lease.holder,
                "claimed_at": now,
                "claimed_until": utcnow() + self.lease,
                **(values or {}),
            }
            for row_id in ids:
                taken = update(model).where(col(model.id) == row_id, *free).values(**claim)
                if row_id is not None and session.exec(taken).rowcount == 1:
                    lease.add(row_id)
            if lease.ids and on_claimed is not None:
                on_claimed(session, lease.ids)
        return lease

    def stale(self, session: Session, now: datetime, *where: ColumnElement[bool]) -> list[Row]:
        """Claimed rows (matching ``where``) whose lease ran out by ``now`` or whose holder
        process is gone from this host: free to take over."""
        model = self.model
        rows = session.exec(
            select(model)
            .where(col(model.claimed_by).is_not(None), *where)
            .order_by(col(model.id))
            .execution_options(populate_existing=True)  # the claims as they are now
        ).all()
        return [row for row in rows if _lapsed(row, now)]

    def take_over(self, session: Session, row: Row, **values: Any) -> bool:
        """Free a stale claim if it is still as ``row`` shows it; joins the caller's unit.

        ``values`` are written with it. False when the holder renewed or released the row,
        or another worker took it over first.
        """
        model = self.model
        holder, until = row.claimed_by, row.claimed_until
        if holder is None:
            return False  # nobody's to take over (or ``row`` shows it taken over already)
        with db.transaction(session):
            result = session.exec(
                update(model)
                .where(
                    col(model.id) == row.id,
                    col(model.claimed_by) == holder,
                    col(model.claimed_until).is_not_distinct_from(until),
                )
                .values(claimed_by=None, claimed_until=None, **values)
            )
        return bool(result.rowcount == 1)

    def crash_point(self, point: str) -> None:
        """Test only: kill this process here when HELPDESK_TEST_CRASH is ``<queue>:<point>``."""
        if (
            os.environ.get(CRASH_ENV) == f"{self.name}:{point}"
            and get_settings().environment == "test"
        ):
            os.kill(os.getpid(), signal.SIGKILL)


class Lease(Generic[Row]):
    """The rows one worker claimed in one go, held under a lease it renews."""

    def __init__(self, queue: Queue[Row], holder: str) -> None:
        self.queue = queue
        self.holder = holder
        #: The rows claimed, in claim order.
        self.ids: list[int] = []
        self._held: set[int] = set()
        self._lost: set[int] = set()
        self._mutex = threading.Lock()

    def add(self, row_id: int) -> None:
        """Note a row this lease won (``Queue.claim`` calls it)."""
        self.ids.append(row_id)
        with self._mutex:
            self._held.add(row_id)

    def holds(self, row_id: int) -> bool:
        """False once the row was released, or found lost (a renewal or a unit)."""
        with self._mutex:
            return row_id in self._held

    def lost(self, row_id: int) -> bool:
        """True when another worker took the row over from this lease."""
        with self._mutex:
            return row_id in self._lost

    def _mark_lost(self, row_ids: Iterable[int]) -> None:
        with self._mutex:
            gone = self._held.intersection(row_ids)
            self._held -= gone
            self._lost |= gone
        for row_id in sorted(gone):
            log.warning("%s %s: the claim was lost (lease ran out)", self.queue.name, row_id)

    def _ours(self, row_ids: Iterable[int]) -> tuple[ColumnElement[bool], ...]:
        model = self.queue.model
        return (col(model.id).in_(list(row_ids)), col(model.claimed_by) == self.holder)

    def _extend(self, session: Session, row_ids: Iterable[int]) -> int:
        """Extend the lease of those of ``row_ids`` still ours; returns how many."""
        until = utcnow() + self.queue.lease
        model = self.queue.model
        result = session.exec(update(model).where(*self._ours(row_ids)).values(claimed_until=until))
        return int(result.rowcount)

    @contextmanager
    def unit(self, session: Session, row_id: int) -> Iterator[Session]:
        """A unit of work on a held row (``db.transaction``); raises ``LeaseLost``, writing
        nothing, once another worker has the row. Extends the lease as it starts."""
        with db.transaction(session):
            # The first write of the unit: from here to its commit the row stays ours
            # (SQLite's write lock, PostgreSQL's row lock).
            if self._extend(session, [row_id]) != 1:
                self._mark_lost([row_id])
                raise LeaseLost(f"{self.queue.name} {row_id}: taken over by another worker")
            yield session

    def release(self, session: Session, row_id: int, **values: Any) -> bool:
        """Give the row back, writing ``values`` with it (its next attempt, its new state);
        joins the caller's unit. False when the row was no longer ours."""
        with self._mutex:
            self._held.discard(row_id)
        model = self.queue.model
        with db.transaction(session):
            result = session.exec(
                update(model)
                .where(col(model.id) == row_id, col(model.claimed_by) == self.holder)
                .values(claimed_by=None, claimed_until=None, **values)
            )
        return bool(result.rowcount == 1)

    def renew(self, session: Session) -> bool:
        """Extend the lease of every row still held; False once none of them is ours."""
        with self._mutex:
            held = set(self._held)
        if not held:
            return True
        model = self.queue.model
        with db.transaction(session):
            self._extend(session, held)
            ours = set(session.exec(select(model.id).where(*self._ours(held))).all())
        self._mark_lost(held - ours)
        return bool(ours)

    @contextmanager
    def kept(self, session_factory: Callable[[], Session] | None = None) -> Iterator[Lease[Row]]:
        """Renew the lease in the background (sessions from ``session_factory``) inside."""
        if not self.ids:
            yield self
            return
        keeper = LeaseKeeper(
            f"{self.queue.name}:{self.holder}",
            self.renew,
            lease_seconds=self.queue.lease.total_seconds(),
            session_factory=session_factory or db.new_session,
        )
        with keeper:
            yield self
