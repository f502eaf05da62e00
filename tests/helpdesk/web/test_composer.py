"""The composer, undo/retry, saved replies, presence, new conversations and the replies API."""

from __future__ import annotations

import base64
import json

import factories
import lxml.html
import pytest
from sqlmodel import select
from webclient import Client, login

from helpdesk.models import DeliveryStatus, Message, OutboundMail, SavedReply
from helpdesk.services import tickets
from helpdesk.settings import get_settings


@pytest.fixture
def ticket(session, data_dir):
    mailbox = factories.mailbox(session, display_name="E-tunnus asiakaspalvelu")
    return factories.ticket(session, mailbox=mailbox, subject="Lasku ei näy")


def _hx(client: Client) -> dict[str, str]:
    return {"HX-Request": "true", "X-CSRF-Token": client.csrf}


def _last_id(session, ticket) -> str:
    return str(tickets.thread(session, ticket)[-1].id)


def test_ticket_page_has_the_composer(logged_in, session, ticket):
    session.add(SavedReply(title="Kiitos", body="Kiitos {asiakas}!"))
    session.commit()
    page = logged_in.get(f"/tickets/{ticket.id}").text
    assert 'data-testid="reply-to"' in page and 'value="asiakas@example.fi"' in page
    assert f"Re: Lasku ei näy [#{ticket.number}]" in page
    assert "E-tunnus asiakaspalvelu" in page and ">Kiitos</option>" in page
    assert f'name="last_message_id" value="{_last_id(session, ticket)}"' in page


def test_send_reply_with_attachment_shows_it_queued_with_undo(
    logged_in, session, ticket, monkeypatch
):
    monkeypatch.setattr(get_settings(), "undo_send_seconds", 10)
    data = {
        "body": "Hei,\n\nliitteenä ohje.",
        "token": "t1",
        "last_message_id": _last_id(session, ticket),
    }
    files = [("files", ("Ohje_ä.pdf", b"%PDF-1.4 ohje", "application/pdf"))]
    response = logged_in.post(
        f"/tickets/{ticket.id}/replies", data=data, files=files, headers=_hx(logged_in)
    )
    assert response.status_code == 200, response.text
    assert json.loads(response.headers["HX-Trigger"]) == {"reply-sent": {"ticket": ticket.id}}
    assert 'data-testid="undo-send"' in response.text and "Ohje_ä.pdf" in response.text
    # A double click sends the same form token again: still one message.
    logged_in.post(f"/tickets/{ticket.id}/replies", data=data, files=files, headers=_hx(logged_in))
    [row] = session.exec(select(OutboundMail)).all()
    undone = logged_in.post(f"/outbox/{row.id}/cancel", headers=_hx(logged_in))
    assert undone.status_code == 200
    text = json.loads(undone.headers["HX-Trigger"])["reply-undone"]["text"]
    # The agent's words come back without the signature, which sending adds again.
    assert text == "Hei,\n\nliitteenä ohje.\n"
    session.refresh(row)
    assert row.status == "cancelled"


def test_traffic_cop_warning_then_send_anyway(logged_in, session, ticket):
    seen = _last_id(session, ticket)
    tickets.add_note(session, ticket=ticket, text="Hoidan tämän", by=factories.agent(session))
    data = {"body": "Hei", "token": "t2", "last_message_id": seen}
    warned = logged_in.post(f"/tickets/{ticket.id}/replies", data=data, headers=_hx(logged_in))
    assert warned.headers["HX-Retarget"] == "#composer-warning"
    assert "Hoidan tämän" in warned.text and 'data-testid="send-anyway"' in warned.text
    assert session.exec(select(OutboundMail)).all() == []
    sent = logged_in.post(
        f"/tickets/{ticket.id}/replies", data={**data, "confirm": "1"}, headers=_hx(logged_in)
    )
    assert "reply-sent" in sent.headers["HX-Trigger"]


