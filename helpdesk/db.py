"""Engine and sessions. One engine per database URL; SQLite tuned for a shared web + worker."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.sql.elements import TextClause
from sqlmodel import Session, create_engine

from helpdesk.settings import get_settings

_engines: dict[str, Engine] = {}

_Row = TypeVar("_Row")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy issue BEGIN itself, so that SAVEPOINTs work (pysqlite otherwise
    # manages transactions on its own and breaks nested ones).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


#: Execution option of a read-only session's engine (``new_session(read_only=True)``).
READ_ONLY_OPTION = "helpdesk_read_only"


def _sqlite_begin(conn: Any) -> None:
    # A deferred transaction that reads and then writes fails at once with "database is
    # locked" when another process committed in between (WAL snapshots cannot be upgraded),
    # and no busy timeout helps. A unit of work (``transaction``) therefore takes the write
    # lock up front (``BEGIN IMMEDIATE``) and waits its turn; reads begin deferred, never
    # take the lock and are never blocked. A read-only session's connection is switched to
    # ``query_only``, so a write in it fails at once instead of upgrading to the lock.
    options = conn.get_execution_options()
    read_only = bool(options.get(READ_ONLY_OPTION))
    if conn.info.get(READ_ONLY_OPTION, False) != read_only:
        conn.exec_driver_sql(f"PRAGMA query_only={int(read_only)}")
        conn.info[READ_ONLY_OPTION] = read_only
    mode = options.get("sqlite_begin", "")
    conn.exec_driver_sql(f"BEGIN {mode}".strip())


def _postgres_begin(conn: Any) -> None:
    # A read-only session's transactions are READ ONLY: PostgreSQL refuses any write.
    if conn.get_execution_options().get(READ_ONLY_OPTION):
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")


def make_engine(url: str) -> Engine:
    """Create an engine for ``url`` (SQLite gets WAL, foreign keys and a busy timeout)."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    event.listen(engine, "begin", _postgres_begin)
    return engine


def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for ``url`` (default: the configured database)."""
    url = url or get_settings().database_url
    if url not in _engines:
        _engines[url] = make_engine(url)
    return _engines[url]


def reset_engines() -> None:
    """Dispose every engine (tests and forked workers)."""
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


def new_session(*, read_only: bool = False) -> Session:
    """A session on the configured database; the caller closes it.

    Its reads run in deferred transactions (SQLite: plain ``BEGIN``, no write lock); its
    writes take the lock in ``transaction``. ``read_only`` (web GET and HEAD requests)
    refuses every write: ``ReadOnlySession`` from the session, and the database's own
    refusal underneath (SQLite ``query_only``, PostgreSQL ``READ ONLY`` transactions).
    """
    engine = get_engine()
    if read_only:
        reader = engine.execution_options(**{READ_ONLY_OPTION: True})
        return Session(reader, expire_on_commit=False, info={_READ_ONLY: True})
    return Session(engine, expire_on_commit=False)


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session for CLI commands and workers; services open their units of work in it."""
    session = new_session()
    try:
        yield session
    finally:
        session.close()


#: ``session.info`` key: how deep this session is inside ``transaction`` blocks.
_UNIT_DEPTH = "helpdesk.unit_depth"


class PendingChanges(RuntimeError):
    """A unit of work began while the session held changes made outside any unit."""


class ReadOnlySession(RuntimeError):
    """A write in a read-only session: a GET or HEAD request must not write."""


#: ``session.info`` key: the session only reads (``new_session(read_only=True)``, ``reading``).
_READ_ONLY = "helpdesk.read_only"

_WRITE_WORDS = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE"})


def is_read_only(session: OrmSession) -> bool:
    """True for a session that refuses writes (web GET and HEAD requests)."""
    return bool(session.info.get(_READ_ONLY))


@contextmanager
def reading(session: Session) -> Iterator[Session]:
    """Make ``session`` refuse writes for the block (a shared session serving a GET)."""
    before = session.info.get(_READ_ONLY)
    session.info[_READ_ONLY] = True
    try:
        yield session
    finally:
        session.info[_READ_ONLY] = before


@event.listens_for(Session, "before_flush")
def _refuse_flush_when_read_only(session: Session, _context: Any, _instances: Any) -> None:
    if not is_read_only(session):
        return
    if session.new or session.deleted or any(session.is_modified(o) for o in session.dirty):
        raise ReadOnlySession("a read-only session (a GET request) tried to write")


