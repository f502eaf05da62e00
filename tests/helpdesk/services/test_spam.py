"""Spam marks and blocked senders, in the services."""

from __future__ import annotations

from datetime import timedelta

import factories
import pytest
from sqlmodel import select

from helpdesk.models import AuditEvent, BlockScope, utcnow
from helpdesk.services import history, inbox, snooze, spam
from helpdesk.services import tickets as ticket_service
from helpdesk.services.errors import ServiceError


def test_blocks_match_the_address_or_its_domain_in_any_case(session, admin):
    box = factories.mailbox(session)
    one = factories.ticket(session, mailbox=box, customer="Myyja@Kauppa.example")
    two = factories.ticket(session, mailbox=box, customer="info@roska.example")
    spam.block_sender(session, ticket=one, scope="address", by=admin)
    spam.block_sender(session, ticket=two, scope=BlockScope.domain, by=admin)
    assert spam.blocked_among(
        session,
        ["MYYJA@kauppa.example", "muu@kauppa.example", "kuka@ROSKA.example", None, "rikki"],
    ) == {"myyja@kauppa.example", "kuka@roska.example"}
    found = spam.block_for(session, "info@roska.example")
    assert found is not None and found.value == "roska.example"
    actions = [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions.count("sender.block") == 2 and actions.count("ticket.spam") == 2


def test_blocking_twice_keeps_one_block(session, admin):
    box = factories.mailbox(session)
    first = factories.ticket(session, mailbox=box, customer="a@x.example")
    again = factories.ticket(session, mailbox=box, customer="a@x.example")
    one = spam.block_sender(session, ticket=first, scope="address", by=admin)
    two = spam.block_sender(session, ticket=again, scope="address", by=admin)
    assert one.id == two.id and len(spam.list_blocks(session)) == 1
    session.refresh(again)
    assert again.spam


def test_refusals(session, admin):
    phone = factories.ticket(session, customer="")
    with pytest.raises(ServiceError):
        spam.block_sender(session, ticket=phone, scope="address", by=admin)
    mail = factories.ticket(session, mailbox=factories.mailbox(session))
    with pytest.raises(ServiceError) as caught:
        spam.block_sender(session, ticket=mail, scope="everything", by=admin)
    assert caught.value.field == "scope"
    assert spam.list_blocks(session) == []


def test_spam_is_not_on_the_dashboards_unanswered_list(session, admin):
    box = factories.mailbox(session)
    kept = factories.ticket(session, mailbox=box, subject="Oikea")
    junk = factories.ticket(session, mailbox=box, subject="Roska")
    spam.set_spam(session, ticket=junk, spam=True, by=admin)
    assert [t.id for t in history.today(session).unanswered] == [kept.id]


def test_counts_leave_spam_and_snoozed_out_of_every_status(session, admin):
    inbox._closed_counts.clear()
    box = factories.mailbox(session)
    tickets = [factories.ticket(session, mailbox=box, subject=f"T{i}") for i in range(5)]
    ticket_service.set_status(session, ticket=tickets[0], status="closed", by=admin)
    ticket_service.set_status(session, ticket=tickets[1], status="closed", by=admin)
    spam.set_spam(session, ticket=tickets[1], spam=True, by=admin)  # closed spam
    spam.set_spam(session, ticket=tickets[2], spam=True, by=admin)  # open spam
    snooze.snooze(session, ticket=tickets[3], until=utcnow() + timedelta(hours=1), by=admin)
    assert inbox.status_counts(session) == {"open": 1, "closed": 1, "snoozed": 1, "spam": 2}
    # Filtered, the snoozed and spam tickets the filters select are counted too.
    other = factories.mailbox(session, "info@e-tunnus.fi")
    factories.ticket(session, mailbox=other, subject="Muualla")
    mine = inbox.TicketFilter(mailbox=box.address)
    assert inbox.status_counts(session, mine) == {"open": 1, "closed": 1, "snoozed": 1, "spam": 2}
    searched = inbox.TicketFilter(q="T2")
    assert inbox.status_counts(session, searched) == {"spam": 1}