def test_too_large_attachment_is_a_clear_error(logged_in, session, ticket, monkeypatch):
    monkeypatch.setattr(get_settings(), "max_attachment_bytes", 100)
    response = logged_in.post(
        f"/tickets/{ticket.id}/replies",
        data={"body": "Hei"},
        files=[("files", ("iso.pdf", b"x" * 200, "application/pdf"))],
        headers=_hx(logged_in),
    )
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#composer-error"  # above Send, in view
    assert "Liitteet ylittävät" in response.text  # the limit, in Finnish
    assert session.exec(select(Message).where(Message.kind == "outgoing")).all() == []


def test_failed_mail_shows_the_error_and_can_be_retried(logged_in, session, ticket):
    logged_in.post(f"/tickets/{ticket.id}/replies", data={"body": "Hei"}, headers=_hx(logged_in))
    row = session.exec(select(OutboundMail)).one()
    row.status, row.last_error = DeliveryStatus.failed, "550 5.1.1 Mailbox unavailable"
    message = session.get(Message, row.message_row_id)
    message.delivery_status, message.delivery_error = "failed", row.last_error
    session.commit()
    page = logged_in.get(f"/tickets/{ticket.id}").text
    assert "550 5.1.1 Mailbox unavailable" in page and 'data-testid="retry-send"' in page
    retried = logged_in.post(f"/outbox/{row.id}/retry", headers=_hx(logged_in))
    assert retried.status_code == 200 and 'data-testid="retry-send"' not in retried.text
    session.refresh(row)
    assert row.status == "queued"


def test_saved_reply_is_filled_in(logged_in, session, ticket, admin):
    saved = SavedReply(title="Kiitos", body="Hei {asiakas}, {tiketti}.\n{agentti}")
    session.add(saved)
    session.commit()
    response = logged_in.post(
        f"/tickets/{ticket.id}/saved-reply",
        data={"saved_reply_id": str(saved.id), "body": "Alku"},
        headers=_hx(logged_in),
    )
    assert f"Alku\n\nHei Asiakas, #{ticket.number}.\n{admin.name}" in response.text


def test_presence_shows_a_colleague_composing(app, logged_in, session, ticket):
    colleague = factories.agent(session, name="Pekka Puhelin")
    with Client(app, base_url="http://testserver") as other:
        login(other, colleague)
        other.post(
            f"/tickets/{ticket.id}/presence", data={"state": "composing"}, headers=_hx(other)
        )
    seen = logged_in.post(f"/tickets/{ticket.id}/presence", headers=_hx(logged_in))
    assert "Pekka Puhelin" in seen.text and "presence-composing" in seen.text


def test_reply_errors_stand_beside_their_field(logged_in, session, ticket):
    data = {
        "body": "Hei",
        "cc": "matti at example.fi",
        "last_message_id": _last_id(session, ticket),
    }
    response = logged_in.post(f"/tickets/{ticket.id}/replies", data=data, headers=_hx(logged_in))
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#composer-error"
    doc = lxml.html.fromstring(f"<div>{response.text}</div>")
    [cc] = doc.xpath("//span[@id='reply-error-cc']")
    assert cc.get("hx-swap-oob") == "true"
    assert cc.text_content() == "Ei sähköpostiosoite: matti at example.fi"
    assert doc.xpath("//span[@id='reply-error-to']")[0].text_content() == ""  # others cleared
    empty = logged_in.post(
        f"/tickets/{ticket.id}/replies",
        data={**data, "body": " ", "cc": ""},
        headers=_hx(logged_in),
    )
    body = lxml.html.fromstring(f"<div>{empty.text}</div>").xpath("//span[@id='reply-error-body']")
    assert body[0].text_content() == "Vastaus on tyhjä"
    assert session.exec(select(Message).where(Message.kind == "outgoing")).all() == []


def test_new_conversation_refused_keeps_what_was_typed(logged_in, session, data_dir):
    mailbox = factories.mailbox(session, display_name="E-tunnus")
    typed = {
        "mailbox_id": str(mailbox.id),
        "to": "999999",
        "cc": "kopio@example.fi",
        "subject": "Tervetuloa",
        "body": "Hei, tässä pitkä viesti.",
    }
    response = logged_in.form("/tickets/new", typed, follow_redirects=False)
    assert response.status_code == 404
    doc = lxml.html.fromstring(response.text)
    assert doc.xpath("//*[@data-testid='error-to']")[0].text_content() == (
        "E-tunnus-käyttäjää 999999 ei ole"
    )
    assert doc.xpath("//input[@name='subject']/@value") == ["Tervetuloa"]
    assert doc.xpath("//input[@name='cc']/@value") == ["kopio@example.fi"]
    assert doc.xpath("//textarea[@name='body']")[0].text_content() == "Hei, tässä pitkä viesti."
    assert doc.xpath("//select[@name='mailbox_id']/option[@selected]/@value") == [str(mailbox.id)]


