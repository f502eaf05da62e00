"""``linking.link_ticket`` for many just-stored messages at once (mail-in's group writer).

The common case, a mail that mentions no known address, number or plugin object, costs
no query here beyond one address lookup for the whole group. Messages with evidence go
through ``linking.apply`` one by one, in order, exactly as ``link_ticket`` would.
Linking only annotates: a failure is logged and never blocks the mailbox, and it rolls
back only that message's linking (the whole pass runs in one savepoint; when it fails
the pass is repeated with a savepoint per message).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from helpdesk.models import EtunnusUser, MessageKind, Ticket, UserEmail
from helpdesk.services.linking import Evidence, apply, text_evidence

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewMessage:
    """What linking reads of a message just stored, and of its ticket as it was stored."""

    ticket_id: int
    kind: str
    subject: str
    text: str
    from_address: str | None
    customer_email: str | None
    ticket_user_id: int | None


def users_by_email(session: Session, addresses: Iterable[str]) -> dict[str, list[EtunnusUser]]:
    """``people.find_by_email`` for many addresses in one query: address -> users."""
    wanted = sorted({a.strip().lower() for a in addresses if a and a.strip()})
    found: dict[str, list[EtunnusUser]] = {}
    if not wanted:
        return found
    rows = session.exec(
        select(UserEmail.email, EtunnusUser)
        .join(EtunnusUser, col(UserEmail.user_id) == col(EtunnusUser.id))
        .where(col(UserEmail.email).in_(wanted))
        .order_by(col(EtunnusUser.etunnus))
    )
    for email, user in rows:
        users = found.setdefault(email, [])
        if user not in users:
            users.append(user)
    return found


def _address(message: NewMessage) -> str | None:
    if message.kind == MessageKind.incoming and message.from_address:
        return message.from_address.lower()
    return message.customer_email.lower() if message.customer_email else None


def _link_one(
    session: Session,
    message: NewMessage,
    users: dict[str, list[EtunnusUser]],
    tickets: dict[int, Ticket],
) -> None:
    evidence, plugin_links = text_evidence(session, message.subject, message.text)
    address = _address(message)
    if address:
        matches = users.get(address.strip(), [])
        evidence += [Evidence(u.etunnus, "email", address) for u in matches]
    ticket = tickets.get(message.ticket_id)
    user_id = ticket.user_id if ticket is not None else message.ticket_user_id
    if not evidence and not plugin_links and user_id is None:
        return  # ``apply`` would change nothing
    if ticket is None:
        ticket = session.get(Ticket, message.ticket_id)
        assert ticket is not None
        tickets[message.ticket_id] = ticket
    apply(session, ticket, evidence, plugin_links)


def link_new_messages(session: Session, messages: Sequence[NewMessage]) -> None:
    """Link each message's ticket from that message, in order (flushes only)."""
    if not messages:
        return
    users = users_by_email(session, filter(None, map(_address, messages)))
    tickets: dict[int, Ticket] = {}
    try:
        with session.begin_nested():
            for message in messages:
                _link_one(session, message, users, tickets)
        return
    except Exception:
        log.info("linking a group failed; linking its messages one by one", exc_info=True)
    tickets.clear()
    for message in messages:
        try:
            with session.begin_nested():
                _link_one(session, message, users, tickets)
        except Exception:  # linking only annotates; it must never block the mailbox
            log.exception("linking ticket %s failed", message.ticket_id)
            tickets.pop(message.ticket_id, None)
