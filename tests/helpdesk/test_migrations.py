"""Migrations build the schema from empty on both databases, match the models, and go back."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import bindparam, inspect, text
from sqlmodel import SQLModel, select

from helpdesk import migrate
from helpdesk.db import make_engine, reset_engines
from helpdesk.models import OutboundMail, UTCDateTime

PG_ADMIN_URL = os.environ.get(
    "HELPDESK_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture
def empty_url(database_url, tmp_path):
    """A brand-new empty database of the same backend as ``database_url``."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"helpdesk_mig_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    yield url
    reset_engines()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_from_empty_creates_every_model_table(empty_url):
    migrate.upgrade(empty_url)
    migrate.import_plugin_models()
    tables = _tables(empty_url)
    assert {t.name for t in SQLModel.metadata.sorted_tables} <= tables
    assert "alembic_version" in tables


def test_models_and_migrations_do_not_drift(database_url):
    # ``alembic check`` raises when autogenerate would produce any operation.
    migrate.check(database_url)


def test_upgrade_twice_is_a_no_op(database_url):
    migrate.upgrade(database_url)
    migrate.check(database_url)


def test_search_objects_exist(database_url):
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                names = set(conn.execute(text("SELECT name FROM sqlite_master")).scalars().all())
                assert {
                    "message_fts",
                    "message_fts_ai",
                    "message_fts_ad",
                    "message_fts_au",
                } <= names
            else:
                columns = {c["name"] for c in inspect(conn).get_columns("message")}
                assert "search_vector" in columns
    finally:
        engine.dispose()


def test_downgrade_to_base_and_up_again(empty_url):
    migrate.upgrade(empty_url)
    command.downgrade(migrate.alembic_config(empty_url), "base")
    assert _tables(empty_url) <= {"alembic_version"}
    migrate.upgrade(empty_url)
    migrate.check(empty_url)


def test_claims_open_at_the_lease_upgrade_keep_their_ten_minutes(empty_url):
    # Before revision 0006 a claim counted as stale ten minutes after claimed_at; the new
    # lease column gives the claims open at the upgrade exactly that.
    config = migrate.alembic_config(empty_url)
    command.upgrade(config, "0005")
    engine = make_engine(empty_url)
    claimed_at = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)
    row = {
        "kind": "reply",
        "subject": "",
        "envelope_from": "a@e-tunnus.fi",
        "recipients": "[]",
        "raw_sha256": "0" * 64,
        "status": "sending",
        "attempts": 1,
        "now": claimed_at,
        "reconcile": False,
    }
    outbound = text(
        "INSERT INTO outbound_mail (mailbox_id, kind, message_id, subject, envelope_from,"
        " recipients, raw_sha256, status, attempts, next_attempt_at, send_after, reconcile,"
        " created_at, updated_at, claimed_by, claimed_at) VALUES (:mailbox, :kind, :message_id,"
        " :subject, :envelope_from, :recipients, :raw_sha256, :status, :attempts, :now, :now,"
        " :reconcile, :now, :now, :by, :at)"
    ).bindparams(bindparam("now", type_=UTCDateTime()), bindparam("at", type_=UTCDateTime()))
    try:
        with engine.begin() as conn:
            # In SQL, not the model: the table is as revision 0005 left it (no later columns).
            mailbox = conn.execute(
                text(
                    "INSERT INTO mailbox (address, display_name, signature, active,"
                    " imap_security, imap_folder, smtp_security, created_at) VALUES"
                    " ('a@e-tunnus.fi', '', '', true, 'ssl', 'INBOX', 'starttls', :now)"
                    " RETURNING id"
                ).bindparams(bindparam("now", type_=UTCDateTime())),
                {"now": claimed_at},
            ).scalar_one()
            conn.execute(
                outbound,
                {**row, "mailbox": mailbox, "message_id": "a@x", "by": "w:1:a", "at": claimed_at},
            )
            conn.execute(
                outbound, {**row, "mailbox": mailbox, "message_id": "b@x", "by": None, "at": None}
            )
        migrate.upgrade(empty_url)
        with engine.connect() as conn:
            until = conn.execute(
                select(OutboundMail.message_id, OutboundMail.claimed_until).order_by(
                    OutboundMail.message_id
                )
            ).all()
    finally:
        engine.dispose()
    assert until == [("a@x", claimed_at + timedelta(minutes=10)), ("b@x", None)]
