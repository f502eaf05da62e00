"""Mailboxes: adding and editing them (passwords write-only), sync state for the admin page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from helpdesk.db import reread, transaction
from helpdesk.i18n import N_
from helpdesk.models import Agent, Mailbox, Message, MessageKind, Security, Ticket
from helpdesk.services import audit
from helpdesk.services.errors import Conflict, NotFound, ServiceError

#: Fields an admin may set; passwords only when a new one is typed.
EDITABLE = (
    "display_name",
    "signature",
    "active",
    "imap_host",
    "imap_port",
    "imap_user",
    "imap_security",
    "imap_folder",
    "processed_folder",
    "sent_folder",
    "smtp_host",
    "smtp_port",
    "smtp_user",
    "smtp_security",
)
SECRETS = ("imap_password", "smtp_password")


def _validate(values: dict[str, Any]) -> None:
    for key in ("imap_security", "smtp_security"):
        if key in values and values[key] is not None and values[key] not in Security.__members__:
            raise ServiceError(f"Unknown security mode {values[key]!r} (none, ssl, starttls)")
    for key in ("imap_port", "smtp_port"):
        port = values.get(key)
        if port is not None and not 0 < int(port) < 65536:
            raise ServiceError(f"{key} must be a port number")


def add_mailbox(
    session: Session, *, address: str, by: Agent | None = None, **values: Any
) -> Mailbox:
    """Create a mailbox; refuses a duplicate address."""
    address = address.strip().lower()
    if "@" not in address:
        raise ServiceError(N_("A mailbox needs an email address"))
    with transaction(session):
        if session.exec(select(Mailbox).where(Mailbox.address == address)).first():
            raise Conflict(f"The mailbox {address} exists already")
        _validate(values)
        mailbox = Mailbox(address=address)
        for key, value in values.items():
            if key in EDITABLE + SECRETS and value is not None:
                setattr(mailbox, key, value)
        session.add(mailbox)
        session.flush()
        audit.record(
            session,
            action="mailbox.create",
            agent=by,
            object_type="mailbox",
            object_id=mailbox.id,
            address=address,
        )
    return mailbox


def update_mailbox(session: Session, *, mailbox: Mailbox, by: Agent, **values: Any) -> Mailbox:
    """Change a mailbox; a blank password field keeps the stored password."""
    _validate(values)
    with transaction(session):
        reread(session, mailbox)
        changed = []
        for key, value in values.items():
            if key in SECRETS:
                if value:
                    setattr(mailbox, key, value)
                    changed.append(key)
            elif key in EDITABLE and getattr(mailbox, key) != value:
                setattr(mailbox, key, value)
                changed.append(key)
        if changed:
            session.add(mailbox)
            audit.record(
                session,
                action="mailbox.update",
                agent=by,
                object_type="mailbox",
                object_id=mailbox.id,
                fields=changed,
            )
    return mailbox


def get_mailbox(session: Session, mailbox_id: int) -> Mailbox:
    mailbox = session.get(Mailbox, mailbox_id)
    if mailbox is None:
        raise NotFound("No such mailbox")
    return mailbox


def by_address(session: Session, address: str) -> Mailbox | None:
    return session.exec(select(Mailbox).where(Mailbox.address == address.strip().lower())).first()


@dataclass
class MailboxStats:
    mailbox: Mailbox
    tickets: int
    incoming: int
    outgoing: int


def list_with_stats(session: Session) -> list[MailboxStats]:
    """Every mailbox with its ticket and message counts."""
    tickets = dict(
        session.exec(select(Ticket.mailbox_id, func.count()).group_by(col(Ticket.mailbox_id))).all()
    )
    counts: dict[tuple[int | None, str], int] = {
        (mb, str(kind)): n
        for mb, kind, n in session.exec(
            select(Message.mailbox_id, Message.kind, func.count()).group_by(
                col(Message.mailbox_id), col(Message.kind)
            )
        )
    }
    return [
        MailboxStats(
            mailbox=m,
            tickets=int(tickets.get(m.id, 0)),
            incoming=counts.get((m.id, MessageKind.incoming.value), 0),
            outgoing=counts.get((m.id, MessageKind.outgoing.value), 0),
        )
        for m in session.exec(select(Mailbox).order_by(Mailbox.address))
    ]
