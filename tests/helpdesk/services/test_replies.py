"""Replies, the outbox's public API, saved replies and presence (no mail servers needed)."""

from __future__ import annotations

import email
import email.policy

import factories
import pytest
from sqlmodel import select

from helpdesk.mail import compose
from helpdesk.mail.outbound.outbox import claim
from helpdesk.models import AuditEvent, Message, OutboundMail, PresenceState, utcnow
from helpdesk.services import presence, replies, saved_replies, tickets
from helpdesk.services.errors import Conflict, ServiceError
from helpdesk.settings import get_settings


@pytest.fixture
def desk(session, data_dir):
    mailbox = factories.mailbox(
        session, display_name="E-tunnus asiakaspalvelu", signature="E-tunnus asiakaspalvelu"
    )
    agent = factories.agent(session, name="Liisa Lehtonen")
    agent.signature = "Liisa"
    ticket = factories.ticket(session, mailbox=mailbox, subject="VS: Re: Lasku [#1]")
    return mailbox, agent, ticket


def _raw(row: OutboundMail) -> email.message.EmailMessage:
    data = replies.outgoing.blob_store().get(row.raw_sha256)
    return email.message_from_bytes(data, policy=email.policy.default)  # type: ignore[return-value]


def test_subjects_and_references():
    assert compose.reply_subject("VS: Re: Lasku [#1042]", 1042) == "Re: Lasku [#1042]"
    assert compose.reply_subject("Re: Re: Hei", 7) == "Re: Hei [#7]"
    assert compose.tagged_subject("Tervetuloa", 1001) == "Tervetuloa [#1001]"
    ids = [f"id{i}@x" for i in range(40)]
    capped = compose.cap_references(ids)
    assert len(capped) == compose.MAX_REFERENCES and capped[0] == "id0@x" and capped[-1] == "id39@x"
    assert "&lt;script&gt;" in compose.text_to_html("<script>")


def test_reply_is_stored_and_queued_in_one_transaction(session, desk):
    _mailbox, agent, ticket = desk
    message = replies.reply(session, ticket=ticket, agent=agent, body="Hei,\n\nkatsotaan.")
    row = session.exec(select(OutboundMail).where(OutboundMail.message_row_id == message.id)).one()
    assert (message.kind, message.delivery_status, row.status) == ("outgoing", "queued", "queued")
    assert row.message_id == message.message_id
    assert message.message_id.endswith("@" + get_settings().mail_message_id_domain)
    assert message.text.endswith("katsotaan.\n\nLiisa\n\nE-tunnus asiakaspalvelu\n")
    assert message.subject == f"Re: Lasku [#{ticket.number}]"
    assert ticket.status == "pending"
    mail = _raw(row)
    incoming = tickets.thread(session, ticket)[0]
    assert mail["In-Reply-To"] == f"<{incoming.message_id}>"
    assert row.recipients == [ticket.customer_email]
    actions = set(session.exec(select(AuditEvent.action)).all())
    assert {"ticket.reply", "ticket.status", "outbox.reply"} <= actions


def test_traffic_cop_warns_about_someone_elses_newer_note(session, desk):
    _mailbox, agent, ticket = desk
    seen = replies.latest_human_message(session, ticket)
    colleague = factories.agent(session, name="Pekka")
    tickets.add_note(session, ticket=ticket, text="Soitin jo asiakkaalle", by=colleague)
    with pytest.raises(Conflict, match="newer reply or note"):
        replies.reply(
            session, ticket=ticket, agent=agent, body="Hei", expected_last_message_id=seen.id
        )
    assert session.exec(select(OutboundMail)).all() == []
    sent = replies.reply(
        session,
        ticket=ticket,
        agent=agent,
        body="Hei",
        expected_last_message_id=seen.id,
        confirm=True,
    )
    assert sent.delivery_status == "queued"
    # The agent's own note since loading the page is no reason to warn.
    mine = tickets.add_note(session, ticket=ticket, text="muistiin", by=agent)
    replies.reply(
        session, ticket=ticket, agent=agent, body="Lisäksi", expected_last_message_id=sent.id
    )
    assert mine.id


def test_attachments_over_the_limit_are_refused_clearly(session, desk, monkeypatch):
    _mailbox, agent, ticket = desk
    monkeypatch.setattr(get_settings(), "max_attachment_bytes", 1000)
    big = replies.AttachmentIn("iso.pdf", "application/pdf", data=b"x" * 1001)
    with pytest.raises(ServiceError, match="too large"):
        replies.reply(session, ticket=ticket, agent=agent, body="Liite", attachments=[big])
    assert session.exec(select(Message).where(Message.kind == "outgoing")).all() == []


