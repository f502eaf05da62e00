"""The inbox's bulk bar: one POST does one action to every selected ticket."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel
from sqlmodel import Session

from helpdesk.i18n import N_
from helpdesk.models import Agent, Ticket
from helpdesk.services import bulk
from helpdesk.services import tickets as ticket_service
from helpdesk.services.errors import ServiceError
from helpdesk.values import Id, Line, as_id
from helpdesk.web.deps import CurrentAgent, SessionDep
from helpdesk.web.templating import render

router = APIRouter()


class BulkForm(BaseModel):
    """The ticked rows (``ids``) and the button pressed: ``status:closed``, ``assign``
    (with ``assignee``: ``me``, ``none`` or an agent id), ``add_tag``/``remove_tag`` (with
    ``tag``), ``merge`` (with ``into``: the number of the ticket to merge into). ``back`` is
    the inbox address to return to without JavaScript."""

    ids: list[Id] = []
    action: Line = ""
    assignee: Line = ""
    tag: Line = ""
    into: Line = ""
    back: Line = "/tickets"


def assignee_of(session: Session, value: str, me: Agent) -> Agent | None:
    """``me``, ``none`` or an agent id as the agent meant (None for nobody)."""
    if value == "me":
        return me
    if value == "none":
        return None
    agent_id = as_id(value)
    found = session.get(Agent, agent_id) if agent_id is not None else None
    if found is None:
        raise ServiceError(N_("Choose whom to assign to"), field="assignee")
    return found


def ticket_by_number(session: Session, value: str) -> Ticket:
    """The ticket an agent names by its number (``1042`` or ``#1042``)."""
    number = as_id(value.strip().lstrip("#"))
    found = ticket_service.get_by_number(session, number) if number is not None else None
    if found is None:
        raise ServiceError(N_("No ticket with that number"), field="into")
    return found


@router.post("/tickets/bulk", include_in_schema=False)
def bulk_action(
    request: Request,
    session: SessionDep,
    agent: CurrentAgent,
    form: Annotated[BulkForm, Form()],
) -> Response:
    action, _, status = form.action.partition(":")
    assignee = assignee_of(session, form.assignee, agent) if action == "assign" else None
    result = bulk.apply(
        session,
        ticket_ids=form.ids,
        action=action,
        by=agent,
        status=status or None,
        assignee=assignee,
        tag=form.tag,
        target=ticket_by_number(session, form.into) if action == "merge" else None,
    )
    notice = bulk.summary(result)
    if not request.headers.get("hx-request"):
        back = form.back if form.back.startswith("/tickets") else "/tickets"
        return RedirectResponse(back, status_code=303)
    # The list and the views' counts refresh themselves on this event; the selection ends.
    trigger = {"tickets-changed": {"changed": result.changed}}
    return render(
        request, "_flash.html", {"notice": notice}, headers={"HX-Trigger": json.dumps(trigger)}
    )
