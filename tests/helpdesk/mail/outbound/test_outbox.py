"""The outbox against real servers: aiosmtpd delivering into Dovecot, Sent copies over IMAP."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta

import factories
import pytest
from outbox_helpers import wired_mailbox
from sqlmodel import Session, select

from helpdesk.mail.outbound.outbox import OUTBOX, flush_due
from helpdesk.models import DeliveryStatus, Message, MessageKind, OutboundMail, utcnow
from helpdesk.services import replies

pytestmark = pytest.mark.dovecot


def _parsed(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def _outbound(session: Session, message: Message) -> OutboundMail:
    row = session.exec(select(OutboundMail).where(OutboundMail.message_row_id == message.id)).one()
    session.refresh(row)
    return row


def test_reply_arrives_threaded_and_the_answer_comes_back(
    session, smtp_server, mail_user, dovecot, data_dir
):
    box_user, customer = mail_user("asiakaspalvelu"), mail_user("asiakas")
    mailbox = wired_mailbox(session, smtp_server, box_user, sent_folder="Sent")
    agent = factories.agent(session, name="Liisa Lehtonen")
    ticket = factories.ticket(
        session, mailbox=mailbox, customer=customer.address, subject="Laskuni ei näy"
    )
    incoming = session.exec(select(Message).where(Message.ticket_id == ticket.id)).one()

    reply = replies.reply(session, ticket=ticket, agent=agent, body="Hei,\n\nlasku on lähetetty.")
    assert reply.delivery_status == DeliveryStatus.queued
    assert ticket.status == "pending"

    summary = flush_due(session=session)
    assert (summary.sent, summary.copies, summary.errors) == (1, 1, [])

    [raw] = dovecot.fetch_all(customer.name)
    mail = _parsed(raw)
    assert mail["Subject"] == f"Re: Laskuni ei näy [#{ticket.number}]"
    assert mail["In-Reply-To"] == f"<{incoming.message_id}>"
    assert f"<{incoming.message_id}>" in mail["References"]
    assert mail["Message-ID"] == f"<{reply.message_id}>"
    assert mail["From"].addresses[0].display_name == "E-tunnus asiakaspalvelu"
    assert mail["X-Helpdesk-Loop"] and mail["Auto-Submitted"] is None
    assert mail["Precedence"] is None
    text = mail.get_body(("plain",)).get_content()
    assert "lasku on lähetetty." in text and "E-tunnus asiakaspalvelu" in text
    assert mail.get_body(("html",)) is not None

    [copy] = dovecot.fetch_all(box_user.name, "Sent")
    assert _parsed(copy)["Message-ID"] == mail["Message-ID"]
    row = _outbound(session, reply)
    assert row.status == "sent" and row.smtp_accepted_at and row.sent_copy_at

    # The customer answers the mail they got; the fetcher threads it into the same ticket
    # and knows the Sent copy as our own.
    watch = pytest.importorskip("helpdesk.mail.inbound.watch")
    answer = (
        f"From: Asiakas <{customer.address}>\r\nTo: {box_user.address}\r\n"
        f"Subject: {mail['Subject']}\r\nMessage-ID: <vastaus-{ticket.number}@example.fi>\r\n"
        f"In-Reply-To: {mail['Message-ID']}\r\nReferences: {mail['References']} "
        f"{mail['Message-ID']}\r\nDate: Thu, 26 Nov 2026 12:00:00 +0200\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nKiitos, nyt näkyy!\r\n"
    ).encode()
    dovecot.append(box_user.name, answer)
    watch.fetch_once(box_user.address)
    thread = session.exec(
        select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id)
    ).all()
    assert [m.kind for m in thread] == [MessageKind.incoming, MessageKind.outgoing, "incoming"]
    assert "Kiitos" in thread[-1].text
    outgoing = [m for m in thread if m.message_id == reply.message_id]
    assert len(outgoing) == 1  # the Sent copy did not become a second message
    session.refresh(ticket)
    assert ticket.status == "open"


def test_smtp_down_keeps_the_mail_queued_and_sends_it_later(
    session, smtp_server, mail_user, dovecot, data_dir
):
    customer = mail_user("asiakas")
    mailbox = wired_mailbox(session, smtp_server, None)
    ticket = factories.ticket(session, mailbox=mailbox, customer=customer.address)
    reply = replies.reply(session, ticket=ticket, agent=factories.agent(session), body="Hei")
    smtp_server.down()
    summary = flush_due(session=session)
    assert summary.retrying == 1
    row = _outbound(session, reply)
    assert row.status == "queued" and row.attempts == 1 and "SMTP" in (row.last_error or "")
    assert row.next_attempt_at > utcnow() + timedelta(seconds=20)
    session.refresh(reply)
    assert reply.delivery_status == "queued" and reply.delivery_error
    session.refresh(mailbox)
    assert mailbox.last_error and mailbox.last_error.startswith("SMTP")

    smtp_server.up()
    assert flush_due(session=session).claimed == 0  # not due yet: backoff
    later = utcnow() + OUTBOX.backoff(1) + timedelta(seconds=1)
    assert flush_due(session=session, now=later).sent == 1
    assert len(dovecot.fetch_all(customer.name)) == 1
    assert _outbound(session, reply).status == "sent"


def test_rejected_recipient_fails_with_the_servers_reason_and_can_be_retried(
    session, smtp_server, mail_user, dovecot, data_dir
):
    customer = mail_user("asiakas")
    mailbox = wired_mailbox(session, smtp_server, None)
    ticket = factories.ticket(session, mailbox=mailbox, customer=customer.address)
    agent = factories.agent(session)
    reply = replies.reply(session, ticket=ticket, agent=agent, body="Hei")
    smtp_server.reject_rcpt(customer.address, 550, "5.1.1 Postilaatikkoa ei ole")
    assert flush_due(session=session).failed == 1
    session.refresh(reply)
    assert reply.delivery_status == "failed"
    assert "5.1.1 Postilaatikkoa ei ole" in (reply.delivery_error or "")

    smtp_server._state.rejected.clear()
    replies.retry(session, outbound=_outbound(session, reply), agent=agent)
    assert flush_due(session=session).sent == 1
    assert len(dovecot.fetch_all(customer.name)) == 1


def test_undo_within_the_window_sends_nothing(
    session, smtp_server, mail_user, dovecot, data_dir, monkeypatch
):
    from helpdesk.settings import get_settings

    monkeypatch.setattr(get_settings(), "undo_send_seconds", 10)
    customer = mail_user("asiakas")
    mailbox = wired_mailbox(session, smtp_server, None)
    ticket = factories.ticket(session, mailbox=mailbox, customer=customer.address)
    agent = factories.agent(session)
    reply = replies.reply(session, ticket=ticket, agent=agent, body="Hups")
    assert flush_due(session=session).claimed == 0  # inside the undo window
    replies.cancel(session, outbound=_outbound(session, reply), agent=agent)
    assert flush_due(session=session, now=utcnow() + timedelta(seconds=30)).claimed == 0
    assert smtp_server.received == []
    session.refresh(reply)
    assert reply.delivery_status == "cancelled"


def test_stale_claim_is_reconciled_against_the_sent_folder(
    session, smtp_server, mail_user, dovecot, data_dir
):
    box_user, customer = mail_user("asiakaspalvelu"), mail_user("asiakas")
    mailbox = wired_mailbox(session, smtp_server, box_user)
    ticket = factories.ticket(session, mailbox=mailbox, customer=customer.address)
    agent = factories.agent(session)
    first = replies.reply(session, ticket=ticket, agent=agent, body="Ensimmäinen")
    second = replies.reply(session, ticket=ticket, agent=agent, body="Toinen", confirm=True)
    long_ago = utcnow() - timedelta(hours=1)
    for message in (first, second):
        row = _outbound(session, message)
        row.status, row.claimed_by = DeliveryStatus.sending, "dead:1:x"
        row.claimed_at, row.claimed_until = long_ago, long_ago + OUTBOX.lease
        session.add(row)
    session.commit()
    # The server filed the first one in Sent itself before the worker died (as Gmail does).
    dovecot.append(
        box_user.name,
        replies.outgoing.blob_store().get(_outbound(session, first).raw_sha256),
        "Sent",
    )

    summary = flush_due(session=session)
    assert (summary.recovered, summary.reconciled, summary.sent) == (2, 1, 2)
    delivered = [_parsed(r)["Message-ID"] for r in dovecot.fetch_all(customer.name)]
    assert delivered == [f"<{second.message_id}>"]  # the first was not sent again
    assert len(dovecot.fetch_all(box_user.name, "Sent")) == 2


def test_accepted_but_unmarked_row_is_finished_not_resent(
    session, smtp_server, mail_user, dovecot, data_dir
):
    customer = mail_user("asiakas")
    mailbox = wired_mailbox(session, smtp_server, None)
    ticket = factories.ticket(session, mailbox=mailbox, customer=customer.address)
    reply = replies.reply(session, ticket=ticket, agent=factories.agent(session), body="Hei")
    row = _outbound(session, reply)
    row.status, row.claimed_by = DeliveryStatus.sending, "dead:1:x"
    row.claimed_at = row.smtp_accepted_at = utcnow() - timedelta(hours=1)
    row.claimed_until = row.claimed_at + OUTBOX.lease
    session.add(row)
    session.commit()
    summary = flush_due(session=session)
    assert (summary.recovered, summary.claimed) == (1, 0)
    assert smtp_server.received == []
    session.refresh(reply)
    assert reply.delivery_status == "sent"


def test_plugin_mail_is_queued_once_per_key_with_a_finnish_attachment(
    session, smtp_server, mail_user, dovecot, data_dir
):
    customer, laskut = mail_user("asiakas"), mail_user("laskut")
    mailbox = wired_mailbox(session, smtp_server, laskut, display_name="E-tunnus laskut")
    pdf = b"%PDF-1.4\n% lasku\n"
    kwargs = dict(
        mailbox=mailbox,
        to=[customer.address],
        subject="Lasku 1001020007",
        text="Hei,\n\nliitteenä lasku.",
        attachments=[replies.AttachmentIn("Lasku_ä.pdf", "application/pdf", data=pdf)],
        kind="invoice",
        idempotency_key="invoice:42:email",
    )
    first = replies.queue_mail(session, **kwargs)
    again = replies.queue_mail(session, **kwargs)
    assert first.id == again.id
    assert flush_due(session=session).sent == 1
    [raw] = dovecot.fetch_all(customer.name)
    mail = _parsed(raw)
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["X-Auto-Response-Suppress"] == "All"
    [part] = list(mail.iter_attachments())
    assert part.get_filename() == "Lasku_ä.pdf" and part.get_content() == pdf
    assert b"filename*=utf-8''Lasku_%C3%A4.pdf" in raw
