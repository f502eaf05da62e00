"""Notifications by mail: opt-in, through the outbox to the real SMTP server, exactly once."""

from __future__ import annotations

import email
import email.policy

import factories
import pytest
from outbox_helpers import wired_mailbox
from sqlmodel import Session, select

from helpdesk.mail.outbound.outbox import flush_due
from helpdesk.models import NotifyEmail, OutboundMail
from helpdesk.services import agents as agent_service
from helpdesk.services import notification_mail, notifications, tickets

pytestmark = pytest.mark.dovecot


def test_a_mention_is_mailed_once_to_who_asked_and_says_nothing_of_the_note(
    session: Session, smtp_server, mail_user, data_dir
):
    inbox = mail_user("agentti")
    mailbox = wired_mailbox(session, smtp_server, None)
    writer = factories.agent(session, name="Anna Kirjoittaja")
    wants = factories.agent(session, name="Bertta Sähköposti", language="en")
    quiet = factories.agent(session, name="Cecilia Hiljainen")
    smtp_server.route(wants.email, inbox.name)
    notifications.set_email_preference(session, agent=wants, value=NotifyEmail.immediately)
    ticket = factories.ticket(session, mailbox=mailbox, subject="Lasku 1001020007")
    secret = "Asiakkaan henkilötunnus 010101-123A"
    tickets.add_note(
        session,
        ticket=ticket,
        text=f"@{wants.email} ja @{quiet.email}: {secret}",
        by=writer,
    )

    assert notification_mail.mail_due(session) == 1
    assert notification_mail.mail_due(session) == 0  # the mark is gone: nothing twice
    [outbound] = session.exec(select(OutboundMail)).all()
    assert outbound.idempotency_key.startswith("notification:")
    assert outbound.ticket_id is None  # not a message in the customer's thread

    summary = flush_due(session=session)
    assert (summary.sent, summary.errors) == (1, [])
    [received] = smtp_server.received
    assert received.rcpt_tos == (wants.email,)
    mail = email.message_from_bytes(received.data, policy=email.policy.default)
    assert mail["Subject"] == f"Anna Kirjoittaja mentioned you in #{ticket.number}"
    assert mail["From"].addresses[0].addr_spec == mailbox.address
    assert mail["Auto-Submitted"] == "auto-generated"
    body = mail.get_body(("plain",)).get_content()
    assert f"/tickets/{ticket.id}#m" in body and "Lasku 1001020007" in body
    assert secret not in body and "010101" not in received.data.decode("utf-8", "replace")


def test_no_mail_after_switching_off_or_deactivation(session: Session, smtp_server, data_dir):
    mailbox = wired_mailbox(session, smtp_server, None)
    writer = factories.agent(session)
    switched, gone = factories.agent(session), factories.agent(session)
    ticket = factories.ticket(session, mailbox=mailbox)
    for agent in (switched, gone):
        notifications.set_email_preference(session, agent=agent, value=NotifyEmail.immediately)
        notifications.follow(session, ticket=ticket, agent=agent)
    tickets.add_note(session, ticket=ticket, text="muistiinpano", by=writer)
    notifications.set_email_preference(session, agent=switched, value=NotifyEmail.off)
    agent_service.deactivate(session, agent=gone, by=writer)

    assert notification_mail.mail_due(session) == 0
    assert session.exec(select(OutboundMail)).all() == []
    assert notification_mail.mail_due(session) == 0
