"""Forwarding a ticket through the real outbox: aiosmtpd delivering into Dovecot."""

from __future__ import annotations

import email
import email.policy

import factories
import pytest
from outbox_helpers import wired_mailbox
from sqlmodel import select

from helpdesk.mail.outbound.outbox import flush_due
from helpdesk.models import (
    Attachment,
    AuditEvent,
    MessageKind,
    OutboundMail,
    Ticket,
)
from helpdesk.services import forwarding
from helpdesk.services import tickets as ticket_service
from helpdesk.services.errors import ServiceError
from helpdesk.services.outgoing import blob_store

pytestmark = pytest.mark.dovecot

PDF = b"%PDF-1.4 lasku 1001020007\n%%EOF\n"


def test_forward_carries_the_attachments_and_never_a_note(
    session, smtp_server, mail_user, dovecot, data_dir
):
    box, customer, outside = (
        mail_user("asiakaspalvelu"),
        mail_user("asiakas"),
        mail_user("kirjanpito"),
    )
    mailbox = wired_mailbox(session, smtp_server, box)
    agent = factories.agent(session, name="Liisa Lehtonen")
    ticket = factories.ticket(
        session, mailbox=mailbox, customer=customer.address, text="Lasku liitteenä"
    )
    [mail] = ticket_service.thread(session, ticket)
    session.add(
        Attachment(
            message_id=mail.id,
            filename="lasku.pdf",
            content_type="application/pdf",
            size=len(PDF),
            sha256=blob_store().put(PDF),
        )
    )
    session.commit()
    note = ticket_service.add_note(session, ticket=ticket, text="SALAINEN-MUISTIINPANO", by=agent)
    before = (ticket.last_agent_reply_at, ticket.status)

    with pytest.raises(ServiceError) as refused:
        forwarding.forward(
            session, ticket=ticket, agent=agent, to=outside.address, message_ids=[note.id]
        )
    assert refused.value.field == "message_ids"

    sent = forwarding.forward(
        session,
        ticket=ticket,
        agent=agent,
        to=outside.address,
        note="Voisitteko tarkistaa tämän laskun?",
        idempotency_key="forward-1",
    )
    again = forwarding.forward(
        session, ticket=ticket, agent=agent, to=outside.address, idempotency_key="forward-1"
    )
    assert again.id == sent.id
    assert sent.kind == MessageKind.forward and sent.ticket_id == ticket.id
    rows = session.exec(select(OutboundMail).where(OutboundMail.ticket_id == ticket.id)).all()
    assert len(rows) == 1

    assert flush_due(session=session, now=rows[0].send_after).sent == 1
    [raw] = dovecot.fetch_all(outside.name)
    assert b"SALAINEN" not in raw
    assert dovecot.fetch_all(customer.name) == []
    forwarded = email.message_from_bytes(raw, policy=email.policy.default)
    assert forwarded["From"].addresses[0].addr_spec == mailbox.address
    assert forwarded["Subject"] == f"Fwd: Kysymys laskusta [#{ticket.number}]"
    text = forwarded.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Voisitteko tarkistaa" in text and "Lasku liitteenä" in text
    assert forwarding.FORWARD_HEADING in text
    [part] = list(forwarded.iter_attachments())  # type: ignore[attr-defined]
    assert part.get_filename() == "lasku.pdf"
    assert part.get_content() == PDF

    session.refresh(ticket)
    assert (ticket.last_agent_reply_at, ticket.status) == before  # not an answer
    [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "ticket.forward")).all()
    assert event.details["to"] == [outside.address] and event.details["attachments"] == 1


def test_forward_refuses_a_ticket_without_mail_or_recipient(session, data_dir):
    agent = factories.agent(session)
    mailbox = factories.mailbox(session)
    ticket = factories.ticket(session, mailbox=mailbox)
    with pytest.raises(ServiceError) as no_recipient:
        forwarding.forward(session, ticket=ticket, agent=agent, to="")
    assert no_recipient.value.field == "to"
    with pytest.raises(ServiceError) as bad:
        forwarding.forward(session, ticket=ticket, agent=agent, to="ei osoite")
    assert bad.value.field == "to"
    phone = ticket_service.open_ticket(session, subject="Puhelu", mailbox=mailbox)
    session.commit()
    with pytest.raises(ServiceError, match="no mail"):
        forwarding.forward(session, ticket=session.get(Ticket, phone.id), agent=agent, to="a@b.fi")
