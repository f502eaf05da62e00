"""The rows the group writer (``batch``) inserts, built as the ORM services would build them.

``new_ticket_row`` mirrors ``tickets.open_ticket``, ``message_row`` and ``count`` mirror
``tickets.add_message``; tests compare the rows of both paths column by column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from helpdesk.mail.inbound.ingest import Source
from helpdesk.mail.parsing.parsed import ParsedMail
from helpdesk.models import InboundOutcome, MessageKind, TicketStatus, utcnow


@dataclass
class Entry:
    """One mail of the group and what the plan decided for it."""

    uid: int
    mail: ParsedMail
    content_sha: str
    outcome: InboundOutcome | None = None
    message_ref: int | None = None
    ticket_ref: int | None = None
    new_ticket: bool = False
    threaded: bool = False
    automatic: bool = False
    reopened: bool = False
    old_status: str | None = None
    row: dict[str, Any] | None = None  # the message row this mail adds
    may_reopen: bool = False
    counts_as_activity: bool = True


@dataclass
class TicketPlan:
    """A ticket the segment touches: ``row`` is the full row of a new one, else None."""

    ref: int
    row: dict[str, Any] | None
    entries: list[Entry] = field(default_factory=list)


def new_ticket_row(mail: ParsedMail, source: Source, now: datetime) -> dict[str, Any]:
    """The row ``tickets.open_ticket`` makes for this mail (number set after the insert)."""
    name: str | None = mail.from_name
    email: str | None = mail.from_address
    if source.outgoing:
        first = (mail.to or mail.cc or [("", "")])[0]
        name, email = first[0] or None, first[1] or None
    return {
        "number": None,
        "subject": mail.subject.strip()[:998],
        "status": str(TicketStatus.pending if source.outgoing else TicketStatus.open),
        "channel": "email",
        "customer_email": email.lower() if email else None,
        "customer_name": (name or "")[:200] or None,
        "mailbox_id": source.mailbox.id,
        "user_id": None,
        "assignee_id": None,
        "message_count": 0,
        "flags": [],
        "created_at": now,
        "updated_at": now,
        "last_message_at": now,
        "last_incoming_at": None,
        "last_agent_reply_at": None,
    }


def message_row(mail: ParsedMail, source: Source, flags: set[str], now: datetime) -> dict[str, Any]:
    """The row ``tickets.add_message`` makes for this mail (ticket_id set when written)."""
    from_address = (mail.from_address or "")[:254] or None
    return {
        "ticket_id": None,
        "kind": str(MessageKind.outgoing if source.outgoing else MessageKind.incoming),
        "subject": mail.subject,
        "text": mail.text.replace("\x00", ""),
        "html": mail.html,
        "author_id": None,
        "from_name": (mail.from_name or "")[:300] or None,
        "from_address": from_address.lower() if from_address else None,
        "to_addresses": [a for _, a in mail.to if a],
        "cc_addresses": [a for _, a in mail.cc if a],
        "bcc_addresses": [],
        "message_id": (mail.message_id or "")[:998] or None,
        "in_reply_to": (mail.in_reply_to or "")[:998] or None,
        "references": list(mail.references),
        "raw_sha256": mail.raw_sha256,
        "mailbox_id": source.mailbox.id,
        "flags": sorted(flags),
        "sent_date": mail.date,
        "created_at": now,
        "delivery_status": None,
        "delivery_error": None,
    }


def count(state: dict[str, Any], entry: Entry) -> None:
    # ``tickets.add_message``'s counter updates, one message at a time.
    row = entry.row
    assert row is not None
    now, kind = row["created_at"], row["kind"]
    state["message_count"] += 1
    state["updated_at"] = utcnow()
    if entry.counts_as_activity and now >= state["last_message_at"]:
        state["last_message_at"] = now
    if kind == MessageKind.incoming and entry.counts_as_activity:
        state["last_incoming_at"] = max(now, state["last_incoming_at"] or now)
    if kind == MessageKind.outgoing:
        state["last_agent_reply_at"] = now
    if entry.may_reopen and state["status"] != TicketStatus.open:
        entry.reopened, entry.old_status = True, str(state["status"])
        state["status"] = str(TicketStatus.open)
