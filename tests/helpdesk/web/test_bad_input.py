"""No 500 on bad input: ids no column holds, NUL and lone surrogates, over-long values, a
pasted page as a search, a second click on undo or retry, one Idempotency-Key twice at once.

Each case runs on SQLite and PostgreSQL (the ``session`` and ``committed_url`` fixtures).
"""

from __future__ import annotations

import re
import threading

import factories
import pytest
from sqlmodel import select
from webclient import Client, login
from webroutes import UNSAFE, RouteCase, all_routes, route_params

from helpdesk.db import new_session
from helpdesk.models import DeliveryStatus, EtunnusUser, Message, MessageKind, OutboundMail
from helpdesk.services import agents as agent_service
from helpdesk.values import MAX_ID, MAX_LINE, MAX_TEXT
from helpdesk.web.app import create_app

#: Past SQLite's 64-bit INTEGER, and past PostgreSQL's int4 (every id column).
HUGE_IDS = [2**63, MAX_ID + 1, -1]
_ID_PARAM = re.compile(r"\{\w+_id\}")
ID_ROUTES = [r for r in all_routes() if _ID_PARAM.search(r.path)]
#: 1,500 words: far more than a search uses, and more than SQLite's expression depth.
PASTED_PAGE = " ".join(f"sana{i}" for i in range(1500))


def _url(route: RouteCase, number: int) -> str:
    return re.sub(r"\{[^}]+\}", "1", _ID_PARAM.sub(str(number), route.path))


def _headers(client: Client) -> dict[str, str]:
    return {"X-CSRF-Token": client.csrf}


def test_every_route_with_an_id_is_enumerated():
    assert len(ID_ROUTES) > 20  # the enumeration itself works (core and plugin)
    assert any(r.path.startswith("/api/v1/invoices/") for r in ID_ROUTES)


@pytest.mark.parametrize("number", HUGE_IDS)
@pytest.mark.parametrize("route", route_params(ID_ROUTES))
def test_an_id_no_column_holds_is_not_found(logged_in, route, number):
    url = _url(route, number)
    response = logged_in.request(
        route.method,
        url,
        headers=_headers(logged_in) if route.method in UNSAFE else {},
        follow_redirects=False,
    )
    assert response.status_code == 404, (url, response.status_code, response.text[:300])
    if route.is_api:
        assert response.json()["code"] == "not_found"


def test_an_id_in_a_form_or_cursor_beyond_the_columns_is_no_id(logged_in, session, data_dir):
    ticket = factories.ticket(session, mailbox=factories.mailbox(session))
    data = {"body": "Hei", "saved_reply_id": str(2**63), "csrf_token": logged_in.csrf}
    sent = logged_in.post(f"/tickets/{ticket.id}/replies", data=data, follow_redirects=False)
    assert sent.status_code == 303
    forged = "MjAyNi0wMS0wMXw5OTk5OTk5OTk5OTk5OTk5OTk5OTk5"  # "2026-01-01|99999999999999999999"
    listed = logged_in.get("/api/v1/tickets", params={"cursor": forged})
    assert listed.status_code == 200
    body = {"phone": "040 123 4567", "ticket_id": 2**63}
    refused = logged_in.post("/api/v1/calls", json=body, headers=_headers(logged_in))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "ticket_id"


BAD_TEXT = [
    pytest.param('"a\\u0000b"', id="nul"),
    pytest.param('"a\\ud800b"', id="lone-surrogate"),
]


@pytest.mark.parametrize("value", BAD_TEXT)
def test_json_text_with_nul_or_a_lone_surrogate_is_a_field_error(logged_in, session, value):
    ticket = factories.ticket(session)
    before = len(session.exec(select(Message)).all())
    headers = {**_headers(logged_in), "Content-Type": "application/json"}
    note = logged_in.post(
        f"/api/v1/tickets/{ticket.id}/notes", content=f'{{"text": {value}}}', headers=headers
    )
    assert note.status_code == 422
    assert note.json()["code"] == "invalid"
    assert [e["field"] for e in note.json()["errors"]] == ["text"]
    user = logged_in.post(
        "/api/v1/users", content=f'{{"etunnus": "100102", "name": {value}}}', headers=headers
    )
    assert user.status_code == 422
    assert [e["field"] for e in user.json()["errors"]] == ["name"]
    reply = logged_in.post(
        f"/api/v1/tickets/{ticket.id}/replies", content=f'{{"body": {value}}}', headers=headers
    )
    assert reply.status_code == 422
    assert [e["field"] for e in reply.json()["errors"]] == ["body"]
    assert len(session.exec(select(Message)).all()) == before
    assert session.exec(select(EtunnusUser)).all() == []