@event.listens_for(Session, "do_orm_execute")
def _refuse_statement_when_read_only(state: ORMExecuteState) -> None:
    if not is_read_only(state.session):
        return
    statement = state.statement
    writes = state.is_insert or state.is_update or state.is_delete
    if isinstance(statement, TextClause):
        words = statement.text.split(None, 1)
        writes = bool(words) and words[0].upper() in _WRITE_WORDS
    if writes:
        raise ReadOnlySession("a read-only session (a GET request) tried to write")


#: ``session.info`` key: changes were flushed outside any unit of work and not yet
#: committed or rolled back; the next unit would commit them as if they were its own.
_STRAY_FLUSH = "helpdesk.stray_flush"


@event.listens_for(Session, "after_flush")
def _note_stray_flush(session: Session, _context: Any) -> None:
    if not session.info.get(_UNIT_DEPTH):
        session.info[_STRAY_FLUSH] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_stray_flush(session: Session, ended: Any) -> None:
    if ended.parent is None:  # committed or rolled back as a whole, not a savepoint
        session.info.pop(_STRAY_FLUSH, None)


def in_unit_of_work(session: Session) -> bool:
    """True inside a ``transaction`` block of ``session``."""
    return bool(session.info.get(_UNIT_DEPTH))


_thread_units = threading.local()


def unit_open_in_thread() -> bool:
    """True while this thread is inside a ``transaction`` block of any session.

    No network I/O belongs there; the tests' network guard asks this.
    """
    return bool(getattr(_thread_units, "depth", 0))


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """The write phase of one unit of work: the only place the product commits.

    On entry the session's read transaction (if any) ends, and a new transaction begins
    that takes SQLite's write lock up front (``BEGIN IMMEDIATE``: it waits its turn under
    the busy timeout instead of failing when another process committed after our read).
    On a normal exit it commits; on an exception it rolls back and re-raises.

    A ``transaction`` inside another one of the same session joins it: the outer block
    commits once, so services compose into a larger unit without a ``commit=`` flag.
    Keep the block short and free of network I/O (IMAP, SMTP, Netvisor, Maventa): read
    and call the outside world before it, write inside it.
    """
    depth = session.info.get(_UNIT_DEPTH, 0)
    if depth:
        session.info[_UNIT_DEPTH] = depth + 1
        try:
            yield session
        finally:
            session.info[_UNIT_DEPTH] = depth
        return
    if is_read_only(session):
        raise ReadOnlySession("a read-only session (a GET request) tried to open a unit of work")
    end_read(session)
    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
    session.info[_UNIT_DEPTH] = 1
    _thread_units.depth = getattr(_thread_units, "depth", 0) + 1
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info[_UNIT_DEPTH] = 0
        _thread_units.depth -= 1


def end_read(session: Session) -> None:
    """End the session's read transaction, keeping what it loaded.

    Call it before waiting on the network (IMAP, Netvisor, Maventa): an open read holds
    a snapshot (and on SQLite keeps the WAL from being checkpointed) for the whole wait.
    Like ``transaction`` it refuses changes made outside a unit of work, and it refuses to
    run inside one (that would commit half of the unit).
    """
    if in_unit_of_work(session):
        raise RuntimeError("end_read inside a unit of work would commit half of it")
    if session.new or session.dirty or session.deleted or session.info.get(_STRAY_FLUSH):
        raise PendingChanges("changes made outside a unit of work: do them inside it")
    if session.in_transaction():
        session.commit()  # nothing is pending (checked above): this only ends the read


def reread(session: Session, row: _Row) -> _Row:
    """Read ``row`` again inside the unit of work, so that a change builds on what is stored.

    An object loaded before the unit began may be stale (another process committed in
    between). The unit's own changes are flushed first, so they are kept; on PostgreSQL
    the row is locked (``FOR UPDATE``) until the unit ends, on SQLite the unit holds the
    write lock already.
    """
    if not in_unit_of_work(session):
        raise RuntimeError("reread belongs inside a unit of work (db.transaction)")
    session.flush()
    session.refresh(row, with_for_update=True)
    return row


def is_postgres(session: Session) -> bool:
    """True when the session talks to PostgreSQL (row locks, advisory locks, tsvector)."""
    bind = session.get_bind()
    return bind.dialect.name == "postgresql"
