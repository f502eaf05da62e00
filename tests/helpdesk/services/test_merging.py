"""Merging tickets and splitting a message out: what moves, what is refused, what is audited."""

from __future__ import annotations

import threading
from datetime import timedelta

import factories
import pytest
from sqlmodel import select

from helpdesk.db import new_session
from helpdesk.models import (
    Agent,
    Attachment,
    AuditEvent,
    Call,
    Message,
    MessageKind,
    Ticket,
    TicketLink,
    TicketStatus,
    utcnow,
)
from helpdesk.services import calls, merging, replies
from helpdesk.services import tickets as ticket_service
from helpdesk.services.errors import NotFound, ServiceError


def _audit(session, action, ticket):
    return session.exec(
        select(AuditEvent).where(
            AuditEvent.action == action, AuditEvent.object_id == str(ticket.id)
        )
    ).all()


def _link(session, ticket, kind, target, state="linked"):
    session.add(TicketLink(ticket_id=ticket.id, kind=kind, target=target, state=state))
    session.commit()


def test_merge_moves_messages_notes_calls_and_links_and_points_to_the_target(session):
    agent = factories.agent(session)
    start = utcnow() - timedelta(hours=3)
    target = factories.ticket(session, subject="Lasku", at=start)
    source = factories.ticket(session, subject="Lasku uudestaan", at=start + timedelta(hours=1))
    mail = session.exec(select(Message).where(Message.ticket_id == source.id)).one()
    session.add(Attachment(message_id=mail.id, filename="lasku.pdf", sha256="a" * 64, size=3))
    session.commit()
    note = ticket_service.add_note(session, ticket=source, text="Sisäinen: tarkista", by=agent)
    call = calls.log_call(session, by=agent, ticket=source, topic="Soitti laskusta")
    _link(session, source, "invoice", "100102001")
    _link(session, source, "user", "100102", state="suggested")
    _link(session, target, "user", "100102")

    merged = merging.merge_tickets(
        session, target_id=target.id, source_ids=[source.id], agent=agent
    )

    assert merged.id == target.id
    thread = ticket_service.thread(session, target)
    assert {m.id for m in thread} >= {mail.id, note.id}
    assert len(thread) == 4  # both mails, the note, the call
    assert session.get(Call, call.id).ticket_id == target.id
    assert session.exec(select(Attachment).where(Attachment.message_id == mail.id)).one()
    links = session.exec(select(TicketLink).where(TicketLink.ticket_id == target.id)).all()
    assert sorted((link.kind, link.target, link.state) for link in links) == [
        ("invoice", "100102001", "linked"),
        ("user", "100102", "linked"),
    ]
    session.refresh(source)
    assert source.merged_into_id == target.id
    assert source.status == TicketStatus.closed
    assert source.message_count == 0
    session.refresh(target)
    assert target.message_count == 4
    assert target.last_incoming_at == mail.created_at
    [event] = _audit(session, "ticket.merge", target)
    assert event.details["source_numbers"] == [source.number]
    assert set(event.details["message_ids"]) == {mail.id, note.id, call.message_id}
    [event] = _audit(session, "ticket.merged", source)
    assert event.details["into_number"] == target.number


def test_merge_refuses_what_cannot_be_merged(session):
    agent = factories.agent(session)
    a, b, c = (factories.ticket(session) for _ in range(3))
    with pytest.raises(ServiceError) as itself:
        merging.merge_tickets(session, target_id=a.id, source_ids=[a.id], agent=agent)
    assert itself.value.field == "target"
    with pytest.raises(ServiceError) as empty:
        merging.merge_tickets(session, target_id=a.id, source_ids=[], agent=agent)
    assert empty.value.field == "source_ids"
    with pytest.raises(NotFound):
        merging.merge_tickets(session, target_id=10**9, source_ids=[a.id], agent=agent)
    with pytest.raises(NotFound):
        merging.merge_tickets(session, target_id=a.id, source_ids=[10**9], agent=agent)

    merging.merge_tickets(session, target_id=a.id, source_ids=[b.id], agent=agent)
    with pytest.raises(ServiceError, match="merged into") as into_merged:
        merging.merge_tickets(session, target_id=b.id, source_ids=[c.id], agent=agent)
    assert into_merged.value.params["target"] == a.number
    with pytest.raises(ServiceError, match="merged already"):
        merging.merge_tickets(session, target_id=c.id, source_ids=[b.id], agent=agent)
    # Nothing of the refused merges was written.
    assert session.get(Ticket, c.id).merged_into_id is None
    assert session.get(Ticket, c.id).message_count == 1


