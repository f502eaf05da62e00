"""Notifications, following and mention-able agents over the JSON API."""

from __future__ import annotations

import factories
import pytest

from helpdesk.services import agents as agent_service
from helpdesk.services import tickets as ticket_service


@pytest.fixture
def api(session, client, admin):
    token = agent_service.create_token(session, agent=admin, name="tests")
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def test_a_note_through_the_api_mentions_and_the_list_shows_it(session, api, admin):
    writer = factories.agent(session, name="Bertta Kirjoittaja")
    writer_token = agent_service.create_token(session, agent=writer, name="w")
    ticket = factories.ticket(session)
    handle = admin.email.split("@")[0]
    answer = api.post(
        f"/api/v1/tickets/{ticket.id}/notes",
        json={"text": f"@{handle} katso"},
        headers={"Authorization": f"Bearer {writer_token}"},
    )
    assert answer.status_code == 201

    page = api.get("/api/v1/notifications").json()
    assert page["unread"] == 1 and page["next_before"] is None
    [item] = page["items"]
    assert item["kind"] == "mention" and item["actor"] == writer.email
    assert item["ticket_id"] == ticket.id and item["ticket_number"] == ticket.number
    assert item["read_at"] is None and item["url"].startswith(f"/tickets/{ticket.id}#m")

    read = api.post(f"/api/v1/notifications/{item['id']}/read")
    assert read.status_code == 200 and read.json()["read_at"] is not None
    assert api.get("/api/v1/notifications?unread=true").json()["items"] == []
    assert api.get(f"/api/v1/tickets/{ticket.id}/followers").json() == {
        "following": True,
        "followers": [admin.email],
    }


def test_mark_read_in_bulk_and_paging(session, api, admin):
    writer = factories.agent(session)
    ticket = factories.ticket(session)
    api.put(f"/api/v1/tickets/{ticket.id}/follow")
    for n in range(5):
        ticket_service.add_note(session, ticket=ticket, text=f"n {n}", by=writer)
    first = api.get("/api/v1/notifications?limit=2").json()
    assert len(first["items"]) == 2 and first["next_before"] == first["items"][-1]["id"]
    rest = api.get(f"/api/v1/notifications?limit=10&before={first['next_before']}").json()
    assert len(rest["items"]) == 3 and rest["next_before"] is None
    ids = [i["id"] for i in first["items"]]
    assert api.post("/api/v1/notifications/read", json={"ids": ids}).json() == {
        "changed": 2,
        "unread": 3,
    }
    assert api.post("/api/v1/notifications/read", json={}).json() == {"changed": 3, "unread": 0}


def test_follow_unfollow_and_errors(session, api, admin):
    ticket = factories.ticket(session)
    assert api.put(f"/api/v1/tickets/{ticket.id}/follow").json()["following"] is True
    assert api.put(f"/api/v1/tickets/{ticket.id}/follow").json()["followers"] == [admin.email]
    assert api.delete(f"/api/v1/tickets/{ticket.id}/follow").json() == {
        "following": False,
        "followers": [],
    }
    assert api.put("/api/v1/tickets/999999/follow").status_code == 404
    assert api.post("/api/v1/notifications/999999/read").json()["code"]


def test_mentionable_agents_with_their_handles(session, api, admin):
    factories.agent(session, name="Maija Meikäläinen")
    gone = factories.agent(session, name="Maija Poissa")
    agent_service.deactivate(session, agent=gone, by=admin)
    found = api.get("/api/v1/agents/mentionable?q=mai").json()
    assert [a["name"] for a in found] == ["Maija Meikäläinen"]
    assert found[0]["handle"] == found[0]["email"].split("@")[0]
    assert {a["name"] for a in api.get("/api/v1/agents/mentionable?q=meik").json()} == {
        "Maija Meikäläinen"
    }
    assert api.get("/api/v1/agents/mentionable?q=%25").json() == []
