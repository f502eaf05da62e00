"""The JSON API: shapes of tickets and messages, changes, and clear JSON errors."""

from __future__ import annotations

from datetime import timedelta

import factories
import pytest
from sqlmodel import select

from helpdesk.blobs import BlobStore
from helpdesk.models import Attachment, AuditEvent, Ticket, TicketStatus, utcnow
from helpdesk.services import agents as agent_service
from helpdesk.services import tickets as ticket_service
from helpdesk.settings import get_settings
from helpdesk.web.docs import OPENAPI_URL


@pytest.fixture
def api(session, client, admin):
    """The test client with a bearer token of the admin."""
    token = agent_service.create_token(session, agent=admin, name="tests")
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def test_list_items_carry_the_documented_fields(session, api, admin, data_dir):
    box = factories.mailbox(session, "info@e-tunnus.fi")
    user = factories.user(session, "100102")
    ticket = factories.ticket(session, subject="Lasku", mailbox=box, user=user)
    ticket_service.assign(session, ticket=ticket, assignee=admin, by=admin)
    body = api.get("/api/v1/tickets").json()
    assert body["next_cursor"] is None
    [item] = body["items"]
    assert item["id"] == ticket.id
    assert item["number"] == ticket.number
    assert item["subject"] == "Lasku"
    assert item["status"] == "open"
    assert item["mailbox"] == "info@e-tunnus.fi"
    assert item["user"] == "100102"
    assert item["assignee"] == admin.email
    assert item["message_count"] == 1
    assert item["flags"] == []
    assert item["last_message_at"].startswith(str(ticket.last_message_at.date()))