def test_same_idempotency_key_gives_the_same_message(session, desk):
    _mailbox, agent, ticket = desk
    first = replies.reply(session, ticket=ticket, agent=agent, body="Hei", idempotency_key="k1")
    again = replies.reply(session, ticket=ticket, agent=agent, body="Hei", idempotency_key="k1")
    assert first.id == again.id
    assert len(session.exec(select(OutboundMail)).all()) == 1


def _blind(monkeypatch, looks: int) -> None:
    """The first ``looks`` idempotency look-ups miss: another request queues in between."""
    real, seen = replies.outgoing.existing, []

    def existing(session, key):
        seen.append(key)
        return None if len(seen) <= looks else real(session, key)

    monkeypatch.setattr(replies.outgoing, "existing", existing)


def test_a_reply_that_loses_the_idempotency_race_answers_with_the_winners_message(
    session, desk, monkeypatch
):
    _mailbox, agent, ticket = desk
    first = replies.reply(session, ticket=ticket, agent=agent, body="Hei", idempotency_key="k2")
    _blind(monkeypatch, looks=2)  # reply's own look and queue_mail's
    again = replies.reply(session, ticket=ticket, agent=agent, body="Hei", idempotency_key="k2")
    assert again.id == first.id
    assert len(session.exec(select(OutboundMail)).all()) == 1
    replies_audited = session.exec(select(AuditEvent).where(AuditEvent.action == "ticket.reply"))
    assert len(replies_audited.all()) == 1  # the loser's unit was rolled back whole


def test_queue_mail_that_loses_the_idempotency_race_returns_the_winners_row(
    session, desk, monkeypatch
):
    mailbox, _agent, _ticket = desk
    mail = {"mailbox": mailbox, "to": ["a@example.fi"], "subject": "S", "text": "T"}
    first = replies.queue_mail(session, **mail, idempotency_key="k3")
    _blind(monkeypatch, looks=1)
    assert replies.queue_mail(session, **mail, idempotency_key="k3").id == first.id
    assert len(session.exec(select(OutboundMail)).all()) == 1


def test_cancel_only_before_the_worker_takes_the_mail(session, desk):
    _mailbox, agent, ticket = desk
    message = replies.reply(session, ticket=ticket, agent=agent, body="Hei")
    row = session.exec(select(OutboundMail)).one()
    assert claim(session, worker_id="w", now=utcnow(), limit=5).ids == [row.id]
    with pytest.raises(Conflict, match="Too late"):
        replies.cancel(session, outbound=row, agent=agent)
    session.refresh(message)
    assert message.delivery_status == "sending"


def test_start_conversation_with_an_etunnus_user(session, desk):
    mailbox, agent, _ticket = desk
    user = factories.user(session, "100102", name="Matti Virtanen", emails=("matti@example.fi",))
    ticket = replies.start_conversation(
        session, mailbox=mailbox, agent=agent, to="100102", subject="Laskusi", body="Hei Matti"
    )
    assert (ticket.user_id, ticket.customer_email) == (user.id, "matti@example.fi")
    [message] = tickets.thread(session, ticket)
    assert message.subject == f"Laskusi [#{ticket.number}]" and message.in_reply_to is None
    row = session.exec(select(OutboundMail).where(OutboundMail.ticket_id == ticket.id)).one()
    assert row.kind == "new" and _raw(row)["To"].addresses[0].display_name == "Matti Virtanen"


def test_saved_reply_variables(session, desk):
    _mailbox, agent, ticket = desk
    text = "Hei {asiakas}, tiketti {tiketti} / {ticket_number}. {tuntematon} { }\n{agentti}"
    filled = saved_replies.render(text, ticket=ticket, agent=agent)
    assert (
        filled
        == f"Hei Asiakas, tiketti #{ticket.number} / #{ticket.number}. {{tuntematon}} {{ }}\nLiisa Lehtonen"
    )
    row = saved_replies.save(session, by=agent, title="Kiitos", body="Kiitos {asiakas}!")
    with pytest.raises(Conflict):
        saved_replies.save(session, by=agent, title="Kiitos", body="toinen")
    assert [r.id for r in saved_replies.list_replies(session)] == [row.id]


def test_presence_shows_other_agents_only(session, desk):
    _mailbox, agent, ticket = desk
    other = factories.agent(session, name="Pekka")
    presence.touch(session, ticket_id=ticket.id, agent=agent, state=PresenceState.viewing)
    presence.touch(session, ticket_id=ticket.id, agent=other, state=PresenceState.composing)
    presence.touch(session, ticket_id=ticket.id, agent=other, state=PresenceState.composing)
    [seen] = presence.others(session, ticket_id=ticket.id, agent=agent)
    assert (seen.agent.name, seen.state) == ("Pekka", "composing")
    assert presence.others(session, ticket_id=ticket.id, agent=other)[0].agent.id == agent.id
