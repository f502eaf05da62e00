"""The invoice plugin's hook implementations: everything it adds to the core goes through here."""

from __future__ import annotations

from pathlib import Path

from helpdesk.hookspecs import hookimpl

HERE = Path(__file__).parent


@hookimpl
def helpdesk_template_dirs() -> list[Path]:
    return [HERE / "templates"]


@hookimpl
def helpdesk_static_dirs() -> list[tuple[str, Path]]:
    return [("invoices", HERE / "static")]


@hookimpl
def helpdesk_alembic_version_locations() -> list[str]:
    return [str(HERE / "migrations" / "versions")]
