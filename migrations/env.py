"""Alembic environment: the core's and every plugin's tables, on SQLite or PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlmodel import SQLModel

import helpdesk.models  # noqa: F401  (registers the core tables)
from helpdesk.db import get_engine
from helpdesk.migrate import import_plugin_models
from helpdesk.settings import get_settings

import_plugin_models()
config = context.config
target_metadata = SQLModel.metadata

#: Database objects made by hand in migrations (full-text search) that the models don't know.
UNMANAGED_PREFIXES = ("message_fts", "ix_message_search", "ix_ticket_search")


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    if name and name.startswith(UNMANAGED_PREFIXES):
        return False
    return not (type_ == "column" and name == "search_vector")


def run_migrations_online() -> None:
    url = config.attributes.get("database_url") or get_settings().database_url
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    with get_engine(url).connect() as conn:
        _run(conn)
        conn.commit()


def _run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
