"""Snooze, spam and blocked senders: the ticket sidebar's forms and the admin's list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from helpdesk.i18n import N_
from helpdesk.services import snooze as snooze_service
from helpdesk.services import spam as spam_service
from helpdesk.services import tickets as ticket_service
from helpdesk.services.errors import ServiceError
from helpdesk.values import Id, Line
from helpdesk.web.deps import AdminAgent, CurrentAgent, SessionDep
from helpdesk.web.templating import render

router = APIRouter()


class SnoozeForm(BaseModel):
    """A quick pick's key (``later``, ``tomorrow``, ``monday``), else the picker's time."""

    pick: Line = ""
    until: Line = ""


class BlockForm(BaseModel):
    """Block the sender's ``address`` or, chosen explicitly, its ``domain``."""

    scope: Line = "address"


class SpamForm(BaseModel):
    """``1``: move to Spam; ``0``: not spam, back to the inbox."""

    spam: Line = "1"


def _back(ticket_id: int) -> Response:
    return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)


def _inbox() -> Response:
    return RedirectResponse("/tickets", status_code=303)


@router.post("/tickets/{ticket_id}/snooze", include_in_schema=False)
def snooze(
    ticket_id: Id, session: SessionDep, agent: CurrentAgent, form: Annotated[SnoozeForm, Form()]
) -> Response:
    ticket = ticket_service.get_ticket(session, ticket_id)
    picks = {p.key: p.until for p in snooze_service.quick_picks()}
    if form.pick:
        if form.pick not in picks:
            raise ServiceError(N_("Give the date and time"), field="until")
        until = picks[form.pick]
    else:
        until = snooze_service.local_input(form.until)
    snooze_service.snooze(session, ticket=ticket, until=until, by=agent)
    return _inbox()  # the ticket has left the list the agent came from


@router.post("/tickets/{ticket_id}/unsnooze", include_in_schema=False)
def unsnooze(ticket_id: Id, session: SessionDep, agent: CurrentAgent) -> Response:
    ticket = ticket_service.get_ticket(session, ticket_id)
    snooze_service.unsnooze(session, ticket=ticket, by=agent)
    return _back(ticket_id)


@router.post("/tickets/{ticket_id}/spam", include_in_schema=False)
def mark_spam(
    ticket_id: Id, session: SessionDep, agent: CurrentAgent, form: Annotated[SpamForm, Form()]
) -> Response:
    ticket = ticket_service.get_ticket(session, ticket_id)
    spam = form.spam != "0"
    spam_service.set_spam(session, ticket=ticket, spam=spam, by=agent)
    return _inbox() if spam else _back(ticket_id)


@router.post("/tickets/{ticket_id}/block", include_in_schema=False)
def block(
    ticket_id: Id, session: SessionDep, agent: CurrentAgent, form: Annotated[BlockForm, Form()]
) -> Response:
    ticket = ticket_service.get_ticket(session, ticket_id)
    spam_service.block_sender(session, ticket=ticket, scope=form.scope, by=agent)
    return _inbox()


@router.post("/tickets/{ticket_id}/unblock/{block_id}", include_in_schema=False)
def unblock_from_ticket(
    ticket_id: Id, block_id: Id, session: SessionDep, agent: CurrentAgent
) -> Response:
    ticket_service.get_ticket(session, ticket_id)
    spam_service.unblock(session, block_id=block_id, by=agent)
    return _back(ticket_id)


@router.get("/admin/blocks", include_in_schema=False)
def blocks_page(request: Request, session: SessionDep, agent: AdminAgent) -> Response:
    blocks = spam_service.list_blocks(session)
    return render(request, "admin/blocks.html", {"blocks": blocks})


@router.post("/admin/blocks/{block_id}/delete", include_in_schema=False)
def delete_block(block_id: Id, session: SessionDep, agent: AdminAgent) -> Response:
    spam_service.unblock(session, block_id=block_id, by=agent)
    return RedirectResponse("/admin/blocks", status_code=303)
