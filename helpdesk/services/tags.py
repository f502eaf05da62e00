"""Tags: labels on tickets, unique by name in any case; admins rename and delete them.

Any agent may put a tag on a ticket, and a name nobody has used yet makes a new tag, as
in a mail client's labels; renaming, recolouring and deleting a tag touch every ticket
that carries it, so only admins do those.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Exists, delete, exists, insert
from sqlmodel import Session, col, select

from helpdesk.db import transaction
from helpdesk.i18n import N_
from helpdesk.models import Agent, Tag, Ticket, TicketTag
from helpdesk.models.tags import MAX_TAG_NAME
from helpdesk.services import audit
from helpdesk.services.errors import Conflict, NotFound, PermissionDenied, ServiceError

#: The colours a tag may have, with their names: a fixed set, so the stylesheet draws
#: them (the CSP allows no style attributes) and every pair reads well.
COLOURS = {
    "#b3261e": N_("red"),
    "#c25e00": N_("orange"),
    "#a68a00": N_("yellow"),
    "#1e7d34": N_("green"),
    "#00838f": N_("teal"),
    "#0b5cad": N_("blue"),
    "#6a3fa0": N_("purple"),
    "#5f6b7a": N_("grey"),
}


def tag_key(name: str) -> str:
    """The form two names must share to be one tag: trimmed, spaces joined, case-folded."""
    return " ".join(name.split()).casefold()


def clean_name(name: str) -> str:
    """The name as stored: inner runs of space joined; an empty or overlong one is refused."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ServiceError(N_("A tag needs a name"), field="name")
    if len(cleaned) > MAX_TAG_NAME or len(tag_key(cleaned)) > MAX_TAG_NAME:
        raise ServiceError(
            N_("A tag name is at most %(max)s characters"),
            field="name",
            params={"max": MAX_TAG_NAME},
        )
    return cleaned


def clean_colour(colour: str | None) -> str | None:
    if not colour or not colour.strip():
        return None
    if colour.strip().lower() not in COLOURS:
        raise ServiceError(
            N_("Choose a colour from the list: %(colours)s"),
            field="colour",
            params={"colours": ", ".join(COLOURS)},
        )
    return colour.strip().lower()


def list_tags(session: Session) -> list[Tag]:
    return list(session.exec(select(Tag).order_by(col(Tag.key))))


def get_tag(session: Session, tag_id: int) -> Tag:
    tag = session.get(Tag, tag_id)
    if tag is None:
        raise NotFound(N_("No such tag"))
    return tag


def find(session: Session, name: str) -> Tag | None:
    """The tag called ``name`` in any case, or None."""
    return session.exec(select(Tag).where(Tag.key == tag_key(name))).first()


def _require_admin(by: Agent) -> None:
    if not by.is_admin:
        raise PermissionDenied(N_("Only admins may do this"))


def _ensure(session: Session, name: str, by: Agent, colour: str | None = None) -> Tag:
    """The tag called ``name``, made if new (a step inside the caller's unit)."""
    cleaned = clean_name(name)
    tag = find(session, cleaned)
    if tag is None:
        tag = Tag(name=cleaned, key=tag_key(cleaned), colour=clean_colour(colour))
        session.add(tag)
        session.flush()
        audit.record(
            session,
            action="tag.create",
            agent=by,
            object_type="tag",
            object_id=tag.id,
            name=cleaned,
        )
    return tag


def create(session: Session, *, name: str, colour: str | None = None, by: Agent) -> Tag:
    """A new tag; a name taken in any case is a conflict (audited)."""
    cleaned = clean_name(name)
    colour = clean_colour(colour)
    with transaction(session):
        if find(session, cleaned) is not None:
            raise Conflict(N_("A tag with that name exists already"))
        return _ensure(session, cleaned, by, colour)


