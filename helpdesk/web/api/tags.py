"""Tags over JSON: the list, admins' changes, and the tags of one ticket."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlmodel import Session

from helpdesk.models import Tag, TagRead, Ticket
from helpdesk.services import tags
from helpdesk.services import tickets as ticket_service
from helpdesk.values import Id, Line
from helpdesk.web.deps import AdminAgent, CurrentAgent, SessionDep

router = APIRouter(tags=["tags"])


class TagCreate(BaseModel):
    """A new tag: a name unique in any case, a colour ``#rrggbb`` or none."""

    name: Line
    colour: Line | None = None


class TagUpdate(BaseModel):
    """Rename or recolour a tag; ``colour: ""`` clears the colour."""

    name: Line | None = None
    colour: Line | None = None


class TicketTagAdd(BaseModel):
    """A tag for the ticket by name; a new name makes a new tag."""

    name: Line


def tag_out(tag: Tag) -> TagRead:
    return TagRead(id=tag.id or 0, name=tag.name, colour=tag.colour)


def tags_of(session: Session, ticket: Ticket) -> list[TagRead]:
    return [tag_out(t) for t in tags.tags_by_ticket(session, [ticket.id])[ticket.id or 0]]


@router.get("/tags", response_model=list[TagRead])
def api_list_tags(session: SessionDep, agent: CurrentAgent) -> list[TagRead]:
    """Every tag, by name."""
    return [tag_out(t) for t in tags.list_tags(session)]


@router.post("/tags", response_model=TagRead, status_code=201)
def api_create_tag(body: TagCreate, session: SessionDep, agent: CurrentAgent) -> TagRead:
    """A new tag (any agent, as adding a new name to a ticket does); 409 if taken."""
    return tag_out(tags.create(session, name=body.name, colour=body.colour, by=agent))


@router.patch("/tags/{tag_id}", response_model=TagRead)
def api_update_tag(tag_id: Id, body: TagUpdate, session: SessionDep, admin: AdminAgent) -> TagRead:
    """Rename or recolour a tag (admins)."""
    tag = tags.get_tag(session, tag_id)
    return tag_out(tags.update(session, tag=tag, name=body.name, colour=body.colour, by=admin))


@router.delete("/tags/{tag_id}", status_code=204)
def api_delete_tag(tag_id: Id, session: SessionDep, admin: AdminAgent) -> Response:
    """Delete a tag and take it off every ticket (admins)."""
    tags.delete_tag(session, tag=tags.get_tag(session, tag_id), by=admin)
    return Response(status_code=204)


@router.get("/tickets/{ticket_id}/tags", response_model=list[TagRead])
def api_ticket_tags(ticket_id: Id, session: SessionDep, agent: CurrentAgent) -> list[TagRead]:
    """The ticket's tags, by name."""
    ticket = ticket_service.get_ticket(session, ticket_id)
    return tags_of(session, ticket)


@router.post("/tickets/{ticket_id}/tags", response_model=list[TagRead])
def api_add_ticket_tag(
    ticket_id: Id, body: TicketTagAdd, session: SessionDep, agent: CurrentAgent
) -> list[TagRead]:
    """Put a tag on the ticket (made if new); answers the ticket's tags."""
    ticket = ticket_service.get_ticket(session, ticket_id)
    tags.tag_tickets(session, tickets=[ticket], name=body.name, by=agent)
    return tags_of(session, ticket)


@router.delete("/tickets/{ticket_id}/tags/{tag_id}", response_model=list[TagRead])
def api_remove_ticket_tag(
    ticket_id: Id, tag_id: Id, session: SessionDep, agent: CurrentAgent
) -> list[TagRead]:
    """Take a tag off the ticket; answers the ticket's tags."""
    ticket = ticket_service.get_ticket(session, ticket_id)
    tags.untag_tickets(session, tickets=[ticket], tag=tags.get_tag(session, tag_id), by=agent)
    return tags_of(session, ticket)
