"""``helpdesk mail reprocess``: run stored raw sources through the parser and filters again.

The message is updated in place (text, HTML, headers, attachments, flags); it stays in
its ticket and is never duplicated. Used after a parser fix, above all for mail that was
stored as unparsed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import String, cast, delete
from sqlmodel import Session, col, select

from helpdesk.blobs import BlobStore
from helpdesk.db import reread, transaction
from helpdesk.limits import storable, storable_or_none
from helpdesk.mail.filters import run_filters
from helpdesk.mail.inbound.rows import attachment_row, message_fields
from helpdesk.mail.inbound.thread import MANAGED_TICKET_FLAGS, message_flags, refresh_ticket_flags
from helpdesk.mail.parsing.parse import parse_mail
from helpdesk.models import Attachment, Message, Ticket
from helpdesk.services import tickets as ticket_service

log = logging.getLogger(__name__)

#: The message's columns that follow from its raw mail (all else stays as it is).
_FROM_MAIL = (
    "flags",
    "subject",
    "text",
    "html",
    "from_name",
    "from_address",
    "to_addresses",
    "cc_addresses",
    "message_id",
    "in_reply_to",
    "references",
    "sent_date",
    "search_lemmas",
    "search_version",
)


@dataclass
class ReprocessCounts:
    read: int = 0
    updated: int = 0
    still_unparsed: int = 0
    missing_source: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "read": self.read,
            "updated": self.updated,
            "still_unparsed": self.still_unparsed,
            "missing_source": self.missing_source,
        }


def unparsed_message_ids(session: Session) -> list[int]:
    """Ids of messages flagged unparsed (the JSON list is matched as text on both backends)."""
    query = select(Message.id).where(
        col(Message.raw_sha256).is_not(None),
        cast(Message.flags, String).like('%"unparsed"%'),
    )
    return [i for i in session.exec(query.order_by(col(Message.id))) if i is not None]


def reprocess_message(session: Session, message: Message, store: BlobStore) -> bool:
    """Re-parse one message from its raw source (a unit of work); False when it is gone."""
    if not message.raw_sha256 or not store.exists(message.raw_sha256):
        return False
    raw = store.get(message.raw_sha256)
    mail = run_filters(parse_mail(raw, store=store))
    for att in mail.attachments:
        if att.data is not None:
            store.put(att.data)
    with transaction(session):
        reread(session, message)
        kept = set(message.flags or ()) - MANAGED_TICKET_FLAGS
        row = ticket_service.message_row(
            **message_fields(mail),
            ticket_id=message.ticket_id,
            kind=message.kind,
            flags=kept | message_flags(mail),
            created_at=message.created_at,
        )
        for name in _FROM_MAIL:
            setattr(message, name, row[name])
        session.add(message)
        session.exec(delete(Attachment).where(col(Attachment.message_id) == message.id))
        for att in mail.attachments:
            session.add(Attachment(**attachment_row(message.id or 0, att)))
        ticket = session.get(Ticket, message.ticket_id)
        if ticket is not None:
            if not ticket.subject and mail.subject:
                ticket.subject = storable(mail.subject, "ticket.subject")
            if not ticket.customer_email and mail.from_address and message.kind == "incoming":
                ticket.customer_email = storable(mail.from_address, "ticket.customer_email")
                ticket.customer_name = storable_or_none(mail.from_name, "ticket.customer_name")
            session.add(ticket)
            session.flush()
            refresh_ticket_flags(session, ticket)
    return True


def reprocess(session: Session, message_ids: list[int], store: BlobStore) -> ReprocessCounts:
    """Reprocess the given messages, one transaction each."""
    counts = ReprocessCounts()
    for message_id in message_ids:
        message = session.get(Message, message_id)
        if message is None:
            continue
        counts.read += 1
        done = reprocess_message(session, message, store)
        if not done:
            counts.missing_source.append(message_id)
            continue
        counts.updated += 1
        counts.still_unparsed += "unparsed" in message.flags
    return counts
