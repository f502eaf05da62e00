"""The invoice plugin's hook implementations: everything it adds to the core goes through here.

Only wiring: each hook hands over to the part of the plugin that does the work. The core
loads this module at the start of every ``helpdesk`` command, to collect the plugin's
commands, so it imports only the light parts every start needs (the commands, the tables)
at the top; the pages, the linker and the worker's jobs (with the clients, the sync and the
dispatch behind them) are imported when the core first calls their hook, which keeps each
command's start about a third shorter (measured with ``python -X importtime``). The
sandboxes, development code, are a plugin of their own (``sandboxes/hooks.py``): nothing
here imports them.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from helpdesk.plugin_api import N_, FoundLink, HistoryItem, NavEntry, ScheduledJob, hookimpl
from plugins.invoices import cli, models

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter, Request
    from markupsafe import Markup
    from sqlmodel import Session

    from helpdesk.plugin_api import Agent, EtunnusUser, ReportPeriod, Ticket

WEB = Path(__file__).parent / "web"
MIGRATIONS = Path(__file__).parent / "migrations"
CATALOGS = Path(__file__).parent / "i18n"


@hookimpl
def helpdesk_template_dirs() -> list[Path]:
    return [WEB / "templates"]


@hookimpl
def helpdesk_static_dirs() -> list[tuple[str, Path]]:
    return [("invoices", WEB / "static")]


@hookimpl
def helpdesk_alembic_version_locations() -> list[str]:
    return [str(MIGRATIONS / "versions")]


@hookimpl
def helpdesk_translation_dirs() -> list[Path]:
    return [CATALOGS]


@hookimpl
def helpdesk_model_modules() -> list[ModuleType]:
    return [models]


@hookimpl
def helpdesk_routers() -> list[APIRouter]:
    from plugins.invoices.web import actions, api, api_actions, pages, reports  # on first use

    # The actions' fixed paths (/invoices/korjattavat) come before /invoices/{invoice_id}.
    return [actions.router, pages.router, api_actions.router, api.router, reports.router]


@hookimpl
def helpdesk_navigation(agent: Agent) -> list[NavEntry]:
    return [
        NavEntry(label=N_("Invoices"), url="/invoices", order=40),
        NavEntry(label=N_("Korjattavat"), url="/invoices/korjattavat", order=41),
        NavEntry(label=N_("Invoice texts"), url="/admin/invoice-texts", order=95, admin_only=True),
    ]


@hookimpl
def helpdesk_page_notices(request: Request, agent: Agent) -> Markup | None:
    from plugins.invoices.web import slots  # on first use (above)

    return slots.alert_notice(request, agent)


@hookimpl
def helpdesk_report_sections(
    request: Request, session: Session, period: ReportPeriod, agent: Agent
) -> Markup | None:
    from plugins.invoices.web import slots  # on first use (above)

    return slots.report_section(request, session, period, agent)


@hookimpl
def helpdesk_user_page(
    request: Request, session: Session, user: EtunnusUser, agent: Agent
) -> Markup | None:
    from plugins.invoices.web import slots  # on first use (above)

    return slots.user_section(request, session, user, agent)


@hookimpl
def helpdesk_ticket_sidebar(
    request: Request, session: Session, ticket: Ticket, agent: Agent
) -> Markup | None:
    from plugins.invoices.web import slots  # on first use (above)

    return slots.ticket_section(request, session, ticket, agent)


@hookimpl
def helpdesk_customer_history(session: Session, user: EtunnusUser, limit: int) -> list[HistoryItem]:
    from plugins.invoices.web import slots  # on first use (above)

    return slots.history_items(session, user, limit)


@hookimpl
def helpdesk_link_text(session: Session, text: str) -> list[FoundLink]:
    from plugins.invoices import linker  # on first use (above)

    return linker.link_text(session, text)


@hookimpl
def helpdesk_tickets_merged(session: Session, target: Ticket, sources: list[Ticket]) -> None:
    from plugins.invoices import korjattava  # on first use (above)

    korjattava.follow_merge(session, target=target, sources=sources)


@hookimpl
def helpdesk_scheduled_jobs() -> list[ScheduledJob]:
    from plugins.invoices import jobs  # on first use (above)

    return jobs.scheduled_jobs()


@hookimpl
def helpdesk_cli(app: typer.Typer) -> None:
    cli.register(app)


@hookimpl
def helpdesk_settings_problems() -> list[str]:
    from plugins.invoices.settings import production_problems  # on first use (above)

    return production_problems()