def test_over_long_values_are_field_errors(logged_in, session):
    ticket = factories.ticket(session)
    long_note = logged_in.post(
        f"/api/v1/tickets/{ticket.id}/notes",
        json={"text": "a" * (MAX_TEXT + 1)},
        headers=_headers(logged_in),
    )
    assert long_note.status_code == 422
    assert long_note.json()["errors"][0]["field"] == "text"
    long_name = logged_in.post(
        "/api/v1/users",
        json={"etunnus": "100102", "name": "a" * (MAX_LINE + 1)},
        headers=_headers(logged_in),
    )
    assert long_name.status_code == 422
    assert session.exec(select(EtunnusUser)).all() == []


@pytest.mark.parametrize("url", ["/api/v1/tickets", "/api/v1/users", "/api/v1/invoices"])
def test_a_nul_in_a_search_is_a_field_error(logged_in, url):
    response = logged_in.get(url, params={"q": "lasku\x00"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "q"


def test_a_form_with_nul_or_an_over_long_value_is_refused_and_stores_nothing(
    logged_in, session
):
    ticket = factories.ticket(session)
    notes = logged_in.post(
        f"/tickets/{ticket.id}/notes",
        data={"text": "Hoidan\x00", "csrf_token": logged_in.csrf},
        headers={"Accept-Language": "fi"},
    )
    assert notes.status_code == 400
    assert "Joitakin kenttiä puuttuu tai ne ovat virheellisiä" in notes.text
    user = factories.user(session, "100102")
    edit = logged_in.post(
        f"/users/{user.etunnus}",
        data={"name": "x" * (MAX_LINE + 1), "csrf_token": logged_in.csrf},
    )
    assert edit.status_code == 400
    kinds = [m.kind for m in session.exec(select(Message).where(Message.ticket_id == ticket.id))]
    assert MessageKind.note not in kinds
    session.refresh(user)
    assert len(user.name) < MAX_LINE


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/tickets",
        "/api/v1/users",
        "/api/v1/invoices",
        "/tickets",
        "/users",
        "/invoices",
        "/calls/lookup",
    ],
)
def test_a_pasted_page_as_a_search_is_a_bounded_search(logged_in, session, url):
    factories.user(session, "100102", name="Sana0 Sana1")
    factories.ticket(session, text="sana0 sana1 sana2")
    response = logged_in.get(url, params={"q": PASTED_PAGE})
    assert response.status_code == 200, response.text[:300]


def test_the_user_search_uses_the_first_words_of_a_pasted_page(session):
    from helpdesk.services import people

    factories.user(session, "100102", name="Sana0 Sana1")
    assert [u.etunnus for u in people.search(session, "Sana0 Sana1")] == ["100102"]
    assert people.search(session, PASTED_PAGE) == []  # all words must match; no error


# --- a second click on undo or retry: real sessions, as in production ---------------------


@pytest.fixture
def queued(committed_url, data_dir):
    """A reply in the outbox, an agent logged in (Finnish), an English agent's token."""
    with new_session() as s:
        agent = factories.agent(s, language="fi")
        english = factories.agent(s, language="en")
        ticket = factories.ticket(s, mailbox=factories.mailbox(s))
        token = agent_service.create_token(s, agent=english)
    with Client(create_app(), base_url="http://testserver") as client:
        login(client, agent)
        sent = client.post(
            f"/tickets/{ticket.id}/replies",
            data={"body": "Hei", "csrf_token": client.csrf},
            follow_redirects=False,
        )
        assert sent.status_code == 303
        with new_session() as s:
            row = s.exec(select(OutboundMail)).one()
        yield client, row.id, token


def _fail(outbound_id: int) -> None:
    with new_session() as s:
        row = s.get(OutboundMail, outbound_id)
        row.status = DeliveryStatus.failed
        s.add(row)
        s.commit()