def test_list_filters_and_cursor(session, api, admin):
    box = factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
    at = utcnow()
    made = [
        factories.ticket(session, subject=f"T{i}", mailbox=box, at=at - timedelta(seconds=i))
        for i in range(5)
    ]
    ticket_service.set_status(session, ticket=made[0], status="closed", by=admin)
    ticket_service.assign(session, ticket=made[1], assignee=admin, by=admin)

    def subjects(**params):
        return [t["subject"] for t in api.get("/api/v1/tickets", params=params).json()["items"]]

    assert subjects() == ["T0", "T1", "T2", "T3", "T4"]  # no status filter: everything
    assert subjects(status="closed") == ["T0"]
    assert subjects(assignee="me") == ["T1"]
    assert subjects(assignee=admin.email) == ["T1"]
    assert subjects(assignee="nobody@e-tunnus.fi") == []
    assert subjects(assignee="none", status="open") == ["T2", "T3", "T4"]
    assert subjects(mailbox="asiakaspalvelu@e-tunnus.fi", q="T3") == ["T3"]

    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        body = api.get("/api/v1/tickets", params=params).json()
        seen += [t["subject"] for t in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == ["T0", "T1", "T2", "T3", "T4"]


def test_get_ticket_with_messages_and_attachments(session, api, admin, data_dir):
    ticket = factories.ticket(session, subject="Liite", customer="asiakas@example.fi")
    message = factories.message(session, ticket, text="Liitteenä lasku")
    data = b"%PDF-1.4 lasku"
    session.add(
        Attachment(
            message_id=message.id,
            filename="lasku.pdf",
            content_type="application/pdf",
            size=len(data),
            sha256=BlobStore(get_settings().blob_dir).put(data),
        )
    )
    session.commit()
    body = api.get(f"/api/v1/tickets/{ticket.id}").json()
    assert body["id"] == ticket.id and body["message_count"] == 2
    first, second = body["messages"]
    for key in ("id", "kind", "from", "to", "cc", "subject", "message_id", "text", "created_at"):
        assert key in first, key
    assert first["kind"] == "incoming"
    assert first["from"] == "asiakas@example.fi"
    assert first["flags"] == [] and first["attachments"] == []
    [att] = second["attachments"]
    assert att["filename"] == "lasku.pdf"
    assert att["content_type"] == "application/pdf"
    assert att["size"] == len(data)
    assert len(att["sha256"]) == 64


def test_patch_status_and_assignee(session, api, admin):
    ticket = factories.ticket(session)
    other = factories.agent(session)
    body = api.patch(
        f"/api/v1/tickets/{ticket.id}", json={"status": "pending", "assignee": other.email}
    ).json()
    assert (body["status"], body["assignee"]) == ("pending", other.email)
    body = api.patch(f"/api/v1/tickets/{ticket.id}", json={"assignee": None}).json()
    assert (body["status"], body["assignee"]) == ("pending", None)
    # Leaving a field out leaves it alone.
    api.patch(f"/api/v1/tickets/{ticket.id}", json={"assignee": admin.email})
    body = api.patch(f"/api/v1/tickets/{ticket.id}", json={"status": "closed"}).json()
    assert (body["status"], body["assignee"]) == ("closed", admin.email)
    actions = session.exec(
        select(AuditEvent.action).where(AuditEvent.object_type == "ticket")
    ).all()
    assert actions.count("ticket.status") == 2 and actions.count("ticket.assign") == 3


def test_add_note(session, api, admin):
    ticket = factories.ticket(session)
    response = api.post(f"/api/v1/tickets/{ticket.id}/notes", json={"text": "Hoidettu puhelimessa"})
    assert response.status_code == 201
    note = response.json()
    assert (note["kind"], note["text"], note["author"]) == (
        "note",
        "Hoidettu puhelimessa",
        admin.email,
    )
    kinds = [m["kind"] for m in api.get(f"/api/v1/tickets/{ticket.id}").json()["messages"]]
    assert kinds == ["incoming", "note"]


def test_unknown_ticket_is_404_json(api):
    for method, url, body in (
        ("GET", "/api/v1/tickets/999999", None),
        ("PATCH", "/api/v1/tickets/999999", {"status": "closed"}),
        ("POST", "/api/v1/tickets/999999/notes", {"text": "x"}),
    ):
        response = api.request(method, url, json=body)
        assert response.status_code == 404, (method, url)
        assert response.json()["code"] == "not_found"
        assert response.json()["detail"]  # a message in the default language


def test_invalid_body_is_422_with_field_errors(session, api):
    ticket = factories.ticket(session)
    response = api.patch(f"/api/v1/tickets/{ticket.id}", json={"status": "deleted"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert [e["field"] for e in body["errors"]] == ["status"]
    assert body["errors"][0]["message"]
    missing = api.post(f"/api/v1/tickets/{ticket.id}/notes", json={})
    assert missing.status_code == 422
    assert [e["field"] for e in missing.json()["errors"]] == ["text"]
    not_json = api.post(
        f"/api/v1/tickets/{ticket.id}/notes",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert not_json.status_code == 422
    assert api.get("/api/v1/tickets/abc").status_code == 404  # no id: no such ticket


def test_empty_note_is_400_json(session, api):
    ticket = factories.ticket(session)
    response = api.post(f"/api/v1/tickets/{ticket.id}/notes", json={"text": "  "})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["detail"] in ("The note is empty", "Muistiinpano on tyhjä.")


def test_unknown_or_inactive_assignee_is_400_and_changes_nothing(session, api, admin):
    ticket = factories.ticket(session)
    response = api.patch(
        f"/api/v1/tickets/{ticket.id}",
        json={"status": "closed", "assignee": "nobody@e-tunnus.fi"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "nobody@e-tunnus.fi" in response.json()["detail"]
    gone = factories.agent(session)
    agent_service.update_agent(session, agent=gone, by=admin, active=False)
    response = api.patch(
        f"/api/v1/tickets/{ticket.id}", json={"status": "closed", "assignee": gone.email}
    )
    assert response.status_code == 400
    stored = session.get(Ticket, ticket.id)
    assert (stored.status, stored.assignee_id) == (TicketStatus.open, None)


def test_tickets_carry_their_clocks_in_business_seconds(session, api, admin, monkeypatch):
    from report_fixtures import hki

    from helpdesk.models import MessageKind
    from helpdesk.services import inbox

    box = factories.mailbox(session)
    ticket = factories.ticket(session, mailbox=box, at=hki(5, 14))
    ticket_service.add_message(
        session, ticket=ticket, kind=MessageKind.outgoing, author=admin, created_at=hki(9, 11)
    )
    session.commit()
    monkeypatch.setattr(inbox, "utcnow", lambda: hki(9, 12, 30))
    expected = {
        "first_response_seconds": 7200,
        "first_response_running": False,
        "resolution_seconds": 12600,
        "resolution_running": True,
    }
    [item] = api.get("/api/v1/tickets").json()["items"]
    assert item["clocks"] == expected
    assert api.get(f"/api/v1/tickets/{ticket.id}").json()["clocks"] == expected
    schema = api.get(OPENAPI_URL).json()["components"]["schemas"]
    assert "clocks" in schema["TicketRead"]["required"]
    assert (
        "Business seconds"
        in schema["TicketClocks"]["properties"]["resolution_seconds"]["description"]
    )
