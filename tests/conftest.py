"""Test set-up: every database test runs on SQLite and on PostgreSQL, both migrated by Alembic.

Each test gets a session inside a transaction that is rolled back at the end (services'
commits release a savepoint only). Tests that need really committed data (several
processes, workers) use ``committed_url`` instead, which truncates afterwards.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

_TMP = Path(tempfile.mkdtemp(prefix="helpdesk-tests-"))
os.environ.update(
    HELPDESK_ENVIRONMENT="test",
    HELPDESK_SECRET_KEY=secrets.token_urlsafe(32),
    HELPDESK_DATA_DIR=str(_TMP / "data"),
    HELPDESK_DATABASE_URL=f"sqlite:///{_TMP / 'default.db'}",
    HELPDESK_UNDO_SEND_SECONDS="0",
)

import pytest  # noqa: E402

pytest.register_assert_rewrite("netguard")

import factories  # noqa: E402
import netguard  # noqa: E402
from fastapi import FastAPI, Request  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import Session, SQLModel  # noqa: E402
from webclient import Client, login  # noqa: E402

from helpdesk import migrate, security  # noqa: E402
from helpdesk.db import _READ_ONLY as READ_ONLY_KEY  # noqa: E402
from helpdesk.db import make_engine, reading, reset_engines  # noqa: E402
from helpdesk.models import Agent  # noqa: E402
from helpdesk.settings import get_settings  # noqa: E402
from helpdesk.web.app import create_app  # noqa: E402
from helpdesk.web.deps import READ_METHODS, get_session  # noqa: E402

# Argon2 with production costs takes ~0.15 s per hash; tests hash and verify hundreds of
# passwords, so they use the same algorithm with the smallest costs.
security._hasher = security.PasswordHash(
    (security.Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),)
)
security._DUMMY_HASH = security._hasher.hash("not-a-real-password")

#: Fixtures shared by every test directory: the live server and Chromium (tests/browser.py),
#: and the guard that fails a test whose product code does network I/O inside a database
#: transaction (tests/netguard.py).
pytest_plugins = ["browser", "netguard"]

PG_ADMIN_URL = os.environ.get(
    "HELPDESK_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = [
    b for b in os.environ.get("HELPDESK_TEST_BACKENDS", "sqlite,postgresql").split(",") if b
]


def _create_pg_database() -> str:
    name = f"helpdesk_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = make_engine(PG_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database of each backend, migrated from empty by Alembic."""
    if request.param == "sqlite":
        url = f"sqlite:///{_TMP / f'test-{uuid.uuid4().hex[:8]}.db'}"
    else:
        url = _create_pg_database()
    migrate.upgrade(url)
    yield url
    reset_engines()
    if request.param == "postgresql":
        _drop_pg_database(url)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def use_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the settings (and so every ``new_session()``) at the test database."""
    monkeypatch.setattr(get_settings(), "database_url", database_url)
    return database_url


@pytest.fixture
def session(
    engine: Engine, use_database: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Session]:
    """A session whose every commit is undone after the test (savepoint per test)."""
    connection = engine.connect()
    outer = connection.begin()
    netguard.harness(connection)  # the test's own transaction, not the product's
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    # Code that opens its own sessions (web routes, services) shares this one.
    monkeypatch.setattr(
        "helpdesk.db.new_session", lambda *, read_only=False: _NonClosing(db, read_only)
    )
    yield db
    db.close()
    outer.rollback()
    connection.close()


class _NonClosing:
    """Hands out the test session; closing it is left to the fixture.

    Until it is closed it reads or writes as the session asked for would
    (``new_session(read_only=...)``), then the shared session is as it was.
    """

    def __init__(self, session: Session, read_only: bool) -> None:
        self._session = session
        self._was = session.info.get(READ_ONLY_KEY)
        session.info[READ_ONLY_KEY] = read_only

    def __getattr__(self, name: str) -> object:
        return getattr(self._session, name)

    def close(self) -> None:
        self._session.info[READ_ONLY_KEY] = self._was

    def __enter__(self) -> Session:
        return self._session

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.fixture
def committed_url(database_url: str, use_database: str) -> Iterator[str]:
    """The test database for code that commits for real (other processes, workers).

    Every table is emptied afterwards so later tests start clean.
    """
    yield database_url
    reset_engines()
    engine = make_engine(database_url)
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(
                text(
                    "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
                )
            )
        else:
            for t in tables:
                conn.execute(text(f'DELETE FROM "{t}"'))
    engine.dispose()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh blob store directory for the test."""
    folder = tmp_path / "data"
    monkeypatch.setattr(get_settings(), "data_dir", folder)
    return folder


# --- web fixtures: an app bound to the test session, a client, a logged-in admin ---


@pytest.fixture
def app(session: Session) -> Iterator[FastAPI]:
    application = create_app()

    def shared_session(request: Request) -> Iterator[Session]:
        # As in production, a GET or HEAD request's session refuses writes.
        if request.method not in READ_METHODS:
            yield session
            return
        with reading(session):
            yield session

    application.dependency_overrides[get_session] = shared_session
    yield application


@pytest.fixture
def client(app: FastAPI) -> Iterator[Client]:
    with Client(app, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def admin(session: Session) -> Agent:
    return factories.agent(session, admin=True, name="Anna Admin")


@pytest.fixture
def logged_in(client: Client, admin: Agent) -> Client:
    return login(client, admin)