@pytest.mark.parametrize("action", ["cancel", "retry"])
def test_a_second_click_on_undo_or_retry_is_a_clear_409(queued, action):
    client, outbound_id, token = queued
    if action == "retry":
        _fail(outbound_id)
    url = f"/outbox/{outbound_id}/{action}"
    first = client.post(url, headers=_headers(client), follow_redirects=False)
    assert first.status_code == 303
    page = client.post(url, headers=_headers(client), follow_redirects=False)
    flash = client.post(url, headers={**_headers(client), "HX-Request": "true"})
    api_fi = client.post(f"/api/v1{url}", headers=_headers(client))
    api_en = client.post(f"/api/v1{url}", headers={"Authorization": f"Bearer {token}"})
    assert page.status_code == flash.status_code == api_fi.status_code == 409
    assert api_en.status_code == 409
    finnish = "Liian myöhäistä perua" if action == "cancel" else "Vain epäonnistuneen viestin"
    english = "Too late to undo" if action == "cancel" else "Only a failed mail"
    assert finnish in page.text and "<nav" in page.text  # the whole page, with its menu
    assert finnish in flash.text and flash.headers["HX-Retarget"] == "#flash"
    assert finnish in api_fi.json()["detail"] and api_fi.json()["code"] == "conflict"
    assert english in api_en.json()["detail"]


# --- one Idempotency-Key sent twice at once: threads, each with its own connection --------


