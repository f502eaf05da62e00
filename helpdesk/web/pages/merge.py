"""The ticket page's merge, split and forward actions (the panel in ``_ticket_merge.html``).

Each action answers a plain form with a redirect and an htmx form with ``HX-Redirect``
when it worked (the page it leads to changed as a whole), and with the panel again, the
error beside its field and what was typed kept, when it did not.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from helpdesk.models import Agent
from helpdesk.services import forwarding, merging
from helpdesk.services import tickets as ticket_service
from helpdesk.services.errors import ServiceError
from helpdesk.values import Id, Key, Line, Search, Text
from helpdesk.web.deps import CurrentAgent, SessionDep
from helpdesk.web.pages.merge_view import merge_context
from helpdesk.web.pages.ticket_view import ticket_context
from helpdesk.web.templating import render

router = APIRouter()

#: The form fields an error can stand beside; any other error shows above the form.
_MERGE_FIELDS = {"target": "target", "source_ids": "target"}
_FORWARD_FIELDS = {"to": "to", "message_ids": "message_ids", "note": "note"}


class MergeForm(BaseModel):
    """Merge this ticket into ``target``: a ticket number, with or without ``#``."""

    target: Line = ""


class ForwardForm(BaseModel):
    """Forward the chosen mail (none chosen: all of it) with a note to an outside address."""

    to: Line = ""
    note: Text = ""
    message_ids: list[Id] = Field(default_factory=list, max_length=1000)
    token: Key = ""


def _done(request: Request, url: str) -> Response:
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def _panel_with_error(
    request: Request,
    session: SessionDep,
    agent: Agent,
    ticket_id: int,
    exc: ServiceError,
    *,
    fields: dict[str, str],
    general: str,
    values: dict[str, object],
) -> HTMLResponse:
    """The page (or, for htmx, the panel) again with the error beside its field."""
    ticket = ticket_service.get_ticket(session, ticket_id)
    context = ticket_context(request, session, ticket_id, agent)
    errors = {fields.get(exc.field or "", general): exc.text()}
    context |= merge_context(
        session, ticket, ticket_service.thread(session, ticket), errors=errors, values=values
    )
    if request.headers.get("hx-request"):
        # app.js swaps a 4xx answer that names its target.
        headers = {"HX-Retarget": "#ticket-merge", "HX-Reswap": "outerHTML"}
        return render(request, "_ticket_merge.html", context, status_code=422, headers=headers)
    return render(request, "ticket.html", context, status_code=422)


@router.get("/tickets/{ticket_id}/merge/candidates", include_in_schema=False)
def merge_candidates(
    request: Request,
    ticket_id: Id,
    session: SessionDep,
    agent: CurrentAgent,
    target: Annotated[Search, Query(max_length=200)] = "",
) -> Response:
    """The tickets that match what the agent typed, as ``<option>``s of the picker."""
    ticket = ticket_service.get_ticket(session, ticket_id)
    found = merging.candidates(session, ticket, target)
    return render(request, "_ticket_merge_candidates.html", {"candidates": found})


@router.post("/tickets/{ticket_id}/merge", include_in_schema=False)
def merge_into(
    request: Request,
    ticket_id: Id,
    session: SessionDep,
    agent: CurrentAgent,
    form: Annotated[MergeForm, Form()],
) -> Response:
    ticket = ticket_service.get_ticket(session, ticket_id)
    try:
        target = merging.find_target(session, form.target)
        merging.merge_tickets(
            session, target_id=target.id or 0, source_ids=[ticket.id or 0], agent=agent
        )
    except ServiceError as exc:
        return _panel_with_error(
            request,
            session,
            agent,
            ticket_id,
            exc,
            fields=_MERGE_FIELDS,
            general="target",
            values={"target": form.target},
        )
    return _done(request, f"/tickets/{target.id}")


@router.post("/messages/{message_id}/split", include_in_schema=False)
def split(request: Request, message_id: Id, session: SessionDep, agent: CurrentAgent) -> Response:
    new = merging.split_message(session, message_id=message_id, agent=agent)
    return _done(request, f"/tickets/{new.id}")


@router.post("/tickets/{ticket_id}/forward", include_in_schema=False)
def forward(
    request: Request,
    ticket_id: Id,
    session: SessionDep,
    agent: CurrentAgent,
    form: Annotated[ForwardForm, Form()],
) -> Response:
    ticket = ticket_service.get_ticket(session, ticket_id)
    try:
        message = forwarding.forward(
            session,
            ticket=ticket,
            agent=agent,
            to=form.to,
            note=form.note,
            message_ids=form.message_ids or None,
            idempotency_key=f"web-forward:{ticket_id}:{form.token}" if form.token else None,
        )
    except ServiceError as exc:
        return _panel_with_error(
            request,
            session,
            agent,
            ticket_id,
            exc,
            fields=_FORWARD_FIELDS,
            general="forward",
            values={"to": form.to, "note": form.note, "message_ids": form.message_ids},
        )
    return _done(request, f"/tickets/{ticket_id}#m{message.id}")
