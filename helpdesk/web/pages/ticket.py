"""One ticket: its thread, sidebar (user and plugin slots), status, assignment and notes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from helpdesk.i18n import N_
from helpdesk.models import Agent
from helpdesk.services import linking, tags
from helpdesk.services import tickets as ticket_service
from helpdesk.services.errors import ServiceError
from helpdesk.values import Id, Line, Text, as_id
from helpdesk.web.deps import CurrentAgent, HtmxTarget, SessionDep
from helpdesk.web.pages.ticket_view import ticket_context
from helpdesk.web.templating import render

router = APIRouter()


class StatusForm(BaseModel):
    """The status buttons of the ticket sidebar."""

    status: Line


class AssigneeForm(BaseModel):
    """The assignee menu: ``me``, an agent's id, or empty for nobody."""

    assignee: Line = ""


class TagForm(BaseModel):
    """The sidebar's tag field: a tag's name, made if new."""

    tag: Line = ""


class NoteForm(BaseModel):
    """An internal note under the thread."""

    text: Text = ""


@router.get("/tickets/{ticket_id}", include_in_schema=False)
def ticket_page(
    request: Request, ticket_id: Id, session: SessionDep, agent: CurrentAgent, target: HtmxTarget
) -> Response:
    context = ticket_context(request, session, ticket_id, agent)
    if not target:
        # Tickets from before linking (or with nothing found yet) get a look when opened:
        # the page asks for it in a POST of its own (links.py), as a GET never writes.
        ticket = ticket_service.get_ticket(session, ticket_id)
        context["look_for_links"] = not linking.has_links(session, ticket)
    block = {"thread": "thread", "ticket-meta": "ticket_meta"}.get(target or "")
    return render(request, "ticket.html", context, block=block)


def _after_change(
    request: Request, ticket_id: int, session: SessionDep, agent: Agent, block: str
) -> Response:
    if request.headers.get("hx-request"):
        return render(
            request, "ticket.html", ticket_context(request, session, ticket_id, agent), block=block
        )
    return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)


@router.post("/tickets/{ticket_id}/status", include_in_schema=False)
def change_status(
    request: Request,
    ticket_id: Id,
    session: SessionDep,
    agent: CurrentAgent,
    form: Annotated[StatusForm, Form()],
) -> Response:
    ticket = ticket_service.get_ticket(session, ticket_id)
    ticket_service.set_status(session, ticket=ticket, status=form.status, by=agent)
    return _after_change(request, ticket_id, session, agent, "ticket_meta")


@router.post("/tickets/{ticket_id}/assign", include_in_schema=False)
def change_assignee(
    request: Request,
    ticket_id: Id,
    session: SessionDep,
    agent: CurrentAgent,
    form: Annotated[AssigneeForm, Form()],
) -> Response:
    ticket = ticket_service.get_ticket(session, ticket_id)
    target = None
    if form.assignee == "me":
        target = agent
    elif form.assignee:
        # An unknown id must not quietly unassign the ticket.
        agent_id = as_id(form.assignee)
        target = session.get(Agent, agent_id) if agent_id is not None else None
        if target is None:
            raise ServiceError(N_("No such agent"))
    ticket_service.assign(session, ticket=ticket, assignee=target, by=agent)
    return _after_change(request, ticket_id, session, agent, "ticket_meta")


@router.post("/tickets/{ticket_id}/notes", include_in_schema=False)
def add_note(
    request: Request,
    ticket_id: Id,
    session: SessionDep,
    agent: CurrentAgent,
    form: Annotated[NoteForm, Form()],
) -> Response:
    ticket = ticket_service.get_ticket(session, ticket_id)
    ticket_service.add_note(session, ticket=ticket, text=form.text, by=agent)
    return _after_change(request, ticket_id, session, agent, "thread")


@router.post("/tickets/{ticket_id}/tags", include_in_schema=False)
def add_tag(
    request: Request,
    ticket_id: Id,
    session: SessionDep,
    agent: CurrentAgent,
    form: Annotated[TagForm, Form()],
) -> Response:
    ticket = ticket_service.get_ticket(session, ticket_id)
    tags.tag_tickets(session, tickets=[ticket], name=form.tag, by=agent)
    return _after_change(request, ticket_id, session, agent, "ticket_meta")


@router.post("/tickets/{ticket_id}/tags/{tag_id}/remove", include_in_schema=False)
def remove_tag(
    request: Request, ticket_id: Id, tag_id: Id, session: SessionDep, agent: CurrentAgent
) -> Response:
    ticket = ticket_service.get_ticket(session, ticket_id)
    tags.untag_tickets(session, tickets=[ticket], tag=tags.get_tag(session, tag_id), by=agent)
    return _after_change(request, ticket_id, session, agent, "ticket_meta")