@pytest.mark.parametrize("route", ["reply", "conversation"])
def test_the_same_idempotency_key_at_once_makes_one_mail(committed_url, data_dir, route):
    with new_session() as s:
        agent = factories.agent(s)
        mailbox = factories.mailbox(s)
        ticket = factories.ticket(s, mailbox=mailbox)
        token = agent_service.create_token(s, agent=agent)
    if route == "reply":
        url, body = f"/api/v1/tickets/{ticket.id}/replies", {"body": "Hei"}
    else:
        url = "/api/v1/tickets"
        body = {"mailbox": mailbox.address, "to": "a@example.fi", "subject": "S", "body": "Hei"}
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"same-{route}"}
    app = create_app()
    clicks = 4
    barrier = threading.Barrier(clicks)
    answers: list[tuple[int, dict[str, object]]] = []

    def send() -> None:
        with Client(app, base_url="http://testserver", raise_server_exceptions=False) as client:
            barrier.wait()
            response = client.post(url, json=body, headers=headers)
            answers.append((response.status_code, response.json()))

    threads = [threading.Thread(target=send) for _ in range(clicks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [status for status, _ in answers] == [201] * clicks
    assert len({str(answer["id"]) for _, answer in answers}) == 1  # all got the first's answer
    with new_session() as s:
        assert len(s.exec(select(OutboundMail)).all()) == 1


def test_a_value_longer_than_its_column_is_refused_not_a_server_error(logged_in, session):
    """The backstop behind the input types: PostgreSQL refuses a 500-character name in
    ``agent.name`` (200); SQLite does not enforce lengths and stores it."""
    response = logged_in.post(
        "/admin/agents",
        data={
            "email": "pitka@e-tunnus.fi",
            "name": "x" * 500,
            "password": "oikea-salasana-123",
            "csrf_token": logged_in.csrf,
        },
        follow_redirects=False,
    )
    if session.get_bind().dialect.name == "postgresql":
        assert response.status_code == 400
        assert "Arvo on liian pitkä" in response.text and "<nav" in response.text
    else:
        assert response.status_code == 303


def test_a_reply_body_nested_past_the_json_parser_is_a_422(logged_in, session):
    ticket = factories.ticket(session)
    response = logged_in.post(
        f"/api/v1/tickets/{ticket.id}/replies",
        content="[" * 100_000,
        headers={**_headers(logged_in), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == ""


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_a_call_time_that_leaves_the_calendar_in_utc_is_refused(logged_in, moment):
    api = logged_in.post(
        "/api/v1/calls",
        json={"phone": "040 123 4567", "started_at": moment},
        headers=_headers(logged_in),
    )
    assert api.status_code == 400
    page = logged_in.post(
        "/calls",
        data={
            "phone": "040 123 4567",
            "topic": "Kysyi laskusta",
            "started_at": moment[:16],
            "csrf_token": logged_in.csrf,
        },
        follow_redirects=False,
    )
    # The form again, the error beside the start time: year 1 leaves the calendar, 9999 is
    # in the future.
    assert page.status_code == 422 and 'data-testid="error-started_at"' in page.text


def test_a_reply_sent_as_a_plain_form_with_the_session_is_read_as_a_form(logged_in, session):
    """The CSRF check reads a form's token from the body before the route does: the route
    reads the same form again instead of a stream already consumed (a 500 before)."""
    ticket = factories.ticket(session, mailbox=factories.mailbox(session))
    response = logged_in.post(
        f"/api/v1/tickets/{ticket.id}/replies",
        data={"body": "Hei lomakkeelta", "csrf_token": logged_in.csrf},
    )
    assert response.status_code == 201, response.text
    assert "Hei lomakkeelta" in response.json()["text"]
    nul = logged_in.post(
        f"/api/v1/tickets/{ticket.id}/replies",
        data={"body": "a\x00b", "csrf_token": logged_in.csrf},
    )
    assert nul.status_code == 422 and nul.json()["errors"][0]["field"] == "body"


#: Every form field name the pages and the API read, each sent with one bad value at once.
FIELDS = [
    *("body", "to", "cc", "bcc", "token", "subject", "mailbox_id", "text", "status"),
    *("assignee", "etunnus", "name", "emails", "phones", "notes", "email", "password"),
    *("role", "next", "address", "display_name", "signature", "imap_host", "imap_user"),
    *("imap_password", "imap_security", "imap_folder", "sent_folder", "smtp_host"),
    *("smtp_user", "smtp_password", "smtp_security", "title", "reply_id", "active", "phone"),
    *("user", "direction", "started_at", "duration", "topic", "q", "method", "reason", "key"),
    *("back", "checks", "other", "message", "state", "saved_reply_id", "last_message_id"),
    *("confirm", "include_quote", "ticket_id"),
]
#: Routes left out: they end this agent's session (its own row, language, login, logout,
#: ending one's own session or changing one's password), or call Netvisor (the sync) and
#: so wait for its retries.
NOT_FUZZED = {
    "/admin/agents/{agent_id}",
    "/language",
    "/login",
    "/logout",
    "/profile/sessions/{session_id}/revoke",
    "/profile/password",
    "/invoices/sync",
}
FORM_ROUTES = [r for r in all_routes() if r.method in UNSAFE and r.path not in NOT_FUZZED]


@pytest.mark.parametrize("route", route_params(FORM_ROUTES))
def test_a_form_of_bad_values_to_any_route_is_no_server_error(logged_in, session, route):
    ticket = factories.ticket(session, mailbox=factories.mailbox(session))
    user = factories.user(session, "100102")
    url = route.path.replace("{etunnus}", user.etunnus)
    url = re.sub(r"\{[^}]+\}", str(ticket.id), url)
    for value in ("a\x00b", "x" * (MAX_TEXT + 1), "9" * 30):
        data = dict.fromkeys(FIELDS, value) | {"csrf_token": logged_in.csrf}
        response = logged_in.request(route.method, url, data=data, follow_redirects=False)
        assert response.status_code < 500, (url, value[:5], response.text[:300])
        assert "/login" not in response.headers.get("location", "")  # still logged in


GET_ROUTES = [r for r in all_routes() if r.method == "GET" and r.path not in {"/logout"}]


@pytest.mark.parametrize("route", route_params(GET_ROUTES))
def test_a_query_of_bad_values_to_any_page_is_no_server_error(logged_in, session, route):
    ticket = factories.ticket(session, mailbox=factories.mailbox(session))
    url = re.sub(r"\{[^}]+\}", str(ticket.id), route.path.replace("{etunnus}", "100102"))
    names = [*FIELDS, "cursor", "day", "limit", "ticket"]
    for value in ("a\x00b", "x" * 5000, "9" * 30):
        params = dict.fromkeys(names if len(value) < 100 else names[:8], value)
        response = logged_in.get(url, params=params, follow_redirects=False)
        assert response.status_code < 500, (url, value[:5], response.text[:300])
    # A lone surrogate's UTF-8 form and a byte that starts no UTF-8 character.
    broken = "&".join(f"{name}=%ED%A0%80%FF" for name in names)
    response = logged_in.get(f"{url}?{broken}", follow_redirects=False)
    assert response.status_code < 500, (url, "broken UTF-8", response.text[:300])