def test_merging_a_target_again_repoints_what_was_merged_into_it(session):
    agent = factories.agent(session)
    a, b, c = (factories.ticket(session) for _ in range(3))
    merging.merge_tickets(session, target_id=b.id, source_ids=[a.id], agent=agent)
    merging.merge_tickets(session, target_id=c.id, source_ids=[b.id], agent=agent)
    session.refresh(a)
    assert a.merged_into_id == c.id
    assert merging.resolve_merged(session, a).id == c.id
    assert session.get(Ticket, c.id).message_count == 3


def test_split_takes_one_mail_with_its_attachments_into_a_new_ticket(session):
    agent = factories.agent(session)
    mailbox = factories.mailbox(session)
    ticket = factories.ticket(session, mailbox=mailbox, subject="Kaksi asiaa")
    other = ticket_service.add_message(
        session,
        ticket=ticket,
        kind=MessageKind.incoming,
        text="Ja toinen asia: osoitteenmuutos",
        subject="Osoitteenmuutos",
        from_address="toinen@example.fi",
        from_name="Toinen",
        message_id="toinen@example.fi",
    )
    session.add(Attachment(message_id=other.id, filename="liite.txt", sha256="b" * 64))
    session.commit()

    new = merging.split_message(session, message_id=other.id, agent=agent)

    assert new.id != ticket.id
    assert new.subject == "Osoitteenmuutos"
    assert new.customer_email == "toinen@example.fi"
    assert new.mailbox_id == mailbox.id
    assert [m.id for m in ticket_service.thread(session, new)] == [other.id]
    assert session.exec(select(Attachment).where(Attachment.message_id == other.id)).one()
    session.refresh(ticket)
    assert ticket.message_count == 1 and new.message_count == 1
    [split] = _audit(session, "ticket.split", ticket)
    assert split.details["new_number"] == new.number
    [split_from] = _audit(session, "ticket.split_from", new)
    assert split_from.details["from_number"] == ticket.number

    with pytest.raises(ServiceError, match="only this message"):
        merging.split_message(session, message_id=other.id, agent=agent)
    note = ticket_service.add_note(session, ticket=ticket, text="muistiinpano", by=agent)
    with pytest.raises(ServiceError, match="Only mail"):
        merging.split_message(session, message_id=note.id, agent=agent)
    with pytest.raises(NotFound):
        merging.split_message(session, message_id=10**9, agent=agent)


def test_two_merges_of_the_same_tickets_in_opposite_directions_never_both_win(
    committed_url: str,
) -> None:
    # Ticket A into B and B into A at the same moment would leave two tickets pointing at
    # each other with the thread in neither; the merge locks both in one order, so the
    # second waits, then sees the first's result and refuses.
    with new_session() as db:
        agent_id = factories.agent(db).id
        a, b = factories.ticket(db), factories.ticket(db)
        a_id, b_id = a.id, b.id
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def merge(target_id: int, source_id: int) -> None:
        with new_session() as db:
            agent = db.get(Agent, agent_id)
            start.wait(timeout=30)
            try:
                merging.merge_tickets(db, target_id=target_id, source_ids=[source_id], agent=agent)
                outcomes.append("merged")
            except ServiceError:
                outcomes.append("refused")

    threads = [
        threading.Thread(target=merge, args=(b_id, a_id)),
        threading.Thread(target=merge, args=(a_id, b_id)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["merged", "refused"]
    with new_session() as db:
        pointers = {t.id: t.merged_into_id for t in db.exec(select(Ticket))}
        assert pointers in ({a_id: b_id, b_id: None}, {a_id: None, b_id: a_id})
        assert sum(t.message_count for t in db.exec(select(Ticket))) == 2


def test_a_merged_ticket_takes_no_reply(session, data_dir):
    agent = factories.agent(session)
    mailbox = factories.mailbox(session)
    target, source = (factories.ticket(session, mailbox=mailbox) for _ in range(2))
    merging.merge_tickets(session, target_id=target.id, source_ids=[source.id], agent=agent)
    with pytest.raises(ServiceError, match="merged") as refused:
        replies.reply(session, ticket=session.get(Ticket, source.id), agent=agent, body="Hei")
    assert refused.value.field == "body"
    assert session.get(Ticket, source.id).message_count == 0
