"""What goes into ingest and what a mail becomes: its source, the plan, the rows.

The ticket and message rows and the counters come from ``helpdesk.services.tickets``
(``ticket_row``, ``message_row``, ``count_message``), which ``open_ticket`` and
``add_message`` use too; here is only what is particular to mail. Every value from the
mail is made storable again here (``helpdesk.limits``), whatever made the ``ParsedMail``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from helpdesk.limits import clean, storable, storable_or_none
from helpdesk.mail.inbound.prepare import Prepared
from helpdesk.mail.parsing.parsed import ParsedAttachment, ParsedMail
from helpdesk.models import InboundOutcome, Mailbox, MessageKind, TicketStatus
from helpdesk.services import ticket_clocks
from helpdesk.services import tickets as ticket_service


@dataclass(frozen=True)
class Source:
    """The folder a group of mails came from; ``uidvalidity`` is None for imported files."""

    mailbox: Mailbox
    folder: str
    uidvalidity: int | None = None

    @property
    def outgoing(self) -> bool:
        """Mail in the Sent folder was written by us (or an agent's own mail client)."""
        return bool(self.mailbox.sent_folder) and self.folder == self.mailbox.sent_folder


@dataclass(frozen=True)
class Arrival:
    """One mail to ingest: its server UID (None for a file), and when it is filed (None: now)."""

    uid: int | None
    prepared: Prepared
    received_at: datetime | None = None


@dataclass(frozen=True)
class IngestResult:
    """What ingest did with one mail."""

    outcome: InboundOutcome | None  # None: this server copy was recorded before
    message_id: int | None = None
    ticket_id: int | None = None
    new_ticket: bool = False
    threaded: bool = False
    automatic: bool = False
    reopened: bool = False

    @property
    def skipped(self) -> bool:
        return self.outcome is None


@dataclass
class Entry:
    """One mail of the group and what the plan decided for it."""

    uid: int | None
    mail: ParsedMail
    content_sha: str
    outcome: InboundOutcome | None = None
    message_ref: int | None = None
    ticket_ref: int | None = None
    new_ticket: bool = False
    threaded: bool = False
    automatic: bool = False
    reopened: bool = False
    blocked: bool = False  # from a blocked sender: the ticket goes to the Spam view
    old_status: str | None = None
    row: dict[str, Any] | None = None  # the message row this mail adds
    may_reopen: bool = False
    counts_as_activity: bool = True


@dataclass
class TicketPlan:
    """A ticket the plan touches: ``row`` is the full row of a new one, else None."""

    ref: int
    row: dict[str, Any] | None
    entries: list[Entry] = field(default_factory=list)


@dataclass
class TicketState:
    """The columns of a ticket that storing a message reads or changes."""

    status: str
    flags: list[str]
    message_count: int
    updated_at: datetime
    last_message_at: datetime
    last_incoming_at: datetime | None
    last_agent_reply_at: datetime | None
    first_incoming_at: datetime | None
    resolved_at: datetime | None
    resolution_seconds: int | None
    created_at: datetime
    snoozed_until: datetime | None
    spam: bool
    user_id: int | None
    customer_email: str | None

    @classmethod
    def of(cls, row: Mapping[Any, Any]) -> TicketState:
        """The state in a ticket row (as read, or as about to be inserted)."""
        return cls(**{name: row[name] for name in STATE})


#: The columns ``TicketState`` holds.
STATE = tuple(f.name for f in fields(TicketState))
#: The columns of an existing ticket that storing messages changes.
UPDATED = tuple(name for name in STATE if name not in ("user_id", "customer_email"))


def new_ticket_row(mail: ParsedMail, source: Source, now: datetime) -> dict[str, Any]:
    """The row of the ticket this mail opens (``number`` set after the insert)."""
    name: str | None = mail.from_name
    email: str | None = mail.from_address
    if source.outgoing:
        first = (mail.to or mail.cc or [("", "")])[0]
        name, email = first[0] or None, first[1] or None
    return ticket_service.ticket_row(
        subject=storable(mail.subject, "ticket.subject"),
        mailbox_id=source.mailbox.id,
        customer_email=storable_or_none(email, "ticket.customer_email"),
        customer_name=storable_or_none(name, "ticket.customer_name"),
        status=TicketStatus.pending if source.outgoing else TicketStatus.open,
        created_at=now,
    )


def message_fields(mail: ParsedMail) -> dict[str, Any]:
    """The ``tickets.message_row`` arguments that come from the mail itself."""
    return {
        "subject": storable(mail.subject, "message.subject"),
        "text": clean(mail.text),
        "html": clean(mail.html) if mail.html is not None else None,
        "from_name": storable_or_none(mail.from_name, "message.from_name"),
        "from_address": storable_or_none(mail.from_address, "message.from_address"),
        "to": [clean(a) for _, a in mail.to if a],
        "cc": [clean(a) for _, a in mail.cc if a],
        "message_id": storable_or_none(mail.message_id, "message.message_id"),
        "in_reply_to": storable_or_none(mail.in_reply_to, "message.in_reply_to"),
        "references": [clean(r) for r in mail.references],
        "raw_sha256": mail.raw_sha256,
        "sent_date": mail.date,
    }


def message_row(mail: ParsedMail, source: Source, flags: set[str], now: datetime) -> dict[str, Any]:
    """The row of the message this mail becomes (``ticket_id`` set when written)."""
    return ticket_service.message_row(
        **message_fields(mail),
        ticket_id=None,
        kind=MessageKind.outgoing if source.outgoing else MessageKind.incoming,
        mailbox_id=source.mailbox.id,
        flags=flags,
        created_at=now,
    )


def attachment_row(message_id: int, att: ParsedAttachment) -> dict[str, Any]:
    """The row of one of a message's attachments (its bytes are in the blob store)."""
    return {
        "message_id": message_id,
        "filename": storable(att.filename, "attachment.filename"),
        "content_type": storable(att.content_type, "attachment.content_type"),
        "size": att.size,
        "sha256": att.sha256,
        "content_id": storable_or_none(att.content_id, "attachment.content_id"),
        "inline": att.inline,
    }


def count(state: TicketState, entry: Entry) -> None:
    """The ticket's counters after this entry's message; a reply may reopen it."""
    row = entry.row
    assert row is not None
    ticket_service.count_message(
        state,
        kind=row["kind"],
        created_at=row["created_at"],
        counts_as_activity=entry.counts_as_activity,
    )
    if entry.blocked:
        state.spam = True
    if entry.may_reopen and state.status != TicketStatus.open and not state.spam:
        entry.reopened, entry.old_status = True, str(state.status)
        state.status = TicketStatus.open
        ticket_clocks.note_status(
            state, old=entry.old_status, new=state.status, at=row["created_at"]
        )
