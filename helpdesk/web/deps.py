"""Dependencies as ``Annotated`` aliases, so route signatures read as plain types."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from sqlmodel import Session

from helpdesk.db import new_session
from helpdesk.hookspecs import ReportPeriod
from helpdesk.i18n import N_
from helpdesk.models import Agent, utcnow
from helpdesk.service_hours import calendar_from_settings
from helpdesk.services import reports
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


def report_period(
    start: Annotated[
        date | None,
        Query(alias="from", description="First day (Helsinki date), default 12 weeks ago"),
    ] = None,
    end: Annotated[
        date | None, Query(alias="to", description="Last day, included; default today")
    ] = None,
    mailbox: Annotated[
        int | None, Query(description="A mailbox id; default every mailbox", ge=1)
    ] = None,
) -> ReportPeriod:
    """The reports' ``from``/``to``/``mailbox`` query; at most 366 days."""
    today = calendar_from_settings().local(utcnow()).date()
    for day in (start, end):
        if day is not None:
            reports.make_period(day, day)  # a day outside the years reports cover: 400
    if end is None:
        end = min(start + timedelta(days=reports.DEFAULT_DAYS - 1), today) if start else today
    start = start or reports.default_period(end).start
    return reports.make_period(start, end, mailbox)


ReportPeriodQuery = Annotated[ReportPeriod, Depends(report_period)]
