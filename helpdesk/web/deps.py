"""Dependencies as ``Annotated`` aliases, so route signatures read as plain types."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlmodel import Session

from helpdesk.db import new_session
from helpdesk.i18n import N_
from helpdesk.models import Agent
from helpdesk.services.errors import PermissionDenied
from helpdesk.web.auth import resolve_agent


def get_session() -> Iterator[Session]:
    # Web requests take SQLite's write lock up front so that an agent's click never fails
    # with "database is locked" because the worker committed meanwhile.
    session = new_session(write_lock=True)
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


def get_current_agent(request: Request, session: SessionDep) -> Agent:
    return resolve_agent(request, session)


CurrentAgent = Annotated[Agent, Depends(get_current_agent)]


def get_admin(agent: CurrentAgent) -> Agent:
    if not agent.is_admin:
        raise PermissionDenied(N_("Only admins may do this"))
    return agent


AdminAgent = Annotated[Agent, Depends(get_admin)]


def htmx_target(
    hx_request: Annotated[str | None, Header()] = None,
    hx_target: Annotated[str | None, Header()] = None,
) -> str | None:
    """The element id an htmx request will swap, or None for a full page load."""
    return (hx_target or "") if hx_request == "true" else None


HtmxTarget = Annotated[str | None, Depends(htmx_target)]
