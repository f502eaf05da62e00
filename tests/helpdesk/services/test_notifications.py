"""Notifications: who hears of what in a ticket, @mentions, reading them, notify_admins."""

from __future__ import annotations

import factories
import mailgen
import pytest
from sqlmodel import Session, select

from helpdesk.blobs import BlobStore
from helpdesk.mail.inbound.ingest import import_raw
from helpdesk.mail.inbound.rows import Source
from helpdesk.models import Mention, Message, Notification, NotifyEmail, TicketFollower
from helpdesk.services import agents as agent_service
from helpdesk.services import mentions, notifications, replies, tickets
from helpdesk.services.errors import NotFound
from helpdesk.settings import get_settings


def _kinds(session: Session, agent) -> list[str]:
    rows = session.exec(
        select(Notification).where(Notification.agent_id == agent.id).order_by(Notification.id)
    )
    return [str(n.kind) for n in rows]


def test_a_mention_is_stored_as_the_agent_notified_and_makes_them_follow(session: Session):
    writer = factories.agent(session, name="Anna Kirjoittaja")
    named = factories.agent(session, name="Bertta Mainittu")
    assignee = factories.agent(session, name="Cecilia Vastuu")
    ticket = factories.ticket(session)
    tickets.assign(session, ticket=ticket, assignee=assignee, by=writer)
    handle = named.email.split("@")[0]

    note = tickets.add_note(
        session, ticket=ticket, text=f"@{handle}, katso tämä. @ei-ketaan ja @{handle}.", by=writer
    )

    [mention] = session.exec(select(Mention).where(Mention.message_id == note.id)).all()
    assert (mention.agent_id, mention.handle) == (named.id, handle)
    assert _kinds(session, named) == ["mention"]  # once, though named twice
    assert _kinds(session, assignee) == ["assigned", "note"]
    assert _kinds(session, writer) == []  # never of one's own actions
    assert notifications.is_following(session, ticket_id=ticket.id, agent=named)
    shown = mentions.highlighted(note.text, {handle: named})
    assert '<mark class="mention"' in shown and "@Bertta Mainittu</mark>" in shown
    assert "@ei-ketaan" in shown


def test_mentioning_by_full_address_or_an_ambiguous_short_handle(session: Session):
    writer = factories.agent(session)
    named = factories.agent(session)
    resolved = mentions.resolve(session, f"Hei @{named.email}! Ja @{writer.email.upper()}")
    assert {h: a.id for h, a in resolved.items()} == {
        named.email: named.id,
        writer.email: writer.id,
    }
    assert mentions.resolve(session, "sähköposti matti@example.fi ei ole maininta") == {}


def test_followers_hear_of_replies_status_and_assignment_but_not_their_own(
    session: Session, data_dir
):
    mailbox = factories.mailbox(session)
    one, two = factories.agent(session), factories.agent(session)
    ticket = factories.ticket(session, mailbox=mailbox)
    notifications.follow(session, ticket=ticket, agent=one)
    notifications.follow(session, ticket=ticket, agent=one)  # twice is once
    notifications.follow(session, ticket=ticket, agent=two)
    assert len(session.exec(select(TicketFollower)).all()) == 2

    replies.reply(session, ticket=ticket, agent=one, body="Hei, katsomme asiaa.")
    tickets.set_status(session, ticket=ticket, status="closed", by=two)
    notifications.unfollow(session, ticket=ticket, agent=two)
    tickets.set_status(session, ticket=ticket, status="open", by=one)

    assert _kinds(session, one) == ["status"]
    assert _kinds(session, two) == ["reply"]
    [status] = notifications.list_for(session, one)
    assert status.text == f"{two.name} vaihtoi tiketin #{ticket.number} tilaksi: Suljettu"


def test_new_customer_mail_notifies_followers_and_assignee_once(session: Session, data_dir):
    box = factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
    source = Source(mailbox=box, folder="INBOX", uidvalidity=7)
    store = BlobStore(get_settings().blob_dir)
    first = mailgen.mail(subject="Lasku ei näy", msgid="eka@asiakas.example.fi")
    result = import_raw(session, first, source=source, store=store, uid=1)
    message = session.get(Message, result.message_id)
    ticket = tickets.get_ticket(session, message.ticket_id)
    follower, assignee = factories.agent(session), factories.agent(session)
    gone = factories.agent(session)
    for agent in (follower, assignee, gone):  # the assignee follows too: told once
        notifications.follow(session, ticket=ticket, agent=agent)
    agent_service.deactivate(session, agent=gone)
    notifications.set_email_preference(session, agent=follower, value=NotifyEmail.immediately)
    tickets.assign(session, ticket=ticket, assignee=assignee, by=follower)
    notifications.mark_read(session, agent=assignee)

    answer = mailgen.mail(subject="Re: Lasku ei näy", in_reply_to="eka@asiakas.example.fi")
    later = import_raw(session, answer, source=source, store=store, uid=2)
    session.commit()

    for agent in (follower, assignee):
        [row] = notifications.list_for(session, agent, unread_only=True)
        assert row.notification.kind == "incoming"
        assert row.notification.message_id == later.message_id
        assert row.url == f"/tickets/{ticket.id}#m{later.message_id}"
        assert row.notification.mail_due is (agent is follower)
    assert notifications.list_for(session, gone) == []


def test_reading_counts_and_marks_only_ones_own(session: Session):
    writer, reader, other = (factories.agent(session) for _ in range(3))
    ticket = factories.ticket(session)
    for who in (reader, other):
        notifications.follow(session, ticket=ticket, agent=who)
    for n in range(3):
        tickets.add_note(session, ticket=ticket, text=f"muistiinpano {n}", by=writer)
    assert notifications.unread_count(session, reader) == 3

    newest, *_ = notifications.list_for(session, reader)
    opened = notifications.open_one(session, agent=reader, notification_id=newest.notification.id)
    assert opened.notification.read_at is not None
    assert notifications.unread_count(session, reader) == 2
    theirs = notifications.list_for(session, other)[0].notification.id
    with pytest.raises(NotFound):
        notifications.open_one(session, agent=reader, notification_id=theirs)
    assert notifications.mark_read(session, agent=reader, ids=[theirs]) == 0
    assert notifications.mark_read(session, agent=reader) == 2
    assert notifications.unread_count(session, reader) == 0
    assert notifications.unread_count(session, other) == 3


def test_notify_admins_tells_each_active_admin(session: Session):
    admin = factories.agent(session, admin=True, language="en")
    gone = factories.agent(session, admin=True)
    agent = factories.agent(session)
    agent_service.deactivate(session, agent=gone, by=admin)
    told = notifications.notify_admins(
        session,
        message="The mailbox %(address)s needs to be connected again",
        params={"address": "info@e-tunnus.fi"},
    )
    assert told == 1
    [row] = notifications.list_for(session, admin)
    assert row.notification.kind == "admin"
    assert "info@e-tunnus.fi" in row.text and row.url == "/notifications"
    assert notifications.list_for(session, agent) == []
