"""Snooze, spam, blocks and the customer history over JSON."""

from __future__ import annotations

from datetime import timedelta

import factories
import pytest

from helpdesk.models import utcnow
from helpdesk.services import agents as agent_service


@pytest.fixture
def api(session, client, admin):
    token = agent_service.create_token(session, agent=admin, name="tests")
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def test_snooze_and_unsnooze(session, api):
    ticket = factories.ticket(session, mailbox=factories.mailbox(session))
    until = (utcnow() + timedelta(hours=5)).isoformat()
    body = api.post(f"/api/v1/tickets/{ticket.id}/snooze", json={"until": until}).json()
    assert body["snoozed_until"] is not None
    assert [t["id"] for t in api.get("/api/v1/tickets?status=snoozed").json()["items"]] == [
        ticket.id
    ]
    assert api.get("/api/v1/tickets?status=active").json()["items"] == []
    assert api.delete(f"/api/v1/tickets/{ticket.id}/snooze").json()["snoozed_until"] is None
    naive = api.post(f"/api/v1/tickets/{ticket.id}/snooze", json={"until": "2030-01-01T10:00"})
    assert naive.status_code == 422
    past = api.post(
        f"/api/v1/tickets/{ticket.id}/snooze", json={"until": "2020-01-01T10:00:00+02:00"}
    )
    assert past.status_code == 400


def test_spam_block_and_blocks_list(session, api):
    ticket = factories.ticket(
        session, mailbox=factories.mailbox(session), customer="myyja@mainos.example"
    )
    assert api.post(f"/api/v1/tickets/{ticket.id}/spam").json()["spam"] is True
    assert api.delete(f"/api/v1/tickets/{ticket.id}/spam").json()["spam"] is False
    made = api.post(f"/api/v1/tickets/{ticket.id}/block", json={"scope": "address"})
    assert made.status_code == 201 and made.json()["value"] == "myyja@mainos.example"
    assert api.get(f"/api/v1/tickets/{ticket.id}").json()["spam"] is True
    assert [b["value"] for b in api.get("/api/v1/blocks").json()] == ["myyja@mainos.example"]
    assert api.delete(f"/api/v1/tickets/{ticket.id}/block").status_code == 204
    assert api.get("/api/v1/blocks").json() == []
    assert api.delete(f"/api/v1/tickets/{ticket.id}/block").status_code == 404
    assert api.delete("/api/v1/blocks/999999").status_code == 404


def test_customer_history_by_sender(session, api):
    box = factories.mailbox(session)
    old = factories.ticket(session, mailbox=box, customer="liisa@example.fi", subject="Vanha")
    factories.ticket(session, mailbox=box, customer="muu@example.fi", subject="Muu")
    new = factories.ticket(session, mailbox=box, customer="liisa@example.fi", subject="Uusi")
    body = api.get(f"/api/v1/tickets/{new.id}/history").json()
    assert [t["id"] for t in body["tickets"]] == [old.id]
    assert body["calls"] == [] and body["invoices"] == [] and body["more"] is False
