"""Dependencies as ``Annotated`` aliases, so route signatures read as plain types."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Header, Query, Request
from sqlmodel import Session

from helpdesk.db import new_session
from helpdesk.hookspecs import ReportPeriod
from helpdesk.i18n import N_
from helpdesk.models import Agent, utcnow
from helpdesk.service_hours import calendar_from_settings
from helpdesk.services import reports
from helpdesk.services.errors import PermissionDenied
from helpdesk.web.auth import resolve_agent, touch_token_after

#: Requests that only read: their session refuses writes (``ReadOnlySession``).
READ_METHODS = frozenset({"GET", "HEAD"})


def get_session(request: Request) -> Iterator[Session]:
    # GET and HEAD read in deferred transactions and never write, so they never wait for
    # the worker's write lock nor hold it. Other requests read the same way; their write
    # phase (``db.transaction`` in a service) takes the lock for just that phase.
    session = new_session(read_only=request.method in READ_METHODS)
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


def get_current_agent(request: Request, session: SessionDep, tasks: BackgroundTasks) -> Agent:
    agent = resolve_agent(request, session)
    touch_token_after(request, tasks)
    return agent


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
