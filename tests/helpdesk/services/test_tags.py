"""Tags: one tag per name in any case, admins rename and delete, the inbox filters by tag."""

from __future__ import annotations

import factories
import pytest

from helpdesk.services import inbox, tags
from helpdesk.services import tickets as ticket_service
from helpdesk.services.errors import Conflict, PermissionDenied, ServiceError


def test_names_are_unique_in_any_case_and_bounded(session, admin):
    tag = tags.create(session, name="  Verkko   lasku ", colour="#0B5CAD", by=admin)
    assert (tag.name, tag.key, tag.colour) == ("Verkko lasku", "verkko lasku", "#0b5cad")
    with pytest.raises(Conflict):
        tags.create(session, name="VERKKO LASKU", by=admin)
    with pytest.raises(ServiceError):
        tags.create(session, name="   ", by=admin)
    with pytest.raises(ServiceError):
        tags.create(session, name="x" * 41, by=admin)
    with pytest.raises(ServiceError):
        tags.create(session, name="Väri", colour="#123456", by=admin)  # not in the palette
    assert tags.find(session, "verkko LASKU").id == tag.id


def test_only_admins_rename_and_delete(session, admin):
    agent = factories.agent(session)
    tag = tags.create(session, name="Kiire", by=agent)  # any agent may make a tag
    other = tags.create(session, name="Odottaa", by=agent)
    with pytest.raises(PermissionDenied):
        tags.update(session, tag=tag, name="Kiireellinen", by=agent)
    with pytest.raises(PermissionDenied):
        tags.delete_tag(session, tag=tag, by=agent)
    with pytest.raises(Conflict):
        tags.update(session, tag=tag, name="odottaa", by=admin)
    tags.update(session, tag=tag, name="kiire", colour="#b3261e", by=admin)  # own name, new case
    assert (tag.name, tag.colour) == ("kiire", "#b3261e")
    ticket = factories.ticket(session)
    tags.tag_tickets(session, tickets=[ticket], name="kiire", by=agent)
    tags.tag_tickets(session, tickets=[ticket], name="odottaa", by=agent)
    tags.delete_tag(session, tag=tag, by=admin)
    assert [t.name for t in tags.tags_by_ticket(session, [ticket.id])[ticket.id]] == [other.name]


def test_the_inbox_filters_and_counts_by_tag(session, admin):
    tagged = [factories.ticket(session, subject=f"Lasku {i}") for i in range(3)]
    factories.ticket(session, subject="Muu asia")
    tags.tag_tickets(session, tickets=tagged, name="Lasku", by=admin)
    ticket_service.set_status(session, ticket=tagged[0], status="closed", by=admin)
    f = inbox.TicketFilter(tag="LASKU", me=admin)
    page = inbox.list_tickets(session, f)
    assert {r.ticket.id for r in page.rows} == {t.id for t in tagged}
    assert all([t.name for t in r.tags] == ["Lasku"] for r in page.rows)
    assert inbox.status_counts(session, f) == {"open": 2, "closed": 1}
    assert inbox.list_tickets(session, inbox.TicketFilter(tag="ei ole")).rows == []
    assert inbox.count_matching(session, inbox.TicketFilter(tag="lasku", status="open")) == 2
