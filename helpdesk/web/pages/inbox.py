"""The inbox: filters, search, keyset pages of tickets, and the saved views beside them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import select

from helpdesk.models import Mailbox
from helpdesk.services import agents as agent_service
from helpdesk.services import saved_views, tags
from helpdesk.services.inbox import (
    COUNT_CAP,
    TicketFilter,
    count_cap,
    list_tickets,
    status_counts,
)
from helpdesk.values import Id, Line, Search
from helpdesk.web.deps import CurrentAgent, HtmxTarget, SessionDep
from helpdesk.web.templating import render

router = APIRouter()


@router.get("/", include_in_schema=False)
def home(agent: CurrentAgent) -> Response:
    return RedirectResponse("/tickets", status_code=303)


def inbox_filters(
    agent: CurrentAgent,
    status: Line | None = "active",
    mailbox: Line | None = None,
    assignee: Line | None = None,
    user: Line | None = None,
    tag: Line | None = None,
    q: Search | None = None,
) -> TicketFilter:
    """The inbox's filters from the query string (the filter form's fields)."""
    return TicketFilter(
        status=status or None,
        mailbox=mailbox or None,
        assignee=assignee or None,
        user=user or None,
        tag=tag or None,
        q=q or None,
        me=agent,
    )


InboxFilters = Annotated[TicketFilter, Depends(inbox_filters)]


@router.get("/tickets", include_in_schema=False)
def inbox(
    request: Request,
    session: SessionDep,
    target: HtmxTarget,
    filters: InboxFilters,
    cursor: Line | None = None,
    view: Id | None = None,
) -> Response:
    page = list_tickets(session, filters, cursor=cursor)
    block = None
    if target == "ticket-rows":
        block = "ticket_rows"
    elif target == "ticket-list":
        block = "ticket_list"
    context = {
        "page": page,
        "filters": filters,
        "cursor": cursor,
        "mailboxes": list(session.exec(select(Mailbox).order_by(Mailbox.address))),
        "agents": agent_service.list_agents(session, active_only=True),
        "tags": tags.list_tags(session),
        "view_id": view,
        # A full page counts inline only when that is cheap (no filter on); otherwise, and
        # after every list swap, the counts come from /tickets/counts once the list is in.
        "counts": status_counts(session) if block is None and not filters.narrowed() else None,
        "count_cap": COUNT_CAP,
    }
    # A new list (a filter change, the refresh) asks the counts to follow it.
    headers = {"HX-Trigger": "inbox-listed"} if block == "ticket_list" else None
    return render(request, "inbox.html", context, block=block, headers=headers)


@router.get("/tickets/counts", include_in_schema=False)
def inbox_counts(request: Request, session: SessionDep, filters: InboxFilters) -> Response:
    """How many tickets of each status the inbox's filters (other than the status) select,
    for the line above the list."""
    context = {
        "counts": status_counts(session, filters),
        "count_cap": count_cap(filters),
        "filters": filters,
    }
    return render(request, "_inbox_counts.html", context)


@router.get("/tickets/views", include_in_schema=False)
def views_nav(
    request: Request, session: SessionDep, agent: CurrentAgent, view: Id | None = None
) -> Response:
    """The saved views with their counts (the inbox loads it after the list, and again
    after a change, so the counts never hold up the tickets)."""
    views = saved_views.list_views(session, agent)
    context = {
        "views": views,
        "view_counts": saved_views.counts(session, views, agent),
        "view_url": saved_views.url,
        "view_id": view,
        "count_cap": COUNT_CAP,
    }
    return render(request, "_views.html", context)
