"""Bulk actions: all selected tickets change in one unit of work, audited per ticket."""

from __future__ import annotations

import factories
import pytest
from sqlmodel import select

from helpdesk import i18n
from helpdesk.models import AuditEvent, Ticket, TicketStatus
from helpdesk.services import bulk, tags
from helpdesk.services import tickets as ticket_service
from helpdesk.services.errors import NotFound, ServiceError


def _events(session, action):
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)))


def test_bulk_close_changes_every_ticket_and_audits_each(session, admin):
    made = [factories.ticket(session, subject=f"T{i}") for i in range(3)]
    ticket_service.set_status(session, ticket=made[0], status="closed", by=admin)
    result = bulk.apply(
        session, ticket_ids=[t.id for t in made], action="status", status="closed", by=admin
    )
    assert (result.selected, result.changed) == (3, 2)
    session.expire_all()
    assert {t.status for t in session.exec(select(Ticket))} == {TicketStatus.closed}
    # One status event per ticket that changed (as a single close), plus the bulk's own.
    assert len(_events(session, "ticket.status")) == 3
    [event] = _events(session, "tickets.bulk")
    assert event.details["tickets"] == [t.id for t in made]
    assert event.details["changed"] == 2
    token = i18n.current_language.set("fi")
    try:
        assert bulk.summary(result) == "2 tikettiä suljettu (1 ennallaan)"
    finally:
        i18n.current_language.reset(token)
    token = i18n.current_language.set("en")
    try:
        assert bulk.summary(result) == "2 tickets closed (1 unchanged)"
    finally:
        i18n.current_language.reset(token)


def test_an_unknown_ticket_changes_nothing(session, admin):
    ticket = factories.ticket(session)
    with pytest.raises(NotFound):
        bulk.apply(
            session, ticket_ids=[ticket.id, 999_999], action="status", status="closed", by=admin
        )
    session.expire_all()
    assert session.get(Ticket, ticket.id).status == TicketStatus.open
    assert _events(session, "tickets.bulk") == []


def test_a_failure_halfway_rolls_every_ticket_back(session, admin):
    made = [factories.ticket(session) for _ in range(2)]
    other = factories.agent(session)
    other.active = False
    session.add(other)
    session.commit()
    with pytest.raises(ServiceError):
        bulk.apply(
            session, ticket_ids=[t.id for t in made], action="assign", assignee=other, by=admin
        )
    session.expire_all()
    assert all(session.get(Ticket, t.id).assignee_id is None for t in made)


def test_assign_unassign_and_bad_input(session, admin):
    made = [factories.ticket(session) for _ in range(2)]
    ids = [t.id for t in made]
    assert (
        bulk.apply(session, ticket_ids=ids, action="assign", assignee=admin, by=admin).changed == 2
    )
    session.expire_all()
    assert {session.get(Ticket, i).assignee_id for i in ids} == {admin.id}
    assert (
        bulk.apply(session, ticket_ids=ids, action="assign", assignee=None, by=admin).changed == 2
    )
    session.expire_all()
    assert {session.get(Ticket, i).assignee_id for i in ids} == {None}
    with pytest.raises(ServiceError):
        bulk.apply(session, ticket_ids=[], action="assign", by=admin)
    with pytest.raises(ServiceError):
        bulk.apply(session, ticket_ids=ids, action="explode", by=admin)
    with pytest.raises(ServiceError):
        bulk.apply(session, ticket_ids=ids, action="status", status="gone", by=admin)
    with pytest.raises(ServiceError):
        bulk.apply(session, ticket_ids=list(range(1, bulk.MAX_BULK + 2)), action="assign", by=admin)


def test_tags_are_added_and_removed_in_bulk(session, admin):
    made = [factories.ticket(session) for _ in range(3)]
    ids = [t.id for t in made]
    added = bulk.apply(session, ticket_ids=ids[:2], action="add_tag", tag="Lasku", by=admin)
    assert (added.changed, added.tag) == (2, "Lasku")
    # The same name in another case is the same tag.
    again = bulk.apply(session, ticket_ids=ids, action="add_tag", tag=" LASKU ", by=admin)
    assert (again.changed, again.tag) == (1, "Lasku")
    assert len(tags.list_tags(session)) == 1
    by_ticket = tags.tags_by_ticket(session, ids)
    assert all([tg.name for tg in by_ticket[i]] == ["Lasku"] for i in ids)
    removed = bulk.apply(session, ticket_ids=ids[:1], action="remove_tag", tag="lasku", by=admin)
    assert removed.changed == 1
    assert tags.tags_by_ticket(session, ids)[ids[0]] == []
    assert len(_events(session, "ticket.tag")) == 3
    assert len(_events(session, "ticket.untag")) == 1
    with pytest.raises(NotFound):
        bulk.apply(session, ticket_ids=ids, action="remove_tag", tag="ei ole", by=admin)


def test_merge_the_selected_into_one_of_them(session, admin):
    made = [factories.ticket(session, subject=f"Sama asia {i}") for i in range(3)]
    target = made[1]
    result = bulk.apply(
        session, ticket_ids=[t.id for t in made], action="merge", target=target, by=admin
    )
    assert (result.selected, result.changed) == (2, 2)  # the target is no source of itself
    session.expire_all()
    merged = [session.get(Ticket, t.id) for t in made]
    assert [t.merged_into_id for t in merged] == [target.id, None, target.id]
    assert merged[1].message_count == 3
    token = i18n.current_language.set("fi")
    try:
        assert bulk.summary(result) == f"2 tikettiä yhdistetty tikettiin #{target.number}"
    finally:
        i18n.current_language.reset(token)
    with pytest.raises(ServiceError):
        bulk.apply(session, ticket_ids=[made[0].id], action="merge", by=admin)
