"""The job scheduler: an idle tick only reads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import event

from helpdesk.db import get_engine
from helpdesk.hookspecs import ScheduledJob
from helpdesk.jobs import run_due_jobs


def first_time_only(now: datetime, last_run: datetime | None) -> bool:
    return last_run is None


def test_a_tick_with_nothing_due_only_reads(committed_url: str) -> None:
    job = ScheduledJob(name="testi-kerran", due=first_time_only, run=lambda session: None)
    assert run_due_jobs([job]) == ["testi-kerran"]
    statements: list[str] = []

    def note(_conn, _cursor, statement, _params, _context, _many) -> None:
        statements.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", note)
    try:
        assert run_due_jobs([job]) == []
    finally:
        event.remove(engine, "before_cursor_execute", note)
    # One SELECT of the job table; on SQLite its deferred BEGIN, never BEGIN IMMEDIATE.
    assert [s for s in statements if s.split()[0].upper() != "SELECT"] in ([], ["BEGIN"])
    assert sum("job_lock" in s for s in statements) == 1
