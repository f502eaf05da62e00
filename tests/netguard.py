"""No network I/O while a database transaction that writes is open (docs/architecture.md).

A pytest plugin (``pytest_plugins`` in conftest.py). It follows every connection's
transaction and savepoints through SQLAlchemy's events and notes which levels have written
(an INSERT, UPDATE or DELETE ran) or took SQLite's write lock (``BEGIN IMMEDIATE``); the
product's ``db.transaction`` blocks count too (``db.unit_open_in_thread``), since in tests
they are savepoints of the shared session. A socket ``connect`` or ``send`` on an IP socket
from product code (``helpdesk/``, ``plugins/``) while the calling thread has such a level
open raises ``NetworkInTransaction``, and the test fails even when the product catches it.

Not guarded: the database's own connections (psycopg talks through libpq, not Python
sockets), Unix sockets, and sockets used by test code alone (the tests' servers and
clients): only a call with product code on the stack counts. The test session's outer
transaction is the harness's own (``harness``): factories write there, and it is not a
transaction of the product.

``NETGUARD_STRICT=1`` counts open read transactions too (the rule is "no network I/O while
any transaction is open"); a test whose own code reads and then calls the product's
network code directly trips it, so it is a tool for finding reads left open before a
network wait, not the default.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from helpdesk import db

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = (str(ROOT / "helpdesk") + "/", str(ROOT / "plugins") + "/")
NOT_PRODUCT = (str(ROOT / "plugins" / "invoices" / "sandboxes") + "/",)
WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE"})
GUARDED = ("connect", "connect_ex", "send", "sendall", "sendto", "sendmsg")
_STACK = "netguard.levels"
STRICT = os.environ.get("NETGUARD_STRICT") == "1"


class NetworkInTransaction(RuntimeError):
    """Product code did network I/O while its thread had a writing transaction open."""


@dataclass
class Level:
    """A transaction or savepoint of one connection."""

    thread: int
    writes: bool = False
    harness: bool = False
    savepoint: bool = False


_lock = threading.Lock()
_permitted = threading.local()
#: Open transactions, by the ``info`` dict of their connection.
_open: dict[int, list[Level]] = {}
_violations: list[str] = []


def _levels(conn: Connection) -> list[Level]:
    info = conn.info
    stack: list[Level] = info.setdefault(_STACK, [])
    with _lock:
        _open[id(info)] = stack
    return stack


def _close(conn: Connection) -> None:
    info = conn.info
    with _lock:
        _open.pop(id(info), None)
    info.pop(_STACK, None)


def harness(connection: Connection) -> None:
    """Mark the connection's open transaction as the test harness's own (not guarded)."""
    for level in _levels(connection):
        level.harness = True


def _on_begin(conn: Connection) -> None:
    immediate = conn.dialect.name == "sqlite" and (
        conn.get_execution_options().get("sqlite_begin") == "IMMEDIATE"
    )
    _levels(conn)[:] = [Level(threading.get_ident(), writes=immediate)]


def _on_end(conn: Connection) -> None:
    _close(conn)


# Savepoints nest and end innermost first; the event does not always know the name.
def _on_savepoint(conn: Connection, _name: str | None) -> None:
    _levels(conn).append(Level(threading.get_ident(), savepoint=True))


def _on_release(conn: Connection, _name: str, _context: Any) -> None:
    stack = _levels(conn)
    if stack and stack[-1].savepoint:
        level = stack.pop()
        if stack and level.writes and not stack[-1].harness:
            stack[-1].writes = True  # its writes are the enclosing transaction's now


def _on_rollback_savepoint(conn: Connection, _name: str, _context: Any) -> None:
    stack = _levels(conn)
    if stack and stack[-1].savepoint:
        stack.pop()


def _on_statement(conn: Connection, _cursor: Any, statement: str, *_rest: Any) -> None:
    words = statement.split(None, 1)
    if not words or words[0].upper() not in WRITES:
        return
    stack = _levels(conn)
    if stack and not stack[-1].harness:
        stack[-1].writes = True


LISTENERS: tuple[tuple[str, Callable[..., None]], ...] = (
    ("begin", _on_begin),
    ("commit", _on_end),
    ("rollback", _on_end),
    ("savepoint", _on_savepoint),
    ("release_savepoint", _on_release),
    ("rollback_savepoint", _on_rollback_savepoint),
    ("before_cursor_execute", _on_statement),
)


@contextmanager
def permitted() -> Iterator[None]:
    """Let test code run from inside the product (a patched step) use the network.

    For a test that stages an outside event mid-transaction on purpose (a server restart).
    """
    _permitted.on = True
    try:
        yield
    finally:
        _permitted.on = False


def writing_transaction_open() -> str | None:
    """What this thread holds open that wrote (a unit of work, a transaction), or None."""
    if getattr(_permitted, "on", False):
        return None
    if db.unit_open_in_thread():
        return "a db.transaction block"
    me = threading.get_ident()
    with _lock:
        stacks = list(_open.values())
    for stack in stacks:
        for level in stack:
            if level.thread == me and (level.writes or STRICT) and not level.harness:
                kind = "savepoint" if level.savepoint else "transaction"
                return f"a {kind} that wrote" if level.writes else f"an open {kind} (strict)"
    return None


def _product_caller() -> str | None:
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith(PRODUCT) and not name.startswith(NOT_PRODUCT):
            return f"{name}:{frame.f_lineno} in {frame.f_code.co_name}"
        frame = frame.f_back  # type: ignore[assignment]
    return None


def _guarded(method: str, original: Callable[..., Any]) -> Callable[..., Any]:
    def guard(sock: socket.socket, *args: Any, **kwargs: Any) -> Any:
        held = sock.family in (socket.AF_INET, socket.AF_INET6) and writing_transaction_open()
        if held:
            caller = _product_caller()
            if caller is not None:
                message = f"network I/O (socket.{method}) inside {held}: {caller}"
                _violations.append(message)
                raise NetworkInTransaction(message)
        return original(sock, *args, **kwargs)

    return guard


@pytest.fixture(scope="session", autouse=True)
def _network_guard() -> Iterator[None]:
    originals = {name: getattr(socket.socket, name) for name in GUARDED}
    for name, original in originals.items():
        setattr(socket.socket, name, _guarded(name, original))
    for name, listener in LISTENERS:
        event.listen(Engine, name, listener)
    yield
    for name, listener in LISTENERS:
        event.remove(Engine, name, listener)
    for name, original in originals.items():
        setattr(socket.socket, name, original)


@pytest.fixture(autouse=True)
def _no_network_in_transaction() -> Iterator[None]:
    """Fail the test when product code did network I/O inside a writing transaction."""
    del _violations[:]
    yield
    found, _violations[:] = list(_violations), []
    if found:
        pytest.fail("\n".join(["network I/O inside a database transaction:", *found]))
