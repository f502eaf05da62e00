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
from helpdesk.mail.filters import run_filters
from helpdesk.mail.inbound.ingest import add_attachments
from helpdesk.mail.inbound.thread import MANAGED_TICKET_FLAGS, message_flags
from helpdesk.mail.inbound.thread import refresh_ticket_flags as _refresh_ticket_flags
from helpdesk.mail.parsing.parse import parse_mail
from helpdesk.models import Attachment, Message, Ticket

log = logging.getLogger(__name__)


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
    """Re-parse one message from its raw source and commit; False when the source is gone."""
    if not message.raw_sha256 or not store.exists(message.raw_sha256):
        return False
    raw = store.get(message.raw_sha256)
    mail = run_filters(parse_mail(raw, store=store))
    kept = set(message.flags or ()) - MANAGED_TICKET_FLAGS
    message.flags = sorted(kept | message_flags(mail))
    message.subject = mail.subject
    message.text = mail.text.replace("\x00", "")
    message.html = mail.html
    message.from_name = (mail.from_name or "")[:300] or None
    message.from_address = (mail.from_address or "")[:254] or None
    message.to_addresses = [a for _, a in mail.to if a]
    message.cc_addresses = [a for _, a in mail.cc if a]
    message.message_id = (mail.message_id or "")[:998] or None
    message.in_reply_to = (mail.in_reply_to or "")[:998] or None
    message.references = list(mail.references)
    message.sent_date = mail.date
    session.add(message)
    session.exec(delete(Attachment).where(col(Attachment.message_id) == message.id))
    add_attachments(session, message, mail, store)
    ticket = session.get(Ticket, message.ticket_id)
    if ticket is not None:
        if not ticket.subject and mail.subject:
            ticket.subject = mail.subject[:998]
        if not ticket.customer_email and mail.from_address and message.kind == "incoming":
            ticket.customer_email = mail.from_address[:254]
            ticket.customer_name = (mail.from_name or "")[:200] or None
        session.add(ticket)
        session.flush()
        _refresh_ticket_flags(session, ticket)
    session.commit()
    return True


def reprocess(session: Session, message_ids: list[int], store: BlobStore) -> ReprocessCounts:
    """Reprocess the given messages, one transaction each."""
    counts = ReprocessCounts()
    for message_id in message_ids:
        message = session.get(Message, message_id)
        if message is None:
            continue
        counts.read += 1
        try:
            done = reprocess_message(session, message, store)
        except Exception:
            session.rollback()
            raise
        if not done:
            counts.missing_source.append(message_id)
            continue
        counts.updated += 1
        counts.still_unparsed += "unparsed" in message.flags
    return counts