def test_an_error_page_leads_back_where_the_agent_came_from(logged_in, session, ticket):
    here = logged_in.get(
        "/tickets/987654321", headers={"Referer": f"http://testserver/tickets/{ticket.id}?x=1"}
    )
    assert here.status_code == 404
    back = lxml.html.fromstring(here.text).xpath("//a[@data-testid='error-back']/@href")
    assert back == [f"/tickets/{ticket.id}?x=1"]
    elsewhere = logged_in.get("/tickets/987654321", headers={"Referer": "https://evil.example/x"})
    assert 'data-testid="error-back"' not in elsewhere.text and 'href="/tickets"' in elsewhere.text


def test_new_conversation_page(logged_in, session, data_dir):
    mailbox = factories.mailbox(session, display_name="E-tunnus")
    assert 'data-testid="new-to"' in logged_in.get("/tickets/new").text
    response = logged_in.form(
        "/tickets/new",
        {
            "mailbox_id": str(mailbox.id),
            "to": "uusi@example.fi",
            "subject": "Tervetuloa",
            "body": "Hei",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    ticket_id = int(response.headers["location"].rsplit("/", 1)[1])
    [message] = tickets.thread(session, tickets.get_ticket(session, ticket_id))
    assert message.to_addresses == ["uusi@example.fi"] and message.delivery_status == "queued"


def test_admin_saved_replies(logged_in, session):
    response = logged_in.form(
        "/admin/saved-replies",
        {"title": "Lasku lähetetty", "body": "Hei {asiakas}", "active": "on"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "Lasku lähetetty" in logged_in.get("/admin/saved-replies").text


def test_api_reply_is_idempotent_and_exposes_delivery_status(logged_in, session, ticket):
    headers = {"X-CSRF-Token": logged_in.csrf, "Idempotency-Key": "abc-1"}
    payload = {
        "body": "Hei API:sta",
        "cc": ["kopio@example.fi"],
        "attachments": [
            {
                "filename": "a.txt",
                "content_type": "text/plain",
                "data": base64.b64encode(b"hei").decode(),
            }
        ],
    }
    first = logged_in.post(f"/api/v1/tickets/{ticket.id}/replies", json=payload, headers=headers)
    assert first.status_code == 201, first.text
    again = logged_in.post(f"/api/v1/tickets/{ticket.id}/replies", json=payload, headers=headers)
    assert again.json()["id"] == first.json()["id"]
    body = first.json()
    assert body["delivery_status"] == "queued" and body["cc"] == ["kopio@example.fi"]
    assert body["attachments"][0]["filename"] == "a.txt" and body["outbound_id"]
    detail = logged_in.get(f"/api/v1/tickets/{ticket.id}").json()
    assert detail["messages"][-1]["delivery_status"] == "queued"
    stale = logged_in.post(
        f"/api/v1/tickets/{ticket.id}/replies",
        json={"body": "x", "expected_last_message_id": 0},
        headers={"X-CSRF-Token": logged_in.csrf},
    )
    # Our own replies since then do not count, but the customer's mail does.
    assert stale.status_code == 409 and stale.json()["code"] == "newer_message"


def test_api_start_conversation(logged_in, session, data_dir):
    mailbox = factories.mailbox(session)
    response = logged_in.post(
        "/api/v1/tickets",
        json={"mailbox": mailbox.address, "to": "uusi@example.fi", "subject": "Hei", "body": "Moi"},
        headers={"X-CSRF-Token": logged_in.csrf},
    )
    assert response.status_code == 201, response.text
    assert response.json()["messages"][0]["delivery_status"] == "queued"
