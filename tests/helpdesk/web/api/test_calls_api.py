"""POST /api/v1/calls: known and unknown callers, new ticket or a given one."""

from __future__ import annotations

import factories

from helpdesk.models import Ticket


def _h(client) -> dict[str, str]:
    return {"X-CSRF-Token": client.csrf}


def test_caller_matched_by_phone_opens_a_phone_ticket(session, logged_in, admin) -> None:
    factories.user(session, "100102", name="Matti Virtanen", phones=("+358401234567",))
    response = logged_in.post(
        "/api/v1/calls",
        json={
            "phone": "+358 40 123 4567",
            "direction": "incoming",
            "started_at": "2026-03-27T10:15:00+02:00",
            "duration_seconds": 125,
            "topic": "Eräpäivä",
            "notes": "Neuvottu",
        },
        headers=_h(logged_in),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["user"] == "100102" and body["agent"] == admin.email
    assert body["phone"] == "+358401234567" and body["duration_seconds"] == 125
    assert body["started_at"].startswith("2026-03-27T08:15:00")
    assert body["notes"] == "Neuvottu" and body["topic"] == "Eräpäivä"
    ticket = logged_in.get(f"/api/v1/tickets/{body['ticket_id']}").json()
    assert ticket["channel"] == "phone" and ticket["user"] == "100102"
    assert [m["kind"] for m in ticket["messages"]] == ["call"]
    assert ticket["number"] == body["ticket_number"]


def test_appended_to_a_given_ticket_and_unknown_caller(session, logged_in) -> None:
    aino = factories.user(session, "100233", name="Aino Korhonen")
    ticket = factories.ticket(session, user=aino)
    appended = logged_in.post(
        "/api/v1/calls",
        json={"user": "100233", "ticket_id": ticket.id, "direction": "outgoing"},
        headers=_h(logged_in),
    )
    assert appended.status_code == 201
    assert appended.json()["ticket_id"] == ticket.id
    session.refresh(ticket)
    assert ticket.message_count == 2
    unknown = logged_in.post(
        "/api/v1/calls", json={"phone": "050 999 8877", "notes": "?"}, headers=_h(logged_in)
    )
    assert unknown.status_code == 201
    assert unknown.json()["user"] is None
    assert session.get(Ticket, unknown.json()["ticket_id"]).user_id is None
    recent = logged_in.get("/api/v1/calls").json()
    assert {c["id"] for c in recent} == {unknown.json()["id"], appended.json()["id"]}


def test_errors(session, logged_in) -> None:
    h = _h(logged_in)
    assert logged_in.post("/api/v1/calls", json={"user": "999999"}, headers=h).status_code == 404
    assert logged_in.post("/api/v1/calls", json={"ticket_id": 424242}, headers=h).status_code == 404
    assert (
        logged_in.post("/api/v1/calls", json={"direction": "sideways"}, headers=h).status_code
        == 422
    )
    naive = logged_in.post("/api/v1/calls", json={"started_at": "2026-03-27T10:15:00"}, headers=h)
    assert naive.status_code == 400
    assert (
        logged_in.post("/api/v1/calls", json={"duration_seconds": -5}, headers=h).status_code == 422
    )
