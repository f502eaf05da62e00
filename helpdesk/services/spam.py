"""Spam and blocked senders.

An agent marks a ticket as spam (it moves from the inbox to the Spam view) and may block
its sender's address or, chosen explicitly, the whole domain. Mail from a blocked sender is
still stored in full (mail-in asks ``blocked_among`` once per group) but its ticket goes to
the Spam view, never reopens and is never answered automatically. Everything is undoable:
"not spam" moves the ticket back, and a block is removed from the ticket or by an admin.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from helpdesk.db import reread, transaction
from helpdesk.i18n import N_
from helpdesk.models import Agent, BlockScope, SenderBlock, Ticket, utcnow
from helpdesk.services import audit
from helpdesk.services.errors import NotFound, ServiceError

#: An admin's list of blocks shows at most this many, newest first.
LIST_LIMIT = 500


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower()


def blocked_among(session: Session, addresses: Iterable[str | None]) -> set[str]:
    """The addresses of ``addresses`` (lower case) that are blocked, by address or domain.

    One query for the lot (a mail-in group asks once)."""
    wanted = {a.strip().lower() for a in addresses if a and "@" in a}
    if not wanted:
        return set()
    keys = wanted | {domain_of(a) for a in wanted}
    found = set(session.exec(select(SenderBlock.value).where(col(SenderBlock.value).in_(keys))))
    return {a for a in wanted if a in found or domain_of(a) in found}


def block_for(session: Session, address: str | None) -> SenderBlock | None:
    """The block that stops ``address``: its own, else its domain's."""
    if not address or "@" not in address:
        return None
    address = address.lower()
    rows = session.exec(
        select(SenderBlock).where(col(SenderBlock.value).in_([address, domain_of(address)]))
    ).all()
    return min(rows, key=lambda b: b.scope != BlockScope.address, default=None)


def list_blocks(session: Session, *, limit: int = LIST_LIMIT) -> list[SenderBlock]:
    return list(session.exec(select(SenderBlock).order_by(col(SenderBlock.id).desc()).limit(limit)))


def set_spam(session: Session, *, ticket: Ticket, spam: bool, by: Agent) -> Ticket:
    """Move the ticket to the Spam view, or back to the inbox (audited)."""
    with transaction(session):
        reread(session, ticket)
        if ticket.spam != spam:
            ticket.spam = spam
            ticket.updated_at = utcnow()
            session.add(ticket)
            audit.record(
                session,
                action="ticket.spam" if spam else "ticket.not_spam",
                agent=by,
                object_type="ticket",
                object_id=ticket.id,
            )
    return ticket


def block_sender(
    session: Session, *, ticket: Ticket, scope: BlockScope | str, by: Agent
) -> SenderBlock:
    """Block the ticket's sender (address, or the domain when asked) and mark it as spam."""
    try:
        scope = BlockScope(scope)
    except ValueError as exc:
        raise ServiceError(N_("Choose the address or the domain"), field="scope") from exc
    address = (ticket.customer_email or "").lower()
    if "@" not in address:
        raise ServiceError(N_("The ticket has no sender address to block"))
    value = address if scope == BlockScope.address else domain_of(address)
    existing = session.exec(select(SenderBlock).where(SenderBlock.value == value)).first()
    try:
        with transaction(session):
            if existing is None:
                existing = SenderBlock(scope=scope, value=value, created_by_id=by.id)
                session.add(existing)
                session.flush()
                audit.record(
                    session,
                    action="sender.block",
                    agent=by,
                    object_type="sender_block",
                    object_id=existing.id,
                    value=value,
                    scope=str(scope),
                    ticket_id=ticket.id,
                )
            set_spam(session, ticket=ticket, spam=True, by=by)
    except IntegrityError:  # blocked by someone else meanwhile: that block stands
        found = session.exec(select(SenderBlock).where(SenderBlock.value == value)).first()
        if found is None:
            raise
        set_spam(session, ticket=ticket, spam=True, by=by)
        return found
    return existing


def unblock(session: Session, *, block_id: int, by: Agent) -> None:
    """Remove a block: later mail from the sender comes to the inbox again (audited)."""
    block = session.get(SenderBlock, block_id)
    if block is None:
        raise NotFound(N_("No such block"))
    with transaction(session):
        session.delete(block)
        audit.record(
            session,
            action="sender.unblock",
            agent=by,
            object_type="sender_block",
            object_id=block_id,
            value=block.value,
        )
