"""The ticket page's merge, split and forward: forms, errors beside their field, the API."""

from __future__ import annotations

import factories
import lxml.html
from sqlmodel import select

from helpdesk.models import Message, MessageKind, OutboundMail, Ticket
from helpdesk.services import tickets as ticket_service


def _doc(response):
    return lxml.html.document_fromstring(response.text)


def test_merge_from_the_ticket_page_leads_to_the_target(session, logged_in):
    target, source = factories.ticket(session, subject="Kohde"), factories.ticket(session)
    page = _doc(logged_in.get(f"/tickets/{source.id}"))
    assert page.xpath("//form[@data-testid='merge-form']")

    found = logged_in.get(f"/tickets/{source.id}/merge/candidates", params={"target": "Kohde"})
    assert f'value="{target.number}"' in found.text and f'value="{source.number}"' not in found.text

    response = logged_in.form(
        f"/tickets/{source.id}/merge", {"target": f"#{target.number}"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/tickets/{target.id}"
    assert session.get(Ticket, source.id).merged_into_id == target.id

    merged = _doc(logged_in.get(f"/tickets/{source.id}"))
    [banner] = merged.xpath("//*[@data-testid='merged-into']")
    assert banner.xpath(".//a/@href") == [f"/tickets/{target.id}"]
    assert "Yhdistetty tikettiin" in banner.text_content()
    assert not merged.xpath("//form[@data-testid='merge-form']")
    history = _doc(logged_in.get(f"/tickets/{target.id}")).xpath(
        "//*[@data-testid='merge-history']"
    )[0]
    assert f"#{source.number}" in history.text_content()


def test_merge_errors_stand_beside_the_field_over_htmx(session, logged_in):
    ticket = factories.ticket(session)
    for typed in (str(ticket.number), "999999", "ei numero"):
        response = logged_in.post(
            f"/tickets/{ticket.id}/merge",
            data={"target": typed, "csrf_token": logged_in.csrf},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 422
        assert response.text.lstrip().startswith('<section id="ticket-merge"')
        doc = _doc(response)
        [error] = doc.xpath("//*[@data-testid='merge-error']")
        assert error.text_content().strip()
        assert doc.xpath("//input[@id='merge-target']/@value") == [typed]
    assert session.get(Ticket, ticket.id).merged_into_id is None


def test_split_and_forward_from_the_page(session, logged_in, data_dir):
    mailbox = factories.mailbox(session)
    ticket = factories.ticket(session, mailbox=mailbox)
    second = factories.message(session, ticket, text="Toinen asia")
    page = _doc(logged_in.get(f"/tickets/{ticket.id}"))
    assert page.xpath(f"//button[@data-testid='split-{second.id}']")

    response = logged_in.form(f"/messages/{second.id}/split", {}, follow_redirects=False)
    assert response.status_code == 303
    new_id = session.get(Message, second.id).ticket_id
    assert new_id != ticket.id and response.headers["location"] == f"/tickets/{new_id}"
    new_number = session.get(Ticket, new_id).number
    history = _doc(logged_in.get(f"/tickets/{new_id}")).xpath("//*[@data-testid='merge-history']")
    assert f"Erotettu tiketistä #{ticket.number}" in " ".join(history[0].text_content().split())
    history = _doc(logged_in.get(f"/tickets/{ticket.id}")).xpath(
        "//*[@data-testid='merge-history']"
    )
    assert f"tikettiin #{new_number}" in " ".join(history[0].text_content().split())

    bad = logged_in.form(f"/tickets/{ticket.id}/forward", {"to": "ei osoite"})
    assert bad.status_code == 422
    assert "ei osoite" in _doc(bad).xpath("//*[@id='forward-error-to']")[0].text_content()

    form = {"to": "kirjanpito@example.fi", "note": "Katsokaa", "token": "t1"}
    for _ in range(2):  # a double click sends once
        done = logged_in.form(f"/tickets/{ticket.id}/forward", form, follow_redirects=False)
        assert done.status_code == 303
    rows = session.exec(select(OutboundMail).where(OutboundMail.ticket_id == ticket.id)).all()
    assert len(rows) == 1 and rows[0].kind == "forward"
    kinds = [m.kind for m in ticket_service.thread(session, ticket)]
    assert kinds == [MessageKind.incoming, MessageKind.forward]


def test_the_api_merges_splits_and_forwards(session, logged_in, data_dir):
    mailbox = factories.mailbox(session)
    target, source = factories.ticket(session, mailbox=mailbox), factories.ticket(session)
    headers = {"X-CSRF-Token": logged_in.csrf}

    refused = logged_in.post(
        f"/api/v1/tickets/{target.id}/merge", json={"source_ids": [target.id]}, headers=headers
    )
    assert refused.status_code == 400
    assert refused.json()["detail"] == "Tikettiä ei voi yhdistää itseensä"
    merged = logged_in.post(
        f"/api/v1/tickets/{target.id}/merge", json={"source_ids": [source.id]}, headers=headers
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["message_count"] == 2
    assert logged_in.get(f"/api/v1/tickets/{source.id}").json()["merged_into_id"] == target.id

    [first, second] = ticket_service.thread(session, target)
    split = logged_in.post(f"/api/v1/messages/{second.id}/split", headers=headers)
    assert split.status_code == 201, split.text
    assert split.json()["messages"][0]["id"] == second.id

    sent = logged_in.post(
        f"/api/v1/tickets/{target.id}/forward",
        json={"to": ["kirjanpito@example.fi"], "message_ids": [first.id], "note": "Tiedoksi"},
        headers={**headers, "Idempotency-Key": "f1"},
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["kind"] == "forward" and sent.json()["outbound_id"]
