"""The invoice plugin's hook implementations: everything it adds to the core goes through here.

The imports sit inside the hooks: the plugin manager loads this module while the core is
still starting (settings, templating), before the plugin's web and database modules may be.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from helpdesk.hookspecs import FoundLink, NavEntry, ScheduledJob, hookimpl

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter, Request
    from markupsafe import Markup
    from sqlmodel import Session

    from helpdesk.models import Agent, EtunnusUser, Ticket

HERE = Path(__file__).parent


@hookimpl
def helpdesk_template_dirs() -> list[Path]:
    return [HERE / "web" / "templates"]


@hookimpl
def helpdesk_static_dirs() -> list[tuple[str, Path]]:
    return [("invoices", HERE / "web" / "static")]


@hookimpl
def helpdesk_alembic_version_locations() -> list[str]:
    return [str(HERE / "migrations" / "versions")]


@hookimpl
def helpdesk_routers() -> list[APIRouter]:
    from plugins.invoices.web.actions import router as actions_router
    from plugins.invoices.web.api import router as api_router
    from plugins.invoices.web.api_actions import router as api_actions_router
    from plugins.invoices.web.pages import router as page_router

    # The actions' fixed paths (/invoices/korjattavat) come before /invoices/{invoice_id}.
    return [actions_router, page_router, api_actions_router, api_router]


@hookimpl
def helpdesk_navigation(agent: Agent) -> list[NavEntry]:
    from helpdesk.i18n import N_

    return [
        NavEntry(label=N_("Unsent invoices"), url="/invoices", order=40),
        NavEntry(label=N_("Korjattavat"), url="/invoices/korjattavat", order=41),
        NavEntry(label=N_("Invoice texts"), url="/admin/invoice-texts", order=95, admin_only=True),
    ]


@hookimpl
def helpdesk_page_notices(request: Request, agent: Agent) -> Markup | None:
    from plugins.invoices.web.slots import alert_notice

    return alert_notice(request, agent)


@hookimpl
def helpdesk_user_page(
    request: Request, session: Session, user: EtunnusUser, agent: Agent
) -> Markup | None:
    from plugins.invoices.web.slots import user_section

    return user_section(request, session, user, agent)


@hookimpl
def helpdesk_ticket_sidebar(
    request: Request, session: Session, ticket: Ticket, agent: Agent
) -> Markup | None:
    from plugins.invoices.web.slots import ticket_section

    return ticket_section(request, session, ticket, agent)


@hookimpl
def helpdesk_link_text(session: Session, text: str) -> list[FoundLink]:
    from plugins.invoices.linker import link_text

    return link_text(session, text)


@hookimpl
def helpdesk_scheduled_jobs() -> list[ScheduledJob]:
    from plugins.invoices.jobs import scheduled_jobs

    return scheduled_jobs()


@hookimpl
def helpdesk_cli(app: typer.Typer) -> None:
    from plugins.invoices.cli import register

    register(app)


@hookimpl
def helpdesk_demo_data(session: Session) -> None:
    from plugins.invoices.sandboxes.demo import seed

    seed(session)
