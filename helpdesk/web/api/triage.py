"""Snooze, spam, blocked senders and the customer history over JSON."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Response
from pydantic import AwareDatetime, BaseModel

from helpdesk.i18n import N_
from helpdesk.models import Agent, BlockScope, SenderBlock, SenderBlockRead, TicketRead
from helpdesk.services import snooze as snooze_service
from helpdesk.services import spam as spam_service
from helpdesk.services import tickets as ticket_service
from helpdesk.services.customer_history import customer_history
from helpdesk.services.errors import NotFound
from helpdesk.services.inbox import hydrate
from helpdesk.values import Id
from helpdesk.web.api.tickets import ticket_out
from helpdesk.web.deps import AdminAgent, CurrentAgent, SessionDep
from helpdesk.web.problems import API_ERRORS

router = APIRouter(tags=["triage"], responses=API_ERRORS)


class SnoozeIn(BaseModel):
    """Until when: an ISO 8601 time with its offset, in the future, within a year."""

    until: AwareDatetime


class BlockIn(BaseModel):
    """``address``: the ticket's sender; ``domain``: every address at its domain."""

    scope: BlockScope = BlockScope.address


class HistoryTicket(BaseModel):
    id: int
    number: int
    subject: str
    status: str
    last_message_at: datetime


class HistoryCall(BaseModel):
    id: int
    ticket_id: int
    started_at: datetime
    duration_seconds: int
    topic: str


class HistoryInvoice(BaseModel):
    label: str
    url: str
    date: date | None
    status: str
    amount: str


class CustomerHistoryRead(BaseModel):
    """The customer's latest other tickets, calls and invoices; ``more`` when there are older
    ones (all of them behind ``all_url``)."""

    tickets: list[HistoryTicket]
    calls: list[HistoryCall]
    invoices: list[HistoryInvoice]
    more: bool
    all_url: str | None


def _ticket(session: SessionDep, ticket_id: int) -> TicketRead:
    return ticket_out(hydrate(session, [ticket_service.get_ticket(session, ticket_id)])[0])


def block_out(session: SessionDep, block: SenderBlock) -> SenderBlockRead:
    author = session.get(Agent, block.created_by_id) if block.created_by_id else None
    return SenderBlockRead(
        id=block.id or 0,
        scope=str(block.scope),
        value=block.value,
        created_by=author.email if author else None,
        created_at=block.created_at,
    )


@router.post("/tickets/{ticket_id}/snooze", response_model=TicketRead)
def api_snooze(
    ticket_id: Id, body: SnoozeIn, session: SessionDep, agent: CurrentAgent
) -> TicketRead:
    """Snooze the ticket: out of the open lists until ``until``, then back, marked."""
    ticket = ticket_service.get_ticket(session, ticket_id)
    snooze_service.snooze(session, ticket=ticket, until=body.until, by=agent)
    return _ticket(session, ticket_id)


@router.delete("/tickets/{ticket_id}/snooze", response_model=TicketRead)
def api_unsnooze(ticket_id: Id, session: SessionDep, agent: CurrentAgent) -> TicketRead:
    """Wake the ticket now (or clear its "back from snooze" mark)."""
    ticket = ticket_service.get_ticket(session, ticket_id)
    snooze_service.unsnooze(session, ticket=ticket, by=agent)
    return _ticket(session, ticket_id)


@router.post("/tickets/{ticket_id}/spam", response_model=TicketRead)
def api_mark_spam(ticket_id: Id, session: SessionDep, agent: CurrentAgent) -> TicketRead:
    """Move the ticket to the Spam view."""
    ticket = ticket_service.get_ticket(session, ticket_id)
    spam_service.set_spam(session, ticket=ticket, spam=True, by=agent)
    return _ticket(session, ticket_id)


@router.delete("/tickets/{ticket_id}/spam", response_model=TicketRead)
def api_not_spam(ticket_id: Id, session: SessionDep, agent: CurrentAgent) -> TicketRead:
    """Not spam: the ticket goes back to the inbox."""
    ticket = ticket_service.get_ticket(session, ticket_id)
    spam_service.set_spam(session, ticket=ticket, spam=False, by=agent)
    return _ticket(session, ticket_id)


@router.post("/tickets/{ticket_id}/block", response_model=SenderBlockRead, status_code=201)
def api_block_sender(
    ticket_id: Id, body: BlockIn, session: SessionDep, agent: CurrentAgent
) -> SenderBlockRead:
    """Block the ticket's sender (address or domain) and mark the ticket as spam."""
    ticket = ticket_service.get_ticket(session, ticket_id)
    block = spam_service.block_sender(session, ticket=ticket, scope=body.scope, by=agent)
    return block_out(session, block)


@router.delete("/tickets/{ticket_id}/block", status_code=204)
def api_unblock_sender(ticket_id: Id, session: SessionDep, agent: CurrentAgent) -> Response:
    """Remove the block that stops the ticket's sender (its address's, else its domain's)."""
    ticket = ticket_service.get_ticket(session, ticket_id)
    block = spam_service.block_for(session, ticket.customer_email)
    if block is None or block.id is None:
        raise NotFound(N_("No such block"))
    spam_service.unblock(session, block_id=block.id, by=agent)
    return Response(status_code=204)


@router.get("/blocks", response_model=list[SenderBlockRead])
def api_list_blocks(session: SessionDep, agent: AdminAgent) -> list[SenderBlockRead]:
    """Blocked senders, newest first (admins)."""
    return [block_out(session, b) for b in spam_service.list_blocks(session)]


@router.delete("/blocks/{block_id}", status_code=204)
def api_delete_block(block_id: Id, session: SessionDep, agent: AdminAgent) -> Response:
    """Remove a block (admins): later mail from the sender comes to the inbox again."""
    spam_service.unblock(session, block_id=block_id, by=agent)
    return Response(status_code=204)


@router.get("/tickets/{ticket_id}/history", response_model=CustomerHistoryRead)
def api_customer_history(
    ticket_id: Id, session: SessionDep, agent: CurrentAgent
) -> CustomerHistoryRead:
    """The customer's (linked user's, else sender's) latest other tickets, calls, invoices."""
    history = customer_history(session, ticket_service.get_ticket(session, ticket_id))
    return CustomerHistoryRead(
        tickets=[
            HistoryTicket(
                id=t.id or 0,
                number=t.number or 0,
                subject=t.subject,
                status=str(t.status),
                last_message_at=t.last_message_at,
            )
            for t in history.tickets
        ],
        calls=[
            HistoryCall(
                id=c.id or 0,
                ticket_id=c.ticket_id,
                started_at=c.started_at,
                duration_seconds=c.duration_seconds,
                topic=c.topic,
            )
            for c in history.calls
        ],
        invoices=[
            HistoryInvoice(label=i.label, url=i.url, date=i.at, status=i.status, amount=i.amount)
            for i in history.invoices
        ],
        more=history.more_tickets or history.more_calls or history.more_invoices,
        all_url=history.all_url,
    )
