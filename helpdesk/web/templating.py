"""Jinja2 rendering: plugin template folders first, full pages or one block for htmx."""

from __future__ import annotations

import contextlib
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from jinja2_fragments import render_block
from markupsafe import Markup

from helpdesk import db, i18n, service_hours
from helpdesk.hookspecs import NavEntry
from helpdesk.i18n import N_
from helpdesk.mail.parsing.filenames import neutral_filename
from helpdesk.models import Mailbox, MailboxOAuth
from helpdesk.models.base import utcnow
from helpdesk.plugins import collect, hook
from helpdesk.services.calls import format_duration
from helpdesk.services.oauth.grants import needing_reconnect
from helpdesk.services.people import format_phone
from helpdesk.settings import get_settings
from helpdesk.web.auth import csrf_token

ROOT = Path(__file__).resolve().parent.parent.parent
CORE_TEMPLATES = ROOT / "templates"


def _local(value: datetime | None, fmt: str = "%d.%m.%Y %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(get_settings().timezone)).strftime(fmt)


def _short_time(value: datetime | None) -> str:
    """Today's times as HH:MM, older ones as a date (how a mail client shows them)."""
    if value is None:
        return ""
    zone = ZoneInfo(get_settings().timezone)
    local = value.astimezone(zone)
    if local.date() == datetime.now(zone).date():
        return local.strftime("%H:%M")
    return local.strftime("%d.%m.%Y")


def _filesize(size: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size = size / 1024  # type: ignore[assignment]
    return str(size)


def business_time(seconds: int) -> str:
    """Business seconds as the inbox's clocks show them: ``45 min``, ``2 h 05 min``."""
    minutes = max(0, seconds) // 60
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The Jinja environment shared by the core and every plugin."""
    dirs = [Path(d) for d in collect(hook().helpdesk_template_dirs())] + [CORE_TEMPLATES]
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in dirs]),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext
    )
    env.filters["local"] = _local
    env.filters["short_time"] = _short_time
    env.filters["filesize"] = _filesize
    env.filters["filename"] = neutral_filename
    env.filters["phone"] = format_phone
    env.filters["duration"] = format_duration
    env.filters["business_time"] = business_time
    env.globals["languages"] = i18n.LANGUAGES
    env.globals["page_notices"] = page_notices
    env.globals["now_utc"] = utcnow
    env.globals["mailboxes_to_reconnect"] = mailboxes_to_reconnect
    return env


def page_notices(request: Request, agent: Any) -> list[Markup]:
    """The plugins' notices for the top of every page (``helpdesk_page_notices``)."""
    found = hook().helpdesk_page_notices(request=request, agent=agent)
    return [Markup(n) for n in found if n]  # noqa: S704 (plugins render escaped templates)


def mailboxes_to_reconnect(agent: Any) -> list[tuple[Mailbox, MailboxOAuth]]:
    """For an admin's banner on every page: mailboxes whose OAuth sign-in needs a reconnect.

    Templates call it, so it reads through a short read-only session of its own.
    """
    if not getattr(agent, "is_admin", False):
        return []
    with contextlib.closing(db.new_session(read_only=True)) as session:
        return needing_reconnect(session)


def navigation(agent: Any) -> list[NavEntry]:
    entries = [
        NavEntry(label=N_("Today"), url="/dashboard", order=5),
        NavEntry(label=N_("Inbox"), url="/tickets", order=10),
        NavEntry(label=N_("Users"), url="/users", order=20),
        NavEntry(label=N_("Calls"), url="/calls", order=30),
        NavEntry(label=N_("Reports"), url="/reports", order=60),
        NavEntry(label=N_("Mailboxes"), url="/admin/mailboxes", order=80, admin_only=True),
        NavEntry(label=N_("Saved replies"), url="/admin/saved-replies", order=85, admin_only=True),
        NavEntry(label=N_("Agents"), url="/admin/agents", order=90, admin_only=True),
        NavEntry(label=N_("Tags"), url="/admin/tags", order=92, admin_only=True),
        NavEntry(label=N_("Import users"), url="/admin/users/import", order=95, admin_only=True),
        NavEntry(label=N_("Blocked senders"), url="/admin/blocks", order=97, admin_only=True),
    ]
    entries += collect(hook().helpdesk_navigation(agent=agent))
    visible = [e for e in entries if not e.admin_only or getattr(agent, "is_admin", False)]
    return sorted(visible, key=lambda e: e.order)


def base_context(request: Request) -> dict[str, Any]:
    agent = getattr(request.state, "agent", None)
    nav = navigation(agent) if agent else []
    return {
        "request": request,
        "agent": agent,
        "csrf_token": csrf_token(request),
        "lang": i18n.current_language.get(),
        "nav": [e for e in nav if not e.admin_only],
        "admin_nav": [e for e in nav if e.admin_only],
        "path": request.url.path,
        # Open or closed now, for the top bar of every page.
        "service": service_hours.state(utcnow()) if agent else None,
    }


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    block: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render a full page, or only ``block`` of it for an htmx swap."""
    ctx = base_context(request) | (context or {})
    env = environment()
    if block:
        html = render_block(env, template, block, ctx)
    else:
        html = env.get_template(template).render(ctx)
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    response.headers["Vary"] = "HX-Request, HX-Target"
    return response


def render_partial(request: Request, template: str, context: dict[str, Any]) -> Markup:
    """Render a template into markup for a slot (plugins use this for sidebars)."""
    ctx = base_context(request) | context
    return Markup(environment().get_template(template).render(ctx))  # noqa: S704
