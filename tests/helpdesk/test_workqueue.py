"""The work queue on committed data: one holder per row, leases that run out or are kept,
a lost lease that writes nothing, and the backoff."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import timedelta

import factories
import pytest
from polling import wait_for
from sqlalchemy import update
from sqlmodel import Session, col, select
from statements import statements_run

from helpdesk.db import get_engine, new_session, transaction
from helpdesk.models import DeliveryStatus, OutboundMail, utcnow
from helpdesk.workqueue import Lease, LeaseLost, Queue, backoff, holder_name

#: Another worker on another host, as it shows in ``claimed_by``.
OTHER_WORKER = "elsewhere:4242:b:c"


def queue(lease: float = 600) -> Queue[OutboundMail]:
    """The outbox table as a plain queue with a short lease."""
    return Queue(OutboundMail, "testi", lease=timedelta(seconds=lease))


def add_rows(count: int) -> list[int]:
    """``count`` queued outbox rows, committed."""
    with new_session() as session:
        mailbox = factories.mailbox(session)
        rows = [
            OutboundMail(
                mailbox_id=mailbox.id or 0,
                message_id=f"{uuid.uuid4().hex}@e-tunnus.fi",
                envelope_from=mailbox.address,
                recipients=["asiakas@example.fi"],
                raw_sha256="0" * 64,
            )
            for _ in range(count)
        ]
        with transaction(session):
            session.add_all(rows)
        return [row.id or 0 for row in rows]


def claim(q: Queue[OutboundMail], session: Session, limit: int = 50) -> Lease[OutboundMail]:
    return q.claim(
        session, col(OutboundMail.status) == DeliveryStatus.queued, now=utcnow(), limit=limit
    )


def row(row_id: int) -> OutboundMail:
    with new_session() as session:
        found = session.get(OutboundMail, row_id)
        assert found is not None
        return found


def take_over(row_id: int, holder: str = OTHER_WORKER) -> None:
    """Another worker has the row now, as after its lease ran out."""
    with new_session() as session, transaction(session):
        session.exec(
            update(OutboundMail)
            .where(col(OutboundMail.id) == row_id)
            .values(claimed_by=holder, claimed_until=utcnow() + timedelta(hours=1))
        )


def test_backoff_doubles_from_the_first_wait_up_to_the_cap() -> None:
    waits = [backoff(n, first=timedelta(seconds=30), cap=timedelta(hours=1)) for n in range(9)]
    assert [w.total_seconds() for w in waits] == [30, 30, 60, 120, 240, 480, 960, 1920, 3600]
    assert backoff(10_000, first=timedelta(seconds=30), cap=timedelta(hours=4)) == timedelta(
        hours=4
    )
    q = Queue(OutboundMail, "testi", max_attempts=3)
    assert [q.retry_after(n) for n in (1, 2, 3, 4)] == [
        timedelta(seconds=30),
        timedelta(seconds=60),
        None,
        None,
    ]


def test_racing_workers_claim_each_row_once(committed_url: str) -> None:
    ids = add_rows(40)
    q = queue()
    barrier = threading.Barrier(4)
    won: list[list[int]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with new_session() as session:
                barrier.wait()
                while lease := claim(q, session, limit=3):
                    if not lease.ids:
                        break
                    won.append(lease.ids)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    counts = Counter(row_id for batch in won for row_id in batch)
    assert sorted(counts) == sorted(ids)
    assert set(counts.values()) == {1}
    holders = {row(i).claimed_by for i in ids}
    assert len(holders) == len(won)  # every claim has a name of its own
    assert all(row(i).claimed_until is not None for i in ids)


def test_an_idle_poll_only_reads(committed_url: str) -> None:
    engine = get_engine()
    with statements_run(engine) as statements, new_session() as session:
        assert claim(queue(), session).ids == []
    if engine.dialect.name == "sqlite":
        assert not [s for s in statements if s.split()[0].upper() not in ("SELECT", "BEGIN")]
        assert "BEGIN IMMEDIATE" not in statements


def test_a_lapsed_lease_is_taken_over_and_the_old_holder_writes_nothing(
    committed_url: str,
) -> None:
    [row_id] = add_rows(1)
    q = queue(lease=600)
    with new_session() as first, new_session() as second:
        old = claim(q, first)
        assert old.ids == [row_id]
        assert q.stale(second, utcnow()) == []  # the lease runs for ten minutes
        later = utcnow() + timedelta(minutes=11)
        [lapsed] = q.stale(second, later)
        assert q.take_over(second, lapsed, next_attempt_at=later)
        assert not q.take_over(second, lapsed)  # only once
        new = claim(q, second)
        assert new.ids == [row_id] and new.holder != old.holder

        with pytest.raises(LeaseLost), old.unit(first, row_id):
            first.exec(update(OutboundMail).values(last_error="the old holder's result"))
        assert old.lost(row_id) and not old.holds(row_id)
        assert not old.release(first, row_id, last_error="the old holder's result")
        again = row(row_id)
        assert again.claimed_by == new.holder and again.last_error is None

        with new.unit(second, row_id):
            second.exec(update(OutboundMail).values(last_error="the new holder's result"))
        assert new.release(second, row_id)
    done = row(row_id)
    assert (done.claimed_by, done.claimed_until) == (None, None)
    assert done.last_error == "the new holder's result"


def test_a_claim_whose_process_is_gone_is_taken_over_at_once(committed_url: str) -> None:
    [row_id] = add_rows(1)
    q = queue()
    gone = holder_name().split(":")
    gone[1] = str(2**22 + 12345)  # past Linux's largest pid: no such process
    dead = ":".join(gone)
    with new_session() as session:
        claim(q, session)
        take_over(row_id, dead)  # a worker on this host that has died, lease still on
        [stale] = q.stale(session, utcnow())
        assert stale.id == row_id
        take_over(row_id, holder_name())  # one alive in this process: not stale
        session.rollback()  # a new read
        assert q.stale(session, utcnow()) == []


def test_a_renewing_long_job_keeps_its_rows(committed_url: str) -> None:
    ids = add_rows(2)
    lease_seconds = 0.6
    q = queue(lease=lease_seconds)
    with new_session() as session:
        lease = claim(q, session)
        first_until = row(ids[1]).claimed_until
        assert first_until is not None
        with lease.kept(new_session):
            # Work for several leases; the row waiting its turn is renewed too.
            assert wait_for(lambda: utcnow() > first_until + timedelta(seconds=3 * lease_seconds))
            with new_session() as other:
                assert q.stale(other, utcnow()) == []
            assert all(lease.holds(i) for i in ids)
        with lease.unit(session, ids[1]):
            session.exec(
                update(OutboundMail)
                .where(col(OutboundMail.id) == ids[1])
                .values(last_error="done after a long wait")
            )
    assert row(ids[1]).last_error == "done after a long wait"


def test_a_lost_lease_is_noticed_while_the_job_runs(committed_url: str) -> None:
    ids = add_rows(2)
    q = queue(lease=0.3)
    with new_session() as session:
        lease = claim(q, session)
        with lease.kept(new_session):
            take_over(ids[0])  # the renewal failed for a whole lease, another worker took it
            assert wait_for(lambda: lease.lost(ids[0]))
            assert lease.holds(ids[1])  # the other row stays ours
        with pytest.raises(LeaseLost), lease.unit(session, ids[0]):
            pass
    assert row(ids[0]).claimed_by == OTHER_WORKER


def test_units_refuse_changes_made_outside_them(committed_url: str) -> None:
    [row_id] = add_rows(1)
    with new_session() as session:
        lease = claim(queue(), session)
        loaded = session.exec(select(OutboundMail)).one()
        loaded.last_error = "changed outside any unit"
        with pytest.raises(RuntimeError, match="outside a unit"), lease.unit(session, row_id):
            pass
