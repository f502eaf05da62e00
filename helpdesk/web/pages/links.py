"""The ticket sidebar's user panel: link and unlink a user, accept or dismiss suggestions,
search users as you type. Every change is audited by the linking service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from helpdesk.models import Ticket
from helpdesk.services import linking
from helpdesk.services import people as people_service
from helpdesk.services import tickets as ticket_service
from helpdesk.values import Id, Line, Search
from helpdesk.web.deps import CurrentAgent, SessionDep
from helpdesk.web.templating import render

router = APIRouter(prefix="/tickets/{ticket_id}/links")


class LinkForm(BaseModel):
    """The user picked in the panel's search."""

    etunnus: Line


def _panel(request: Request, session: SessionDep, ticket: Ticket) -> Response:
    if request.headers.get("hx-request"):
        context = {"ticket": ticket, "links": linking.panel(session, ticket)}
        return render(request, "users/_ticket_panel.html", context)
    return RedirectResponse(f"/tickets/{ticket.id}", status_code=303)


@router.get("/search", include_in_schema=False)
def search(
    request: Request, ticket_id: Id, session: SessionDep, agent: CurrentAgent, q: Search = ""
) -> Response:
    ticket = ticket_service.get_ticket(session, ticket_id)
    users = people_service.search(session, q, limit=8) if q.strip() else []
    return render(request, "users/_link_results.html", {"ticket": ticket, "users": users, "q": q})


@router.post("/look", include_in_schema=False)
def look(request: Request, ticket_id: Id, session: SessionDep, agent: CurrentAgent) -> Response:
    """Link a ticket that has no links yet; the ticket page asks once it has loaded.

    When something was linked the user panel is swapped for one that shows it (the page
    is not reloaded: the agent may be typing already); otherwise nothing changes.
    """
    ticket = ticket_service.get_ticket(session, ticket_id)
    if not linking.link_on_view(session, ticket):
        return Response(status_code=204)
    return _panel(request, session, ticket)


@router.post("/user", include_in_schema=False)
def link(
    request: Request,
    ticket_id: Id,
    session: SessionDep,
    agent: CurrentAgent,
    form: Annotated[LinkForm, Form()],
) -> Response:
    ticket = ticket_service.get_ticket(session, ticket_id)
    user = people_service.get_user(session, form.etunnus)
    linking.link_user(session, ticket=ticket, user=user, by=agent)
    return _panel(request, session, ticket)


@router.post("/unlink", include_in_schema=False)
def unlink(request: Request, ticket_id: Id, session: SessionDep, agent: CurrentAgent) -> Response:
    ticket = ticket_service.get_ticket(session, ticket_id)
    linking.unlink_user(session, ticket=ticket, by=agent)
    return _panel(request, session, ticket)


@router.post("/{link_id}/accept", include_in_schema=False)
def accept(
    request: Request, ticket_id: Id, link_id: Id, session: SessionDep, agent: CurrentAgent
) -> Response:
    ticket = ticket_service.get_ticket(session, ticket_id)
    linking.accept(session, ticket=ticket, link_id=link_id, by=agent)
    return _panel(request, session, ticket)


@router.post("/{link_id}/dismiss", include_in_schema=False)
def dismiss(
    request: Request, ticket_id: Id, link_id: Id, session: SessionDep, agent: CurrentAgent
) -> Response:
    ticket = ticket_service.get_ticket(session, ticket_id)
    linking.dismiss(session, ticket=ticket, link_id=link_id, by=agent)
    return _panel(request, session, ticket)
