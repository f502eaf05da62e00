"""The worker against a real Dovecot: IDLE delivery, kill -9 mid-batch, SIGTERM, job claims."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from mailgen import mail, mixed
from mailservers import DovecotServer, MailUser
from sqlalchemy import event
from sqlmodel import Session, func, select

from helpdesk import jobs as jobs_module
from helpdesk.db import get_engine, make_engine, reset_engines, transaction
from helpdesk.hookspecs import ScheduledJob
from helpdesk.jobs import PERIODIC, Worker, register_periodic, run_due_jobs
from helpdesk.mail.imap.session import ImapSession
from helpdesk.mail.inbound.watch import MailboxWatcher, fetch_once
from helpdesk.models import InboundMail, JobLock, Mailbox, Message, utcnow
from helpdesk.services import mailboxes
from helpdesk.settings import get_settings

pytestmark = pytest.mark.dovecot

MakeUser = Callable[..., MailUser]
ROOT = Path(__file__).resolve().parents[4]


def db(url: str) -> Session:
    return Session(make_engine(url), expire_on_commit=False)


def add_mailbox(url: str, user: MailUser) -> int:
    with db(url) as session:
        box = mailboxes.add_mailbox(session, address=user.address, **user.imap_fields())
        return box.id or 0


def count(url: str, model: type) -> int:
    with db(url) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def helpdesk(url: str, data_dir: Path, *args: str) -> subprocess.Popen[str]:
    env = os.environ | {"HELPDESK_DATABASE_URL": url, "HELPDESK_DATA_DIR": str(data_dir)}
    return subprocess.Popen(
        [sys.executable, "-m", "helpdesk", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition: Callable[[], bool], timeout: float, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False


def append_many(dovecot: DovecotServer, user: MailUser, raws: list[bytes]) -> None:
    with dovecot.client(user.name) as client:
        for raw in raws:
            client.append("INBOX", raw)


def test_idle_delivers_new_mail_without_waiting_for_the_poll(
    committed_url: str,
    data_dir: Path,
    dovecot: DovecotServer,
    mail_user: MakeUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The watcher would look again only after an hour: within the generous timeouts
    # below, only IDLE can bring the mail in.
    monkeypatch.setattr(get_settings(), "mail_poll_seconds", 3600.0)
    monkeypatch.setattr(get_settings(), "mail_idle_seconds", 3600.0)
    idling = threading.Semaphore(0)  # one permit each time the watcher goes into IDLE
    idle_wait = ImapSession.idle_wait

    def noted_idle_wait(self: ImapSession, timeout: float) -> bool:
        idling.release()
        return idle_wait(self, timeout)

    monkeypatch.setattr(ImapSession, "idle_wait", noted_idle_wait)
    user = mail_user()
    mailbox_id = add_mailbox(committed_url, user)
    stop = threading.Event()
    watcher = MailboxWatcher(mailbox_id, stop)
    watcher.start()
    try:
        for n in range(1, 4):
            assert idling.acquire(timeout=30), "the watcher did not go into IDLE"
            dovecot.append(user.name, mail(subject=f"IDLE-testi {n} äö"))
            assert wait_for(lambda n=n: count(committed_url, Message) == n, 30)
    finally:
        stop.set()
        watcher.interrupt()
        assert watcher.thread is not None
        watcher.thread.join(10)
    assert not watcher.alive


def test_a_commit_by_another_process_between_the_watchers_read_and_write_is_no_failure(
    committed_url: str,
    data_dir: Path,
    dovecot: DovecotServer,
    mail_user: MakeUser,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # On SQLite a write in a transaction that read before another process committed fails
    # at once with "database is locked". The watcher once wrote its first folder state (and
    # renewed its lock after IDLE) in such a transaction; the failed flush then made the
    # error handling raise PendingRollbackError and the mailbox thread died. Here another
    # process commits exactly in those two gaps: while the watcher selects the folder
    # (after its read of the mailbox, before the folder state is written) and while it
    # idles (after its read of the folder state, before the lease is renewed).
    monkeypatch.setattr(get_settings(), "mail_poll_seconds", 3600.0)
    monkeypatch.setattr(get_settings(), "mail_idle_seconds", 3600.0)
    caplog.set_level(logging.WARNING, logger="helpdesk")
    other = make_engine(committed_url)

    def another_process_commits() -> None:
        with Session(other) as session, transaction(session):
            found = session.exec(select(JobLock).where(JobLock.name == "job:elsewhere")).first()
            row = found or JobLock(name="job:elsewhere")
            row.last_finished_at = utcnow()
            session.add(row)

    imap_select, idle_wait = ImapSession.select, ImapSession.idle_wait
    selects: list[str] = []
    idling = threading.Semaphore(0)  # one permit each time the watcher idles after the gap
    idles: list[float] = []

    def select_with_a_commit(self: ImapSession, folder: str) -> Any:
        selects.append(folder)
        if len(selects) == 1:
            another_process_commits()
        return imap_select(self, folder)

    def idle_with_a_commit(self: ImapSession, timeout: float) -> bool:
        idles.append(timeout)
        if len(idles) == 1:
            another_process_commits()
            return False  # the slice ended without mail: the watcher renews its lock
        idling.release()
        return idle_wait(self, timeout)

    monkeypatch.setattr(ImapSession, "select", select_with_a_commit)
    monkeypatch.setattr(ImapSession, "idle_wait", idle_with_a_commit)
    user = mail_user()
    mailbox_id = add_mailbox(committed_url, user)
    dovecot.append(user.name, mail(subject="Ennen kuin vahti alkaa"))
    stop = threading.Event()
    watcher = MailboxWatcher(mailbox_id, stop)
    watcher.start()
    try:
        assert wait_for(lambda: count(committed_url, Message) == 1, 30)
        assert idling.acquire(timeout=30), "the watcher did not go back into IDLE"
        dovecot.append(user.name, mail(subject="Vahdin ollessa hereillä"))
        assert wait_for(lambda: count(committed_url, Message) == 2, 30)
        assert watcher.alive
    finally:
        stop.set()
        watcher.interrupt()
        assert watcher.thread is not None
        watcher.thread.join(10)
        other.dispose()
    assert len(selects) >= 1 and len(idles) >= 2  # both gaps were exercised
    assert [r.getMessage() for r in caplog.records if r.name.startswith("helpdesk")] == []
    with db(committed_url) as session:
        box = session.get(Mailbox, mailbox_id)
        assert box is not None and box.last_error is None


@pytest.mark.slow
def test_killed_mid_batch_then_restarted_imports_every_mail_exactly_once(
    committed_url: str, data_dir: Path, dovecot: DovecotServer, mail_user: MakeUser
) -> None:
    user = mail_user()
    add_mailbox(committed_url, user)
    append_many(dovecot, user, mixed(300, attachment_bytes=2000))

    first = helpdesk(committed_url, data_dir, "mail", "fetch", "--once")
    assert wait_for(lambda: count(committed_url, Message) >= 40, 60, step=0.005)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    killed_at = count(committed_url, Message)
    assert killed_at < 300, "the fetch finished before it could be killed"

    second = helpdesk(committed_url, data_dir, "mail", "fetch", "--once")
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    counts = json.loads(out.strip().splitlines()[-1])
    assert counts["imported"] == 300 - killed_at and counts["failed"] == 0
    with db(committed_url) as session:
        messages = session.exec(select(Message)).all()
        inbound = session.exec(select(InboundMail)).all()
    assert len(messages) == 300 and len({m.raw_sha256 for m in messages}) == 300
    assert len(inbound) == 300 and len({r.uid for r in inbound}) == 300
    assert all("\\Seen" in m.flags for m in dovecot.fetch_messages(user.name))
    reset_engines()


def test_worker_serves_mail_and_stops_on_sigterm(
    committed_url: str, data_dir: Path, dovecot: DovecotServer, mail_user: MakeUser
) -> None:
    user = mail_user()
    add_mailbox(committed_url, user)
    worker = helpdesk(committed_url, data_dir, "worker")
    try:
        dovecot.append(user.name, mail(subject="Työntekijä hakee tämän"))
        assert wait_for(lambda: count(committed_url, Message) == 1, 20)
        dovecot.append(user.name, mail(subject="Ja tämänkin"))
        assert wait_for(lambda: count(committed_url, Message) == 2, 10)
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=20)
    assert worker.returncode == 0, err
    assert "worker stopped" in err


def test_worker_once_fetches_and_prints_json(
    committed_url: str, data_dir: Path, dovecot: DovecotServer, mail_user: MakeUser
) -> None:
    user = mail_user()
    add_mailbox(committed_url, user)
    for raw in mixed(3):
        dovecot.append(user.name, raw)
    proc = helpdesk(committed_url, data_dir, "worker", "--once")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["mail"]["imported"] == 3
    assert summary["mailboxes"] == {user.address: "ok"}


def test_ingest_waits_for_another_process_holding_the_write_lock(
    committed_url: str,
    data_dir: Path,
    dovecot: DovecotServer,
    mail_user: MakeUser,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The web or a CLI command in another process holds SQLite's write lock while the
    # worker has mail to write: the worker's units of work (BEGIN IMMEDIATE per group of
    # mail, under the busy timeout) wait their turn and then land; none fails with
    # "database is locked".
    if not committed_url.startswith("sqlite"):
        pytest.skip("SQLite's database-wide write lock; PostgreSQL locks rows")
    caplog.set_level(logging.WARNING, logger="helpdesk")
    user = mail_user()
    add_mailbox(committed_url, user)
    for raw in mixed(3):
        dovecot.append(user.name, raw)
    holder = make_engine(committed_url)  # the other process: connections of its own
    locked, attempting, released = threading.Event(), threading.Event(), threading.Event()
    began: list[str] = []

    def note_begin(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if statement == "BEGIN IMMEDIATE" and locked.is_set():
            began.append("released" if released.is_set() else "held")
            attempting.set()

    def hold_the_lock() -> None:
        with holder.connect().execution_options(sqlite_begin="IMMEDIATE") as conn:
            conn.begin()
            conn.exec_driver_sql("UPDATE mailbox SET display_name = display_name")
            locked.set()
            attempting.wait(timeout=60)  # the worker now waits for the lock
            time.sleep(0.5)  # ... for a while, inside its busy timeout
            released.set()
            conn.commit()

    reset_engines()
    engine = get_engine(committed_url)
    event.listen(engine, "before_cursor_execute", note_begin)
    thread = threading.Thread(target=hold_the_lock)
    thread.start()
    try:
        assert locked.wait(timeout=30)
        result = fetch_once()
    finally:
        attempting.set()
        thread.join(timeout=60)
        event.remove(engine, "before_cursor_execute", note_begin)
        holder.dispose()
    assert result.mailboxes == {user.address: "ok"}
    assert result.counts.imported == 3 and count(committed_url, Message) == 3
    assert began[0] == "held"  # the worker's first write phase began under the other's lock
    assert [r.getMessage() for r in caplog.records if "locked" in r.getMessage()] == []


def test_a_due_job_runs_once_across_workers(committed_url: str) -> None:
    runs: list[str] = []
    lock = threading.Lock()

    def run(session: Session) -> None:
        with lock:
            runs.append(threading.current_thread().name)
        time.sleep(0.2)

    def due(now: datetime, last_run: datetime | None) -> bool:
        return last_run is None or now - last_run > timedelta(hours=1)

    job = ScheduledJob(name="testi-ajo", due=due, run=run)
    barrier = threading.Barrier(4)

    def worker() -> None:
        barrier.wait()
        run_due_jobs([job], session_factory=lambda: db(committed_url))

    threads = [threading.Thread(target=worker, name=f"w{i}") for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(runs) == 1
    # Not due again within the hour, whichever worker asks.
    assert run_due_jobs([job], session_factory=lambda: db(committed_url)) == []
    assert len(runs) == 1


def test_periodic_core_tasks_run_when_due(committed_url: str, monkeypatch) -> None:
    monkeypatch.setattr("helpdesk.jobs.PERIODIC", list(PERIODIC))
    # Only the core tasks: the plugins' jobs are their own tests' business.
    monkeypatch.setattr(
        "helpdesk.jobs.scheduled_jobs", lambda: [t.as_job() for t in jobs_module.PERIODIC]
    )
    calls: list[int] = []
    register_periodic("testi", lambda session: calls.append(1), interval=3600)
    register_periodic("testi", lambda session: calls.append(2), interval=3600)  # ignored
    worker = Worker(session_factory=lambda: db(committed_url))
    assert "core:testi" in worker.run_once()["jobs"]
    assert "core:testi" not in worker.run_once()["jobs"]
    assert calls == [1]
