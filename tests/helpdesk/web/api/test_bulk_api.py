"""The JSON API of bulk actions, tags and saved views."""

from __future__ import annotations

import factories
import pytest
from sqlmodel import select

from helpdesk.models import AuditEvent, Ticket, TicketStatus
from helpdesk.services import agents as agent_service


@pytest.fixture
def api(session, client, admin):
    token = agent_service.create_token(session, agent=admin, name="tests")
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def _api_as(session, client, agent):
    token = agent_service.create_token(session, agent=agent, name="tests")
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def test_bulk_status_assign_and_tags(session, api, admin):
    made = [factories.ticket(session) for _ in range(3)]
    ids = [t.id for t in made]
    closed = api.post(
        "/api/v1/tickets/bulk", json={"ids": ids, "action": "status", "status": "closed"}
    )
    assert closed.status_code == 200, closed.text
    assert closed.json() == {
        "action": "status",
        "selected": 3,
        "changed": 3,
        "summary": "3 tikettiä suljettu",
    }
    assigned = api.post(
        "/api/v1/tickets/bulk", json={"ids": ids[:1], "action": "assign", "assignee": admin.email}
    )
    assert assigned.json()["changed"] == 1
    tagged = api.post(
        "/api/v1/tickets/bulk", json={"ids": ids[:2], "action": "add_tag", "tag": "Lasku"}
    )
    assert tagged.json()["changed"] == 2
    listed = api.get("/api/v1/tickets", params={"tag": "lasku", "status": "closed"}).json()["items"]
    assert sorted(t["id"] for t in listed) == sorted(ids[:2])
    assert listed[0]["tags"] == ["Lasku"]
    session.expire_all()
    assert {session.get(Ticket, i).status for i in ids} == {TicketStatus.closed}
    assert (
        len(session.exec(select(AuditEvent).where(AuditEvent.action == "tickets.bulk")).all()) == 3
    )


def test_bulk_refuses_unknown_tickets_and_agents_whole(session, api):
    ticket = factories.ticket(session)
    missing = api.post(
        "/api/v1/tickets/bulk",
        json={"ids": [ticket.id, 2_000_000_000], "action": "status", "status": "closed"},
    )
    assert missing.status_code == 404
    nobody = api.post(
        "/api/v1/tickets/bulk",
        json={"ids": [ticket.id], "action": "assign", "assignee": "ei@example.fi"},
    )
    assert nobody.status_code == 400
    assert api.post("/api/v1/tickets/bulk", json={"ids": [], "action": "assign"}).status_code == 422
    session.expire_all()
    assert session.get(Ticket, ticket.id).status == TicketStatus.open


def test_tags_crud_and_ticket_tags(session, api, client):
    created = api.post("/api/v1/tags", json={"name": "Kiire", "colour": "#b3261e"})
    assert created.status_code == 201
    tag = created.json()
    assert api.post("/api/v1/tags", json={"name": "KIIRE"}).status_code == 409
    renamed = api.patch(f"/api/v1/tags/{tag['id']}", json={"name": "Kiireellinen", "colour": ""})
    assert renamed.json() == {"id": tag["id"], "name": "Kiireellinen", "colour": None}
    ticket = factories.ticket(session)
    on = api.post(f"/api/v1/tickets/{ticket.id}/tags", json={"name": "kiireellinen"}).json()
    assert [t["name"] for t in on] == ["Kiireellinen"]
    assert api.get(f"/api/v1/tickets/{ticket.id}/tags").json() == on
    assert api.delete(f"/api/v1/tickets/{ticket.id}/tags/{tag['id']}").json() == []
    agent_client = _api_as(session, client, factories.agent(session))
    assert agent_client.delete(f"/api/v1/tags/{tag['id']}").status_code == 403


def test_tags_are_deleted_by_admins(session, api):
    tag = api.post("/api/v1/tags", json={"name": "Vanha"}).json()
    assert api.delete(f"/api/v1/tags/{tag['id']}").status_code == 204
    assert api.get("/api/v1/tags").json() == []
    assert api.delete(f"/api/v1/tags/{tag['id']}").status_code == 404


def test_views_crud_with_counts(session, api, client):
    box = factories.mailbox(session, "info@e-tunnus.fi")
    factories.ticket(session, mailbox=box)
    factories.ticket(session)
    made = api.post(
        "/api/v1/views",
        json={
            "name": "Info",
            "filters": {"mailbox": "info@e-tunnus.fi", "status": ""},
            "shared": True,
        },
    )
    assert made.status_code == 201, made.text
    view = made.json()
    assert view["filters"] == {"mailbox": "info@e-tunnus.fi", "status": ""}
    [listed] = api.get("/api/v1/views").json()
    assert (listed["count"], listed["shared"]) == (1, True)
    changed = api.patch(f"/api/v1/views/{view['id']}", json={"filters": {"status": ""}})
    assert changed.status_code == 200
    assert api.get(f"/api/v1/views/{view['id']}").json()["count"] == 2
    agent_client = _api_as(session, client, factories.agent(session))
    assert (
        agent_client.post("/api/v1/views", json={"name": "Jaettu", "shared": True}).status_code
        == 403
    )
    assert agent_client.delete(f"/api/v1/views/{view['id']}").status_code == 403
    own = agent_client.post("/api/v1/views", json={"name": "Oma"}).json()
    assert [v["name"] for v in agent_client.get("/api/v1/views").json()] == ["Info", "Oma"]
    assert agent_client.delete(f"/api/v1/views/{own['id']}").status_code == 204


def test_bulk_merge(session, api):
    made = [factories.ticket(session) for _ in range(3)]
    ids = [t.id for t in made]
    merged = api.post("/api/v1/tickets/bulk", json={"ids": ids, "action": "merge", "into": ids[0]})
    assert merged.status_code == 200, merged.text
    assert merged.json()["changed"] == 2
    assert (
        api.post("/api/v1/tickets/bulk", json={"ids": ids[:1], "action": "merge"}).status_code
        == 400
    )
