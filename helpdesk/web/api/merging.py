"""Merging, splitting and forwarding tickets over JSON: the same services as the ticket page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header
from pydantic import BaseModel, Field

from helpdesk.services import forwarding, merging
from helpdesk.services import tickets as ticket_service
from helpdesk.values import Id, Key, Line, Text
from helpdesk.web.api.replies import ReplyRead, queued_out
from helpdesk.web.api.tickets import TicketDetail, ticket_detail
from helpdesk.web.deps import CurrentAgent, SessionDep

router = APIRouter(tags=["merge, split and forward"])


class MergeCreate(BaseModel):
    """``POST /tickets/{id}/merge``: the tickets to merge into this one."""

    source_ids: list[Id] = Field(min_length=1, max_length=merging.MAX_MERGE_SOURCES)


class ForwardCreate(BaseModel):
    """``POST /tickets/{id}/forward``: where to, a note above the mail, and which mail
    (``message_ids`` empty or missing: the whole conversation; notes and calls never)."""

    to: list[Line] = Field(min_length=1, max_length=50)
    note: Text = ""
    message_ids: list[Id] | None = Field(default=None, max_length=1000)


@router.post("/tickets/{ticket_id}/merge", response_model=TicketDetail)
def api_merge(
    ticket_id: Id, change: MergeCreate, session: SessionDep, agent: CurrentAgent
) -> TicketDetail:
    """Merge the ``source_ids`` tickets into this one: their messages, notes, calls and
    links move here; each of them is closed and points here (``merged_into_id``). Not
    undoable. 400 for merging a ticket into itself, into a merged ticket, or one merged
    already."""
    target = merging.merge_tickets(
        session, target_id=ticket_id, source_ids=change.source_ids, agent=agent
    )
    return ticket_detail(session, target)


@router.post("/messages/{message_id}/split", status_code=201, response_model=TicketDetail)
def api_split(message_id: Id, session: SessionDep, agent: CurrentAgent) -> TicketDetail:
    """Take one mail out of its ticket into a new ticket (with its attachments); answers
    the new ticket. Later mail answering it threads there."""
    return ticket_detail(
        session, merging.split_message(session, message_id=message_id, agent=agent)
    )


@router.post("/tickets/{ticket_id}/forward", status_code=201, response_model=ReplyRead)
def api_forward(
    ticket_id: Id,
    change: ForwardCreate,
    session: SessionDep,
    agent: CurrentAgent,
    idempotency_key: Annotated[Key | None, Header()] = None,
) -> dict[str, Any]:
    """Forward the ticket's mail with its attachments from the ticket's mailbox, through
    the outbox (undo with ``/outbox/{outbound_id}/cancel``). The same ``Idempotency-Key``
    returns the same forward and sends nothing more."""
    ticket = ticket_service.get_ticket(session, ticket_id)
    message = forwarding.forward(
        session,
        ticket=ticket,
        agent=agent,
        to=change.to,
        note=change.note,
        message_ids=change.message_ids,
        idempotency_key=f"api-forward:{agent.id}:{idempotency_key}" if idempotency_key else None,
    )
    return queued_out(session, message)
