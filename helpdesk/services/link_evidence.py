"""What in a ticket's messages points to an E-tunnus user (or a plugin's object); reads only.

Numbers in the subject and text (``helpdesk.numbers``: e-tunnus, invoice and reference
numbers), the plugins' finds (``helpdesk_link_text``) and the sender's address. What is
done with the evidence (link, suggest, keep an agent's choice) is ``linking``'s.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session

from helpdesk.hookspecs import FoundLink
from helpdesk.models import EtunnusUser, Message, MessageKind, Ticket
from helpdesk.numbers import find_numbers
from helpdesk.plugins import collect, hook
from helpdesk.services import people as people_service

#: The link kind of an E-tunnus user (plugins have their own kinds).
USER = "user"


@dataclass
class Evidence:
    """Why a user is thought to be behind a ticket: ``how`` email/etunnus/invoice/reference
    or a plugin's kind, and the text as found."""

    etunnus: str
    how: str
    text: str


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

    @classmethod
    def of(cls, ticket: Ticket, message: Message) -> NewMessage:
        return cls(
            ticket_id=ticket.id or 0,
            kind=str(message.kind),
            subject=message.subject,
            text=message.text,
            from_address=message.from_address,
            customer_email=ticket.customer_email,
            ticket_user_id=ticket.user_id,
        )

    @property
    def address(self) -> str | None:
        """Whose mail it is: an incoming mail's sender, else the ticket's customer."""
        if self.kind == MessageKind.incoming and self.from_address:
            return self.from_address.lower()
        return self.customer_email.lower() if self.customer_email else None


def text_evidence(
    session: Session, subject: str, body: str
) -> tuple[list[Evidence], list[FoundLink]]:
    """Evidence (numbers, plugin finds) in one message's subject and text (reads only)."""
    text = f"{subject}\n{body}"
    evidence = [Evidence(n.etunnus, n.kind, n.text) for n in find_numbers(text)]
    plugin_links: list[FoundLink] = []
    for found in collect(hook().helpdesk_link_text(session=session, text=text)):
        if found.kind == USER:
            evidence.append(Evidence(found.target, USER, found.found_text))
            continue
        plugin_links.append(found)
        if found.etunnus:
            evidence.append(Evidence(found.etunnus, found.kind, found.found_text))
    return evidence, plugin_links


def gather(
    session: Session, ticket: Ticket, messages: Iterable[Message]
) -> tuple[list[Evidence], list[FoundLink]]:
    """Evidence for users, and the plugins' other finds, in the messages (reads only)."""
    evidence: list[Evidence] = []
    plugin_links: list[FoundLink] = []
    addresses: list[str] = []
    for message in messages:
        if message.kind == MessageKind.incoming and message.from_address:
            addresses.append(message.from_address)
        found_evidence, found_links = text_evidence(session, message.subject, message.text)
        evidence += found_evidence
        plugin_links += found_links
    if ticket.customer_email and not addresses:
        addresses.append(ticket.customer_email)
    wanted = list(dict.fromkeys(a.lower() for a in addresses))
    users = people_service.find_by_emails(session, wanted)
    for address in wanted:
        evidence += [Evidence(u.etunnus, "email", address) for u in users.get(address.strip(), [])]
    return evidence, plugin_links


def message_evidence(
    session: Session, message: NewMessage, users: dict[str, list[EtunnusUser]]
) -> tuple[list[Evidence], list[FoundLink]]:
    """``gather`` for one new message; ``users`` are the users of its address, looked up."""
    evidence, plugin_links = text_evidence(session, message.subject, message.text)
    address = message.address
    if address:
        evidence += [Evidence(u.etunnus, "email", address) for u in users.get(address.strip(), [])]
    return evidence, plugin_links
