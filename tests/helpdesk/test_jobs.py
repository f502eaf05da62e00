"""The job scheduler: an idle tick only reads, leases are renewed, a lost claim is noticed."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from polling import wait_for
from sqlalchemy import update
from sqlmodel import Session, col, select
from statements import statements_run

from helpdesk.db import get_engine, new_session
from helpdesk.hookspecs import ScheduledJob
from helpdesk.jobs import run_due_jobs, still_claimed
from helpdesk.locks import is_free
from helpdesk.models import JobLock, utcnow

#: Another worker, on another host, as it would look at the job table.
OTHER_WORKER = "elsewhere:4242:b"


def first_time_only(now: datetime, last_run: datetime | None) -> bool:
    return last_run is None


def job_row(name: str) -> JobLock:
    with new_session() as session:
        return session.exec(select(JobLock).where(JobLock.name == f"job:{name}")).one()


def in_a_worker(job: ScheduledJob) -> tuple[threading.Thread, list[str]]:
    ran: list[str] = []
    worker = threading.Thread(target=lambda: ran.extend(run_due_jobs([job])))
    worker.start()
    return worker, ran


def test_a_tick_with_nothing_due_only_reads(committed_url: str) -> None:
    job = ScheduledJob(name="testi-kerran", due=first_time_only, run=lambda session: None)
    assert run_due_jobs([job]) == ["testi-kerran"]
    with statements_run(get_engine()) as statements:
        assert run_due_jobs([job]) == []
    # One SELECT of the job table; on SQLite its deferred BEGIN, never BEGIN IMMEDIATE.
    assert [s for s in statements if s.split()[0].upper() != "SELECT"] in ([], ["BEGIN"])
    assert sum("job_lock" in s for s in statements) == 1


def test_a_long_job_keeps_its_claim_past_its_lease(committed_url: str) -> None:
    lease = 1.5
    started, finish = threading.Event(), threading.Event()

    def run(session: Session) -> None:
        started.set()
        assert finish.wait(30)

    job = ScheduledJob(
        name="testi-pitka", due=first_time_only, run=run, extra={"lease_seconds": lease}
    )
    worker, ran = in_a_worker(job)
    try:
        assert started.wait(30)
        first = job_row("testi-pitka")
        assert first.last_started_at is not None
        first_lease_ends = first.last_started_at + timedelta(seconds=lease)

        def renewed_well_past_the_first_lease() -> bool:
            row = job_row("testi-pitka")
            return row.locked_until is not None and row.locked_until > first_lease_ends + (
                timedelta(seconds=lease)
            )

        # Renewed at least once after the first lease ran out: the job is past its lease.
        assert wait_for(renewed_well_past_the_first_lease)
        row, now = job_row("testi-pitka"), utcnow()
        assert now > first_lease_ends
        assert row.locked_by == first.locked_by
        assert not is_free(row, now, OTHER_WORKER)
        assert still_claimed()  # outside a job: always
    finally:
        finish.set()
        worker.join(30)
    assert ran == ["testi-pitka"]
    done = job_row("testi-pitka")
    assert done.locked_by is None and done.last_finished_at is not None
    assert done.last_error is None


def test_a_lost_claim_is_noticed_and_left_to_the_new_holder(committed_url: str) -> None:
    started = threading.Event()
    noticed: list[bool] = []

    def run(session: Session) -> None:
        started.set()
        noticed.append(wait_for(lambda: not still_claimed()))

    job = ScheduledJob(
        name="testi-menetetty", due=first_time_only, run=run, extra={"lease_seconds": 0.3}
    )
    worker, ran = in_a_worker(job)
    try:
        assert started.wait(30)
        # Another worker took the job over, as it may once a lease has run out.
        with new_session() as session:
            session.exec(
                update(JobLock)
                .where(col(JobLock.name) == "job:testi-menetetty")
                .values(locked_by=OTHER_WORKER, locked_until=utcnow() + timedelta(hours=1))
            )
            session.commit()
    finally:
        worker.join(30)
    assert noticed == [True]
    assert ran == ["testi-menetetty"]
    row = job_row("testi-menetetty")
    assert row.locked_by == OTHER_WORKER and row.last_finished_at is None
