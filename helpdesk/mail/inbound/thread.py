"""Which ticket a mail continues, and the ticket flags that follow from its messages.

Used by the group writer (``writer``) and by ``reprocess``. Threading order:
In-Reply-To/References (and a bounce's original Message-ID) against stored Message-IDs,
ours and theirs (the group's ``BatchLookup`` answers that); then a ``[#1042]`` subject
tag, trusted only when the sender already takes part in that ticket; else a new ticket.
A ticket that was merged into another is followed to it (``services.merging``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from sqlmodel import Session, select

from helpdesk.limits import storable
from helpdesk.mail.filters.threading_keys import subject_ticket_tag, thread_candidates
from helpdesk.mail.parsing.parsed import ParsedMail
from helpdesk.models import Message, MessageKind, Ticket
from helpdesk.services import tickets as ticket_service
from helpdesk.services.merging import resolve_merged

log = logging.getLogger(__name__)

#: Flags of machine-written mail: stored and threaded, but never reopen a ticket.
AUTOMATIC = frozenset({"auto_reply", "bounce", "loop"})
#: Ticket flags this module keeps up to date; other flags on a ticket are left alone.
MANAGED_TICKET_FLAGS = AUTOMATIC | {"list", "unparsed"}


def candidates(mail: ParsedMail) -> list[str]:
    """The Message-IDs this mail may reply to, best first (cut as stored Message-IDs are)."""
    found = mail.annotations.get("thread_candidates")
    if found is None:
        found = thread_candidates(mail)
    return [storable(str(c), "message.message_id") for c in found][:100]


def ticket_tag(mail: ParsedMail) -> int | None:
    """The ``[#1042]`` number in the subject, if any."""
    tag = mail.annotations.get("ticket_tag", subject_ticket_tag(mail.subject))
    return tag if isinstance(tag, int) else None


def thread_by_tag(session: Session, mail: ParsedMail, *, outgoing: bool = False) -> Ticket | None:
    """The ticket of the subject tag when the sender (or, outgoing, a recipient) takes part."""
    tag = ticket_tag(mail)
    if tag is None:
        return None
    ticket = ticket_service.get_by_number(session, tag)
    if ticket is None:
        return None
    ticket = resolve_merged(session, ticket)  # a merged ticket's mail lives in its target
    people = ticket_service.participants(session, ticket)
    if outgoing:
        trusted = any(a in people for _, a in (*mail.to, *mail.cc))
    else:
        trusted = bool(mail.from_address) and mail.from_address in people
    if trusted:
        return ticket
    log.info("ignoring tag #%s from %s: not a participant", tag, mail.from_address)
    return None


def ticket_flags(
    current: Sequence[str] | None, rows: Iterable[tuple[str, Sequence[str] | None]]
) -> list[str]:
    """The ticket's flags given all its messages' (kind, flags): automatic-mail flags while
    it holds only automatic mail, 'unparsed' while any message is unparsed; others kept."""
    rows = list(rows)
    incoming = [set(flags or ()) for kind, flags in rows if kind == MessageKind.incoming]
    flags = set(current or ()) - MANAGED_TICKET_FLAGS
    if incoming and all(f & AUTOMATIC for f in incoming):
        for f in incoming:
            flags |= f & (AUTOMATIC | {"list"})
    if any("unparsed" in (f or ()) for _, f in rows):
        flags.add("unparsed")
    return sorted(flags)


def refresh_ticket_flags(session: Session, ticket: Ticket) -> None:
    """Bring the ticket's managed flags up to date (``ticket_flags``) from its messages."""
    rows = session.exec(
        select(Message.kind, Message.flags).where(Message.ticket_id == ticket.id)
    ).all()
    flags = ticket_flags(ticket.flags, rows)
    if flags != sorted(ticket.flags or ()):
        ticket.flags = flags
        session.add(ticket)


def message_flags(mail: ParsedMail) -> set[str]:
    """The flags a message row gets from its mail (the filters' flags, 'unparsed')."""
    flags = set(mail.flags)
    if mail.unparsed:
        flags.add("unparsed")
    return flags
