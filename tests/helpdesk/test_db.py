"""Units of work wait for SQLite's write lock instead of failing; reads never take it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session, select

from helpdesk.db import (
    _READ_ONLY,
    READ_ONLY_OPTION,
    PendingChanges,
    ReadOnlySession,
    end_read,
    in_unit_of_work,
    make_engine,
    new_session,
    reread,
    transaction,
)
from helpdesk.models import Mailbox


@pytest.fixture
def sqlite_engine(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)"))
        conn.execute(text("INSERT INTO counter VALUES (1, 0)"))
    yield engine
    engine.dispose()


def _read_then_write(session: Session, between: Callable[[], None]) -> None:
    session.execute(text("SELECT n FROM counter")).one()
    between()  # another process writes between our read and our write
    session.execute(text("UPDATE counter SET n = n + 1"))
    session.commit()


def _writer(engine, *, attempting: threading.Event | None = None) -> threading.Thread:
    """A thread adding 10; ``attempting`` is set as its UPDATE starts to run."""

    def trace(statement: str) -> None:
        if attempting is not None and statement.startswith("UPDATE"):
            attempting.set()

    def run() -> None:
        with engine.begin() as conn:
            conn.connection.driver_connection.set_trace_callback(trace)
            try:
                conn.execute(text("UPDATE counter SET n = n + 10"))
            finally:
                conn.connection.driver_connection.set_trace_callback(None)

    return threading.Thread(target=run)


def test_deferred_transaction_loses_to_a_concurrent_commit(sqlite_engine):
    session = Session(sqlite_engine)
    writer = _writer(sqlite_engine)

    def commit_in_between() -> None:
        # A deferred reader does not block writers: the other write commits first.
        writer.start()
        writer.join(timeout=30)
        assert not writer.is_alive()

    with pytest.raises(OperationalError, match="locked"):
        _read_then_write(session, commit_in_between)
    session.close()


def test_write_lock_session_waits_and_both_writes_land(sqlite_engine):
    immediate = sqlite_engine.execution_options(sqlite_begin="IMMEDIATE")
    session = Session(immediate)
    attempting = threading.Event()
    writer = _writer(sqlite_engine, attempting=attempting)

    def try_to_write_in_between() -> None:
        # The other write starts while we hold the lock; it must wait for our commit.
        writer.start()
        assert attempting.wait(timeout=30)

    _read_then_write(session, try_to_write_in_between)
    writer.join(timeout=30)
    assert not writer.is_alive()
    session.close()
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar_one() == 11


def test_a_unit_of_work_after_a_read_waits_its_turn_and_both_writes_land(sqlite_engine):
    session = Session(sqlite_engine, expire_on_commit=False)  # a plain, deferred session
    session.execute(text("SELECT n FROM counter")).one()
    with sqlite_engine.begin() as conn:  # another process commits after our read
        conn.execute(text("UPDATE counter SET n = n + 10"))
    with transaction(session):
        session.execute(text("UPDATE counter SET n = n + 1"))
    assert session.execute(text("SELECT n FROM counter")).scalar_one() == 11
    session.close()


def test_a_unit_of_work_takes_the_sqlite_write_lock_up_front(sqlite_engine):
    statements: list[str] = []
    event.listen(
        sqlite_engine, "before_cursor_execute", lambda *a: statements.append(a[2]), named=False
    )
    session = Session(sqlite_engine, expire_on_commit=False)
    session.execute(text("SELECT n FROM counter")).one()
    with transaction(session):
        session.execute(text("UPDATE counter SET n = 5"))
    session.execute(text("SELECT n FROM counter")).one()
    session.close()
    begins = [s for s in statements if s.startswith("BEGIN")]
    assert begins == ["BEGIN", "BEGIN IMMEDIATE", "BEGIN"]


def test_nested_units_join_the_outer_one_and_an_error_undoes_all(session):

    with pytest.raises(RuntimeError), transaction(session):
        session.add(Mailbox(address="outer@e-tunnus.fi", display_name="Outer"))
        with transaction(session):
            session.add(Mailbox(address="inner@e-tunnus.fi", display_name="Inner"))
        assert in_unit_of_work(session)
        raise RuntimeError("the outer unit fails after the inner one finished")
    assert not in_unit_of_work(session)
    addresses = {m.address for m in session.exec(select(Mailbox))}
    assert not addresses & {"outer@e-tunnus.fi", "inner@e-tunnus.fi"}
    with transaction(session):
        session.add(Mailbox(address="kept@e-tunnus.fi", display_name="Kept"))
    session.expunge_all()
    assert session.exec(select(Mailbox).where(Mailbox.address == "kept@e-tunnus.fi")).one()


def test_changes_made_outside_a_unit_are_refused(session):

    session.add(Mailbox(address="stray@e-tunnus.fi", display_name="Stray"))
    with pytest.raises(PendingChanges), transaction(session):
        pass
    session.rollback()


def test_end_read_keeps_what_was_loaded_and_refuses_stray_changes(session):
    with transaction(session):
        session.add(Mailbox(address="read@e-tunnus.fi", display_name="Read"))
    box = session.exec(select(Mailbox).where(Mailbox.address == "read@e-tunnus.fi")).one()
    end_read(session)
    assert not session.in_transaction()
    assert box.display_name == "Read"  # still loaded: no query, no new transaction
    assert not session.in_transaction()
    box.display_name = "Changed outside"
    with pytest.raises(PendingChanges):
        end_read(session)
    session.rollback()
    with transaction(session), pytest.raises(RuntimeError, match="half"):
        end_read(session)


def test_reread_builds_on_what_another_process_committed(committed_url):
    engine = make_engine(committed_url)
    mine = Session(engine, expire_on_commit=False)
    with transaction(mine):
        mine.add(Mailbox(address="stale@e-tunnus.fi", display_name="Before"))
    box = mine.exec(select(Mailbox).where(Mailbox.address == "stale@e-tunnus.fi")).one()
    end_read(mine)
    with Session(engine) as other, transaction(other):
        theirs = other.get(Mailbox, box.id)
        assert theirs is not None
        theirs.display_name = "Theirs"
    assert box.display_name == "Before"  # what this session loaded is stale now
    with transaction(mine):
        box.signature = "ours"  # the unit's own change survives the re-read
        reread(mine, box)
        assert (box.display_name, box.signature) == ("Theirs", "ours")
    with pytest.raises(RuntimeError, match="inside a unit"):
        reread(mine, box)
    mine.close()
    engine.dispose()


def test_changes_flushed_outside_a_unit_are_refused_too(session):
    # A flush empties session.new, but the rows are not the next unit's to commit.
    session.add(Mailbox(address="flushed@e-tunnus.fi", display_name="Flushed"))
    session.flush()
    with pytest.raises(PendingChanges), transaction(session):
        pass
    with pytest.raises(PendingChanges):
        end_read(session)
    session.rollback()
    with transaction(session):  # a rollback (or a commit) ends the stray changes
        session.add(Mailbox(address="unit@e-tunnus.fi", display_name="Unit"))
        with session.begin_nested():  # a savepoint inside the unit is no stray flush
            session.add(Mailbox(address="nested@e-tunnus.fi", display_name="Nested"))
    found = {m.address for m in session.exec(select(Mailbox))}
    assert {"unit@e-tunnus.fi", "nested@e-tunnus.fi"} <= found
    assert "flushed@e-tunnus.fi" not in found


def test_a_read_only_session_refuses_writes_and_the_database_does_too(committed_url):
    session = new_session(read_only=True)
    try:
        assert session.exec(select(Mailbox)).all() == []
        session.add(Mailbox(address="get@e-tunnus.fi", display_name="GET"))
        with pytest.raises(ReadOnlySession):
            session.flush()
        session.expunge_all()
        with pytest.raises(ReadOnlySession):
            session.execute(text("DELETE FROM mailbox"))
        with pytest.raises(ReadOnlySession), transaction(session):
            pass
        # Underneath the session: SQLite's query_only, PostgreSQL's READ ONLY transaction.
        with pytest.raises(DBAPIError, match=r"readonly|read-only"):
            session.connection().exec_driver_sql("DELETE FROM mailbox")
    finally:
        session.close()
    writer = new_session()  # the pool's connection writes again for the next session
    try:
        with transaction(writer):
            writer.add(Mailbox(address="post@e-tunnus.fi", display_name="POST"))
    finally:
        writer.close()
    reader = new_session(read_only=True)
    assert [m.address for m in reader.exec(select(Mailbox))] == ["post@e-tunnus.fi"]
    reader.close()


READ_ONLY_INFO = {_READ_ONLY: True}


def test_a_read_only_session_reads_while_another_process_holds_the_write_lock(tmp_path):
    url = f"sqlite:///{tmp_path / 'held.db'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)"))
        conn.execute(text("INSERT INTO counter VALUES (1, 0)"))
    holder = make_engine(url)  # another process: its own connections
    read_done, locked = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        with holder.connect().execution_options(sqlite_begin="IMMEDIATE") as conn:
            conn.begin()
            conn.execute(text("UPDATE counter SET n = 5"))
            locked.set()
            read_done.wait(timeout=60)  # held until the reader has read
            conn.commit()

    thread = threading.Thread(target=hold_the_lock)
    thread.start()
    assert locked.wait(timeout=30)
    reader = Session(engine.execution_options(**{READ_ONLY_OPTION: True}), info=READ_ONLY_INFO)
    try:
        # A deferred read sees the last commit and does not wait for the lock (a wait
        # would end in "database is locked" after the busy timeout, failing the test).
        assert reader.execute(text("SELECT n FROM counter")).scalar_one() == 0
    finally:
        reader.close()
        read_done.set()
        thread.join(timeout=30)
    holder.dispose()
    engine.dispose()


def test_every_sqlite_connection_is_wal_with_a_busy_timeout(sqlite_engine):
    with sqlite_engine.connect() as first, sqlite_engine.connect() as second:
        for conn in (first, second):
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 10_000
