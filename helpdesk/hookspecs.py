"""The plugin contract: every hook a plugin may implement, with what it must return.

Plugins register through the ``helpdesk.plugins`` entry point and implement these with
``@hookimpl``. Hooks that return lists are collected from every plugin in load order.
Hooks are the core asking plugins; what a plugin asks of the core is in
``helpdesk.plugin_api``, the one module of the core a plugin imports, which also re-exports
``hookimpl`` and the value types below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter, Request
    from markupsafe import Markup
    from sqlmodel import Session

    from helpdesk.models import Agent, EtunnusUser, Message, Ticket

hookspec = pluggy.HookspecMarker("helpdesk")
hookimpl = pluggy.HookimplMarker("helpdesk")


@dataclass(frozen=True)
class NavEntry:
    """A link in the top navigation. ``label`` is a msgid translated at render time.

    ``admin_only`` entries are shown to admins only, gathered in the admin menu.
    """

    label: str
    url: str
    order: int = 50
    admin_only: bool = False


@dataclass(frozen=True)
class FoundLink:
    """Something a text linker recognised in a mail: ``kind`` ``user`` or a plugin's kind.

    ``target`` identifies the object (an e-tunnus number, an invoice id); ``etunnus`` names
    the E-tunnus user the object belongs to, so that the ticket can be linked to them too.
    """

    kind: str
    target: str
    label: str
    found_text: str
    etunnus: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class HistoryItem:
    """One entry a plugin adds to a customer's history in the ticket sidebar (an invoice).

    ``label`` is shown as it is (a number); ``status`` is a msgid translated at render
    time; ``amount`` is already formatted for the page (``244,00 €``).
    """

    label: str
    url: str
    at: date | None = None
    status: str = ""
    amount: str = ""


@dataclass(frozen=True)
class ScheduledJob:
    """A job the worker runs. ``due(now, last_run)`` decides; ``run(session)`` does the work.

    The worker holds a database claim per job name while it runs, so with several workers
    each due run happens once. The claim's lease (``extra["lease_seconds"]``, 15 minutes
    by default) is renewed while ``run`` works, so a run may take longer; a long run calls
    ``still_claimed()`` (``helpdesk.plugin_api``) between steps and stops when it returns
    False.
    """

    name: str
    due: Callable[[Any, Any], bool]
    run: Callable[[Session], Any]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DevService:
    """A background process of ``helpdesk dev`` (``make run``): ``helpdesk <args>``.

    It runs as a child process beside the web server and stops with it. A ``--port N`` in
    ``args`` tells ``helpdesk dev`` where it listens, so that the banner waits for it;
    ``--port 0`` has ``helpdesk dev`` pick a free loopback port at start, so that two
    checkouts run side by side. ``env`` is given to the web app and to every child once
    the port is known; ``{port}`` in a value is this service's port (e.g. a URL setting
    pointing the app at a sandbox).
    """

    name: str
    args: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportPeriod:
    """What the Reports page and ``/api/v1/reports/...`` show: the Helsinki dates ``start``
    to ``end`` (both included), of one mailbox (``mailbox_id``) or of all (None)."""

    start: date
    end: date
    mailbox_id: int | None = None


@hookspec
def helpdesk_routers() -> list[APIRouter]:  # type: ignore[empty-body]
    """FastAPI routers to mount. Page routes and ``/api/v1`` routes both go here."""


@hookspec
def helpdesk_template_dirs() -> list[Path]:  # type: ignore[empty-body]
    """Template folders searched before the core's ``templates/`` (Jinja ChoiceLoader)."""


@hookspec
def helpdesk_static_dirs() -> list[tuple[str, Path]]:  # type: ignore[empty-body]
    """``(name, folder)`` pairs served under ``/static/plugins/<name>/``."""


@hookspec
def helpdesk_navigation(agent: Agent) -> list[NavEntry]:  # type: ignore[empty-body]
    """Entries for the top navigation, shown to ``agent``."""


@hookspec
def helpdesk_ticket_sidebar(
    request: Request, session: Session, ticket: Ticket, agent: Agent
) -> Markup | None:
    """HTML for the ticket view's sidebar (rendered in plugin order), or None."""


@hookspec
def helpdesk_user_page(
    request: Request, session: Session, user: EtunnusUser, agent: Agent
) -> Markup | None:
    """HTML for a section of an E-tunnus user's page, or None."""


