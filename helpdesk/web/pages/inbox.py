"""The inbox: filters, search, keyset pages of tickets, and the saved views beside them."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import select

from helpdesk.models import Mailbox
from helpdesk.services import agents as agent_service
from helpdesk.services import saved_views, tags
from helpdesk.services.inbox import COUNT_CAP, TicketFilter, list_tickets, status_counts
from helpdesk.values import Id, Line, Search
from helpdesk.web.deps import CurrentAgent, HtmxTarget, SessionDep
from helpdesk.web.templating import render

router = APIRouter()


@router.get("/", include_in_schema=False)
def home(agent: CurrentAgent) -> Response:
    return RedirectResponse("/tickets", status_code=303)


@router.get("/tickets", include_in_schema=False)
def inbox(
    request: Request,
    session: SessionDep,
    agent: CurrentAgent,
    target: HtmxTarget,
    status: Line | None = "active",
    mailbox: Line | None = None,
    assignee: Line | None = None,
    user: Line | None = None,
    tag: Line | None = None,
    q: Search | None = None,
    cursor: Line | None = None,
    view: Id | None = None,
) -> Response:
    filters = TicketFilter(
        status=status or None,
        mailbox=mailbox or None,
        assignee=assignee or None,
        user=user or None,
        tag=tag or None,
        q=q or None,
        me=agent,
    )
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
        # The counts follow the filters and come with every list (a filter change, the
        # 20-second refresh); only "show more" leaves them as they are.
        "counts": status_counts(session, filters) if block != "ticket_rows" else {},
        "count_cap": COUNT_CAP,
    }
    return render(request, "inbox.html", context, block=block)


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
