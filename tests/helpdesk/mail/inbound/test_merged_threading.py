"""Merged and split tickets against real servers: mail in through Dovecot, out through SMTP.

A customer who answers a merged ticket's mail lands in the ticket it was merged into; the
target's reply threads to the customer's last mail and carries no internal note; an answer
to a split-out message lands in the new ticket.
"""

from __future__ import annotations

import email
import email.policy

import factories
import pytest
from outbox_helpers import wired_mailbox
from sqlmodel import Session, select

from helpdesk.mail.inbound import watch
from helpdesk.mail.outbound.outbox import flush_due
from helpdesk.models import Message, MessageKind, Ticket
from helpdesk.services import merging, replies
from helpdesk.services import tickets as ticket_service

pytestmark = pytest.mark.dovecot


def _mail(customer: str, to: str, subject: str, msgid: str, text: str, **headers: str) -> bytes:
    extra = "".join(f"{k.replace('_', '-')}: {v}\r\n" for k, v in headers.items())
    return (
        f"From: Asiakas <{customer}>\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{msgid}>\r\n{extra}Date: Fri, 04 Dec 2026 12:00:00 +0200\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
    ).encode()


def _ticket_of(session: Session, msgid: str) -> Ticket:
    message = session.exec(select(Message).where(Message.message_id == msgid)).one()
    return ticket_service.get_ticket(session, message.ticket_id)


def test_answers_to_a_merged_ticket_land_in_the_target_and_notes_never_leave(
    session, smtp_server, mail_user, dovecot, data_dir
):
    box, customer = mail_user("asiakaspalvelu"), mail_user("asiakas")
    wired_mailbox(session, smtp_server, box)
    agent = factories.agent(session, name="Liisa Lehtonen")
    dovecot.append(
        box.name, _mail(customer.address, box.address, "Lasku", "eka@example.fi", "Missä lasku?")
    )
    dovecot.append(
        box.name,
        _mail(customer.address, box.address, "Lasku taas", "toka@example.fi", "Kysyn uudestaan"),
    )
    watch.fetch_once(box.address)
    target, source = _ticket_of(session, "eka@example.fi"), _ticket_of(session, "toka@example.fi")
    assert target.id != source.id
    ticket_service.add_note(session, ticket=source, text="SALAINEN-MUISTIINPANO", by=agent)

    merging.merge_tickets(session, target_id=target.id, source_ids=[source.id], agent=agent)

    # The customer answers the merged ticket's thread, and once more by its subject tag only.
    dovecot.append(
        box.name,
        _mail(
            customer.address,
            box.address,
            "Re: Lasku taas",
            "kolmas@example.fi",
            "Vieläkö?",
            In_Reply_To="<toka@example.fi>",
        ),
    )
    dovecot.append(
        box.name,
        _mail(
            customer.address,
            box.address,
            f"Lasku taas [#{source.number}]",
            "neljas@example.fi",
            "Huhuu",
        ),
    )
    watch.fetch_once(box.address)
    assert _ticket_of(session, "kolmas@example.fi").id == target.id
    assert _ticket_of(session, "neljas@example.fi").id == target.id
    session.refresh(source)
    assert source.message_count == 0

    reply = replies.reply(
        session, ticket=target, agent=agent, body="Lasku on lähetetty.", include_quote=True
    )
    assert flush_due(session=session).sent == 1
    [raw] = dovecot.fetch_all(customer.name)
    assert b"SALAINEN" not in raw
    sent = email.message_from_bytes(raw, policy=email.policy.default)
    assert sent["In-Reply-To"] == "<neljas@example.fi>"
    assert sent["Message-ID"] == f"<{reply.message_id}>"
    assert f"[#{target.number}]" in sent["Subject"]
    text = sent.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Huhuu" in text and "SALAINEN" not in text


def test_an_answer_to_a_split_message_lands_in_the_new_ticket(
    session, smtp_server, mail_user, dovecot, data_dir
):
    box, customer = mail_user("asiakaspalvelu"), mail_user("asiakas")
    wired_mailbox(session, smtp_server, box)
    agent = factories.agent(session)
    dovecot.append(
        box.name, _mail(customer.address, box.address, "Lasku", "a1@example.fi", "Eka asia")
    )
    dovecot.append(
        box.name,
        _mail(
            customer.address,
            box.address,
            "Re: Lasku",
            "a2@example.fi",
            "Toinen asia: osoite muuttui",
            In_Reply_To="<a1@example.fi>",
        ),
    )
    watch.fetch_once(box.address)
    old = _ticket_of(session, "a1@example.fi")
    assert _ticket_of(session, "a2@example.fi").id == old.id
    second = session.exec(select(Message).where(Message.message_id == "a2@example.fi")).one()

    new = merging.split_message(session, message_id=second.id, agent=agent)

    dovecot.append(
        box.name,
        _mail(
            customer.address,
            box.address,
            "Re: Lasku",
            "a3@example.fi",
            "Uusi osoite on Katu 1",
            In_Reply_To="<a2@example.fi>",
            References="<a1@example.fi> <a2@example.fi>",
        ),
    )
    watch.fetch_once(box.address)
    assert _ticket_of(session, "a3@example.fi").id == new.id
    kinds = [m.kind for m in ticket_service.thread(session, new)]
    assert kinds == [MessageKind.incoming, MessageKind.incoming]