def update(
    session: Session, *, tag: Tag, name: str | None = None, colour: str | None = None, by: Agent
) -> Tag:
    """Rename or recolour a tag (admins; audited). ``colour=""`` clears the colour."""
    _require_admin(by)
    cleaned = clean_name(name) if name is not None else tag.name
    new_colour = clean_colour(colour) if colour is not None else tag.colour
    with transaction(session):
        clash = find(session, cleaned)
        if clash is not None and clash.id != tag.id:
            raise Conflict(N_("A tag with that name exists already"))
        old = tag.name
        tag.name, tag.key, tag.colour = cleaned, tag_key(cleaned), new_colour
        session.add(tag)
        audit.record(
            session,
            action="tag.update",
            agent=by,
            object_type="tag",
            object_id=tag.id,
            old=old,
            new=cleaned,
        )
    return tag


def delete_tag(session: Session, *, tag: Tag, by: Agent) -> None:
    """Delete a tag and take it off every ticket (admins; audited)."""
    _require_admin(by)
    with transaction(session):
        session.execute(delete(TicketTag).where(col(TicketTag.tag_id) == tag.id))
        audit.record(
            session,
            action="tag.delete",
            agent=by,
            object_type="tag",
            object_id=tag.id,
            name=tag.name,
        )
        session.delete(tag)


def tags_by_ticket(session: Session, ticket_ids: Iterable[int | None]) -> dict[int, list[Tag]]:
    """Each ticket's tags by name, with one query for all of them (the inbox's page)."""
    ids = [i for i in ticket_ids if i is not None]
    found: dict[int, list[Tag]] = {i: [] for i in ids}
    if ids:
        rows = session.exec(
            select(TicketTag.ticket_id, Tag)
            .join(Tag, col(Tag.id) == TicketTag.tag_id)
            .where(col(TicketTag.ticket_id).in_(ids))
            .order_by(col(Tag.key))
        )
        for ticket_id, tag in rows:
            found[ticket_id].append(tag)
    return found


def _carrying(session: Session, tag: Tag, tickets: Sequence[Ticket]) -> tuple[list[int], set[int]]:
    """The tickets' ids (each once, in order) and those of them that carry ``tag``."""
    ids = list(dict.fromkeys(t.id for t in tickets if t.id is not None))
    if not ids:
        return ids, set()
    query = select(TicketTag.ticket_id).where(
        TicketTag.tag_id == tag.id, col(TicketTag.ticket_id).in_(ids)
    )
    return ids, set(session.exec(query))


def _audit_each(session: Session, action: str, ids: Sequence[int], tag: Tag, by: Agent) -> None:
    for ticket_id in ids:
        audit.record(
            session,
            action=action,
            agent=by,
            object_type="ticket",
            object_id=ticket_id,
            tag=tag.name,
        )


def tag_tickets(
    session: Session, *, tickets: Sequence[Ticket], name: str, by: Agent
) -> tuple[Tag, int]:
    """Put the tag ``name`` (made if new) on ``tickets``; how many did not have it yet.

    A step: it runs in the caller's unit of work, or opens its own (audited per ticket)."""
    with transaction(session):
        tag = _ensure(session, name, by)
        ids, have = _carrying(session, tag, tickets)
        new = [i for i in ids if i not in have]
        if new:
            session.execute(insert(TicketTag), [{"ticket_id": i, "tag_id": tag.id} for i in new])
        _audit_each(session, "ticket.tag", new, tag, by)
    return tag, len(new)


def untag_tickets(session: Session, *, tickets: Sequence[Ticket], tag: Tag, by: Agent) -> int:
    """Take ``tag`` off ``tickets``; how many had it (audited per ticket)."""
    with transaction(session):
        ids, have = _carrying(session, tag, tickets)
        had = [i for i in ids if i in have]
        if had:
            session.execute(
                delete(TicketTag).where(
                    col(TicketTag.tag_id) == tag.id, col(TicketTag.ticket_id).in_(had)
                )
            )
        _audit_each(session, "ticket.untag", had, tag, by)
    return len(had)


def tagged_condition(tag: Tag) -> Exists:
    """A WHERE condition: the ticket carries ``tag`` (the inbox's tag filter)."""
    return exists().where(col(TicketTag.ticket_id) == Ticket.id, col(TicketTag.tag_id) == tag.id)
