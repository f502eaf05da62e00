"""The call form (page and top-bar panel), the lookup, saving, and the calls list."""

from __future__ import annotations

import factories
import pytest
from sqlmodel import select

from helpdesk.models import Call, Channel, MessageKind, Ticket
from helpdesk.services import tickets as ticket_service

HX = {"HX-Request": "true"}


def test_every_page_has_the_call_button_and_service_state(session, logged_in) -> None:
    for path in ("/tickets", "/users", "/calls", "/dashboard"):
        page = logged_in.get(path)
        assert page.status_code == 200, path
        assert 'data-shortcut-key="c"' in page.text
        assert 'hx-get="/calls/new"' in page.text
        assert 'data-testid="service-state"' in page.text
        assert 'id="call-dialog"' in page.text


def test_form_as_page_and_as_panel(session, logged_in) -> None:
    page = logged_in.get("/calls/new")
    assert page.status_code == 200 and "<html" in page.text
    assert 'name="started_at"' in page.text
    panel = logged_in.get("/calls/new", headers={**HX, "HX-Target": "call-dialog"})
    assert "<html" not in panel.text and 'id="call-form"' in panel.text
    assert 'hx-post="/calls"' in panel.text and "data-close-dialog" in panel.text


def test_lookup_by_number_picks_a_unique_caller(session, logged_in) -> None:
    matti = factories.user(session, "100102", name="Matti Virtanen", phones=("+358401234567",))
    open_one = factories.ticket(session, user=matti, subject="Lasku hukassa")
    partial = logged_in.get(
        "/calls/lookup", params={"phone": "040 12"}, headers={**HX, "HX-Trigger-Name": "phone"}
    )
    assert 'data-testid="pick-100102"' in partial.text
    assert "hx-swap-oob" not in partial.text  # not a whole number yet
    whole = logged_in.get(
        "/calls/lookup",
        params={"phone": "040 123 4567"},
        headers={**HX, "HX-Trigger-Name": "phone"},
    )
    assert 'hx-swap-oob="innerHTML"' in whole.text
    assert 'name="user" value="100102"' in whole.text
    assert f'data-testid="ticket-{open_one.number}"' in whole.text
    by_name = logged_in.get(
        "/calls/lookup", params={"q": "virta"}, headers={**HX, "HX-Trigger-Name": "q"}
    )
    assert "Matti Virtanen" in by_name.text
    by_number = logged_in.get(
        "/calls/lookup", params={"q": "100102"}, headers={**HX, "HX-Trigger-Name": "q"}
    )
    assert "Matti Virtanen" in by_number.text
    none = logged_in.get(
        "/calls/lookup", params={"q": "zzz"}, headers={**HX, "HX-Trigger-Name": "q"}
    )
    assert 'data-testid="lookup-none"' in none.text
    picked = logged_in.get("/calls/pick", params={"user": "100102"}, headers=HX)
    assert 'name="user" value="100102"' in picked.text
    assert 'id="call-lookup" hx-swap-oob' in picked.text


def test_known_caller_appended_to_an_open_ticket(session, logged_in) -> None:
    matti = factories.user(session, "100102", name="Matti Virtanen", phones=("+358401234567",))
    ticket = factories.ticket(session, user=matti, subject="Lasku hukassa")
    saved = logged_in.form(
        "/calls",
        {
            "phone": "040 123 4567",
            "user": "100102",
            "ticket_id": str(ticket.id),
            "direction": "incoming",
            "started_at": "2026-03-27T10:15",
            "duration": "3:20",
            "topic": "Soitti perään",
            "notes": "Lupasin katsoa tänään.",
        },
        headers={**HX, "HX-Target": "call-dialog"},
    )
    assert saved.status_code == 200
    assert f"#{ticket.number}" in saved.text and 'data-testid="call-saved"' in saved.text
    call = session.exec(select(Call)).one()
    assert call.ticket_id == ticket.id and call.duration_seconds == 200
    # 10:15 Helsinki (winter time) is 08:15 UTC.
    assert call.started_at.isoformat() == "2026-03-27T08:15:00+00:00"
    thread = logged_in.get(f"/tickets/{ticket.id}")
    assert 'data-kind="call"' in thread.text and "Lupasin katsoa tänään." in thread.text
    assert 'data-testid="call-details"' in thread.text and "3:20" in thread.text


def test_unknown_caller_as_a_new_ticket_without_javascript(session, logged_in) -> None:
    response = logged_in.form(
        "/calls",
        {
            "phone": "050 999 8877",
            "direction": "outgoing",
            "duration": "2",
            "notes": "Ei vastannut",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    call = session.exec(select(Call)).one()
    assert response.headers["location"] == f"/tickets/{call.ticket_id}#m{call.message_id}"
    ticket = session.get(Ticket, call.ticket_id)
    assert ticket.channel == Channel.phone and ticket.user_id is None
    assert call.phone == "+358509998877" and call.direction == "outgoing"
    assert [m.kind for m in ticket_service.thread(session, ticket)] == [MessageKind.call]
    listing = logged_in.get("/calls")
    assert f"#{ticket.number}" in listing.text and "050 9998877" in listing.text


def test_bad_input_is_explained_beside_each_field_and_kept(session, logged_in) -> None:
    typed = {
        "phone": "soita huomenna",
        "direction": "outgoing",
        "started_at": "eilen",
        "duration": "pitkä",
        "topic": "",
        "notes": "",
    }
    response = logged_in.form("/calls", typed, headers={**HX, "HX-Target": "call-dialog"})
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#call-dialog"
    page = response.text
    for field in ("phone", "started_at", "duration", "topic"):
        assert f'data-testid="error-{field}"' in page, field
    assert "Tämä ei ole puhelinnumero" in page  # Finnish first
    # What was typed stays, so nothing has to be written twice.
    assert 'value="soita huomenna"' in page and 'value="pitkä"' in page
    assert 'value="outgoing" checked' in page
    assert session.exec(select(Call)).all() == []


@pytest.mark.parametrize(
    ("fields", "wrong"),
    [
        ({"notes": "Kysyi laskusta"}, "phone"),  # nobody: no number and no user
        ({"phone": "040 123 4567"}, "topic"),  # nothing said
        ({"phone": "040 123 4567", "topic": "x", "started_at": "2999-01-01T10:00"}, "started_at"),
        ({"user": "999999", "topic": "Lasku"}, "phone"),  # a user that is not there
    ],
)
def test_a_call_needs_someone_and_something_said(session, logged_in, fields, wrong) -> None:
    response = logged_in.form("/calls", fields)
    assert response.status_code == 422
    assert f'data-testid="error-{wrong}"' in response.text
    assert session.exec(select(Call)).all() == []


def test_errors_in_english_for_an_english_agent(session, logged_in) -> None:
    logged_in.form("/language", {"language": "en", "next": "/calls/new"})
    response = logged_in.form("/calls", {"phone": "abc", "topic": "x"})
    assert response.status_code == 422
    assert "Not a phone number" in response.text
