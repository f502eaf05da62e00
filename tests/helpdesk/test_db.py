"""SQLite sessions that serve people wait for the write lock instead of failing."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from helpdesk.db import make_engine


@pytest.fixture
def sqlite_engine(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)"))
        conn.execute(text("INSERT INTO counter VALUES (1, 0)"))
    yield engine
    engine.dispose()


def _read_then_write(session: Session, other_writer: threading.Thread) -> None:
    session.execute(text("SELECT n FROM counter")).one()
    other_writer.start()
    other_writer.join(timeout=0.5)  # the other process commits between our read and write
    session.execute(text("UPDATE counter SET n = n + 1"))
    session.commit()


def _writer(engine) -> threading.Thread:
    def run() -> None:
        with engine.begin() as conn:
            conn.execute(text("UPDATE counter SET n = n + 10"))

    return threading.Thread(target=run)


def test_deferred_transaction_loses_to_a_concurrent_commit(sqlite_engine):
    session = Session(sqlite_engine)
    with pytest.raises(OperationalError, match="locked"):
        _read_then_write(session, _writer(sqlite_engine))
    session.close()


def test_write_lock_session_waits_and_both_writes_land(sqlite_engine):
    immediate = sqlite_engine.execution_options(sqlite_begin="IMMEDIATE")
    session = Session(immediate)
    writer = _writer(sqlite_engine)
    _read_then_write(session, writer)
    writer.join(timeout=10)
    session.close()
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar_one() == 11
