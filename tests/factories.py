"""Factories for test data: small functions that build rows through the services."""

from __future__ import annotations

import itertools
from datetime import datetime

from dovecot_server import MailUser
from sqlmodel import Session

from helpdesk.models import (
    Agent,
    EtunnusUser,
    Mailbox,
    Message,
    MessageKind,
    Ticket,
    UserEmail,
    UserPhone,
)
from helpdesk.services import agents, mailboxes, tickets

_seq = itertools.count(1)
PASSWORD = "oikea-salasana-123"


def agent(
    session: Session, *, admin: bool = False, name: str | None = None, language: str = "fi"
) -> Agent:
    n = next(_seq)
    return agents.create_agent(
        session,
        email=f"agent{n}@e-tunnus.fi",
        name=name or f"Agentti {n}",
        password=PASSWORD,
        admin=admin,
        language=language,
    )


def mailbox(session: Session, address: str | None = None, **values: object) -> Mailbox:
    return mailboxes.add_mailbox(
        session,
        address=address or f"box{next(_seq)}@e-tunnus.fi",
        display_name=values.pop("display_name", "E-tunnus"),
        **values,
    )


def imap_mailbox(
    session: Session, user: MailUser, address: str | None = None, **values: object
) -> Mailbox:
    """A mailbox that fetches from ``user``'s account on the test Dovecot."""
    return mailbox(session, address or user.address, **user.imap_fields(), **values)


def user(
    session: Session,
    etunnus: str | None = None,
    *,
    name: str = "Matti Meikäläinen",
    emails: tuple[str, ...] = (),
    phones: tuple[str, ...] = (),
) -> EtunnusUser:
    row = EtunnusUser(etunnus=etunnus or f"{100000 + next(_seq):06d}", name=name)
    session.add(row)
    session.flush()
    for email in emails:
        session.add(UserEmail(user_id=row.id or 0, email=email.lower()))
    for phone in phones:
        session.add(UserPhone(user_id=row.id or 0, phone=phone))
    session.commit()
    return row


def ticket(
    session: Session,
    *,
    subject: str = "Kysymys laskusta",
    mailbox: Mailbox | None = None,
    customer: str = "asiakas@example.fi",
    text: str = "Hei, missä laskuni on?",
    user: EtunnusUser | None = None,
    at: datetime | None = None,
) -> Ticket:
    row = tickets.open_ticket(
        session,
        subject=subject,
        mailbox=mailbox,
        customer_email=customer,
        customer_name="Asiakas",
        user=user,
        created_at=at,
    )
    tickets.add_message(
        session,
        ticket=row,
        kind=MessageKind.incoming,
        text=text,
        from_address=customer,
        from_name="Asiakas",
        to=[mailbox.address] if mailbox else [],
        created_at=at,
        message_id=f"m{next(_seq)}@example.fi",
    )
    session.commit()
    return row


def message(
    session: Session,
    ticket: Ticket,
    *,
    text: str = "Lisätietoa",
    kind: MessageKind = MessageKind.incoming,
    html: str | None = None,
) -> Message:
    row = tickets.add_message(
        session, ticket=ticket, kind=kind, text=text, html=html, from_address=ticket.customer_email
    )
    session.commit()
    return row