@hookspec
def helpdesk_customer_history(  # type: ignore[empty-body]
    session: Session, user: EtunnusUser, limit: int
) -> list[HistoryItem]:
    """The user's latest items of the plugin's kind (invoices), newest first, at most
    ``limit``, for the ticket sidebar's customer history (its "show all" link is the user's
    page). Called on every ticket page with a linked user: a query or two, none per row;
    read only."""


@hookspec
def helpdesk_page_notices(request: Request, agent: Agent) -> Markup | None:
    """A small notice shown under the top bar of every page (e.g. the 15:00 invoice alert),
    or None. Called on every full page render: return None fast when there is nothing.
    Templates call it, so there is no request session: read through a short session of
    your own (``new_session()``) and write nothing."""


@hookspec
def helpdesk_report_sections(
    request: Request, session: Session, period: ReportPeriod, agent: Agent
) -> Markup | None:
    """A section of the Reports page (``/reports``) for ``period``: a chart with its table
    beside it and a CSV link, or None. Read only. The chart is a ``<canvas data-chart=...>``
    that the page's script draws (``templates/reports/_chart.html`` shows the shape; plugin
    templates may include it). The section's JSON belongs under ``/api/v1/reports/`` in the
    plugin's own router, with ``ReportPeriodQuery`` for its ``from``/``to``/``mailbox``."""


@hookspec
def helpdesk_link_text(session: Session, text: str) -> list[FoundLink]:  # type: ignore[empty-body]
    """Recognise references in mail text (subject and body) and return what they point to."""


@hookspec
def helpdesk_message_stored(session: Session, ticket: Ticket, message: Message) -> None:
    """Called inside the transaction that stores a new message (incoming, outgoing, note,
    call). Add rows to the session; never commit, never do network I/O here."""


@hookspec
def helpdesk_tickets_merged(session: Session, target: Ticket, sources: list[Ticket]) -> None:
    """Called inside the transaction that merges ``sources`` into ``target``, after the
    core moved its own rows (messages, calls, links): move the plugin's rows that point to
    a source ticket to the target. Add to the session; never commit, no network I/O."""


@hookspec
def helpdesk_scheduled_jobs() -> list[ScheduledJob]:  # type: ignore[empty-body]
    """Jobs for the worker's scheduler (syncs, the 15:00 last check)."""


@hookspec
def helpdesk_alembic_version_locations() -> list[str]:  # type: ignore[empty-body]
    """Folders of the plugin's own Alembic branch (one branch label per plugin)."""


@hookspec
def helpdesk_model_modules() -> list[ModuleType]:  # type: ignore[empty-body]
    """The modules that define the plugin's tables, imported.

    A table joins SQLModel's metadata when its class is imported; Alembic compares that
    metadata with the database (``alembic check``, autogenerate), so the migration
    environment asks for these before it looks. Returning the modules, rather than their
    names, keeps the core from importing a plugin by name.
    """


@hookspec
def helpdesk_translation_dirs() -> list[Path]:  # type: ignore[empty-body]
    """Folders of the plugin's own catalogs: ``<language>/LC_MESSAGES/messages.po``.

    The core merges them into its own when the plugins load, so ``gettext``, ``N_`` keys
    and ``{{ _("...") }}`` in the plugin's templates find the plugin's strings. A msgid the
    core's catalog has keeps the core's text.
    """


@hookspec
def helpdesk_cli(app: typer.Typer) -> None:
    """Add commands to the ``helpdesk`` command line."""


@hookspec
def helpdesk_demo_data(session: Session) -> None:
    """Seed the plugin's demo data (``helpdesk demo``); must be idempotent."""


@hookspec
def helpdesk_settings_problems() -> list[str]:  # type: ignore[empty-body]
    """What in the plugin's settings must stop the helpdesk from starting: in production a
    sandbox, a development credential or an example value. One sentence each, naming the
    setting (never its secret value). A service left unconfigured is no problem here: the
    plugin shows it as not configured, with its actions disabled, instead."""


@hookspec
def helpdesk_dev_services() -> list[DevService]:  # type: ignore[empty-body]
    """Background processes for ``helpdesk dev`` (``make run``) to start beside the web
    server, e.g. a sandbox standing in for an outside service. Asked once, when
    ``helpdesk dev`` starts; return none outside development."""
