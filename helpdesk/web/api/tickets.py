"""Tickets over JSON: list with filters and cursor, one ticket with its messages, changes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from helpdesk.i18n import N_
from helpdesk.mail.parsing.filenames import neutral_filename
from helpdesk.models import (
    Agent,
    Attachment,
    AttachmentRead,
    Message,
    NoteCreate,
    Ticket,
    TicketRead,
    TicketUpdate,
)
from helpdesk.services import agents as agent_service
from helpdesk.services import tickets as ticket_service
from helpdesk.services.errors import ServiceError
from helpdesk.services.inbox import InboxRow, TicketFilter, hydrate, list_tickets
from helpdesk.values import Id, Line, Search
from helpdesk.web.deps import CurrentAgent, SessionDep

router = APIRouter(tags=["tickets"])


class TicketPage(BaseModel):
    items: list[TicketRead]
    next_cursor: str | None


class MessageRead(BaseModel):
    """One message of a thread: mail in or out, a note, a call."""

    model_config = ConfigDict(populate_by_name=True)

    id: int
    kind: str
    from_: str | None = Field(alias="from")
    from_name: str | None
    to: list[str]
    cc: list[str]
    subject: str
    message_id: str | None
    in_reply_to: str | None
    text: str | None
    html: str | None
    created_at: str
    flags: list[str]
    author: str | None
    delivery_status: str | None
    delivery_error: str | None
    attachments: list[AttachmentRead]


class TicketDetail(TicketRead):
    messages: list[MessageRead]


def ticket_out(row: InboxRow) -> TicketRead:
    t = row.ticket
    return TicketRead(
        id=t.id or 0,
        number=t.number or 0,
        subject=t.subject,
        status=str(t.status),
        channel=str(t.channel),
        mailbox=row.mailbox.address if row.mailbox else None,
        user=row.user.etunnus if row.user else None,
        assignee=row.assignee.email if row.assignee else None,
        customer_email=t.customer_email,
        customer_name=t.customer_name,
        message_count=t.message_count,
        created_at=t.created_at,
        last_message_at=t.last_message_at,
        flags=list(t.flags),
        tags=[tag.name for tag in row.tags],
        merged_into_id=t.merged_into_id,
    )


def message_out(
    m: Message, attachments: list[Attachment], authors: dict[int, Agent]
) -> dict[str, Any]:
    author = authors.get(m.author_id or 0)
    return {
        "id": m.id,
        "kind": str(m.kind),
        "from": m.from_address,
        "from_name": m.from_name,
        "to": m.to_addresses,
        "cc": m.cc_addresses,
        "subject": m.subject,
        "message_id": m.message_id,
        "in_reply_to": m.in_reply_to,
        "text": m.text,
        "html": m.html,
        "created_at": m.created_at.isoformat(),
        "flags": list(m.flags),
        "author": author.email if author else None,
        "delivery_status": str(m.delivery_status) if m.delivery_status else None,
        "delivery_error": m.delivery_error,
        "attachments": [
            AttachmentRead(
                id=a.id or 0,
                filename=neutral_filename(a.filename, f"attachment-{a.id}"),
                content_type=a.content_type,
                size=a.size,
                sha256=a.sha256,
                inline=a.inline,
            ).model_dump()
            for a in attachments
        ],
    }


def ticket_detail(session: SessionDep, ticket: Ticket) -> TicketDetail:
    base = ticket_out(hydrate(session, [ticket])[0])
    messages = ticket_service.thread(session, ticket)
    files = ticket_service.attachments_by_message(session, messages)
    authors = {a.id or 0: a for a in agent_service.list_agents(session)}
    return TicketDetail(
        **base.model_dump(),
        messages=[
            MessageRead.model_validate(message_out(m, files.get(m.id or 0, []), authors))
            for m in messages
        ],
    )


@router.get("/tickets", response_model=TicketPage)
def api_list_tickets(
    session: SessionDep,
    agent: CurrentAgent,
    status: Line | None = None,
    mailbox: Line | None = None,
    assignee: Line | None = None,
    user: Line | None = None,
    q: Search | None = None,
    cursor: Line | None = None,
    limit: int = 50,
    tag: Line | None = None,
) -> TicketPage:
    """Tickets, newest activity first. ``assignee``: ``me``, ``none``, an agent id or email;
    ``tag``: a tag's name in any case."""
    if assignee and "@" in assignee:
        found = agent_service.get_by_email(session, assignee)
        assignee = str(found.id) if found else "-1"
    filters = TicketFilter(
        status=status, mailbox=mailbox, assignee=assignee, user=user, q=q, tag=tag, me=agent
    )
    page = list_tickets(session, filters, cursor=cursor, limit=max(1, min(limit, 200)))
    return TicketPage(items=[ticket_out(r) for r in page.rows], next_cursor=page.next_cursor)


@router.get("/tickets/{ticket_id}", response_model=TicketDetail)
def api_get_ticket(ticket_id: Id, session: SessionDep, agent: CurrentAgent) -> TicketDetail:
    """One ticket with its whole thread."""
    return ticket_detail(session, ticket_service.get_ticket(session, ticket_id))


@router.patch("/tickets/{ticket_id}", response_model=TicketDetail)
def api_update_ticket(
    ticket_id: Id, change: TicketUpdate, session: SessionDep, agent: CurrentAgent
) -> TicketDetail:
    """Change status and/or assignee (an agent email, or null to unassign)."""
    ticket = ticket_service.get_ticket(session, ticket_id)
    # Check the whole change before applying any of it, so a bad assignee changes nothing.
    target = None
    if change.assignee:
        target = agent_service.get_by_email(session, change.assignee)
        if target is None:
            raise ServiceError(f"No agent with the address {change.assignee}")
        if not target.active:
            raise ServiceError(N_("That agent is not active"))
    if change.status is not None:
        ticket_service.set_status(session, ticket=ticket, status=change.status, by=agent)
    if "assignee" in change.model_fields_set:
        ticket_service.assign(session, ticket=ticket, assignee=target, by=agent)
    return ticket_detail(session, ticket)


@router.post("/tickets/{ticket_id}/notes", status_code=201, response_model=MessageRead)
def api_add_note(
    ticket_id: Id, note: NoteCreate, session: SessionDep, agent: CurrentAgent
) -> dict[str, Any]:
    """Add an internal note to the ticket."""
    ticket = ticket_service.get_ticket(session, ticket_id)
    message = ticket_service.add_note(session, ticket=ticket, text=note.text, by=agent)
    return message_out(message, [], {agent.id or 0: agent})
