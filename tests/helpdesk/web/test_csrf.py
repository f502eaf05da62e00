"""CSRF: every state-changing request made with the session cookie must carry the token."""

from __future__ import annotations

import factories
import pytest
from sqlmodel import select
from webclient import Client, login
from webroutes import route_params, unsafe_routes

from helpdesk.models import Message, MessageKind, Ticket, TicketStatus
from helpdesk.services import agents as agent_service
from helpdesk.web.deps import get_current_agent


def _send(client: Client, route, token: str | None):
    headers = {"X-CSRF-Token": token} if token else {}
    if route.is_api:
        return client.request(
            route.method, route.url, json={}, headers=headers, follow_redirects=False
        )
    return client.request(route.method, route.url, data={}, headers=headers, follow_redirects=False)


def _is_csrf_refusal(response) -> bool:
    if response.status_code != 403:
        return False
    if response.headers["content-type"].startswith("application/json"):
        return response.json().get("code") == "csrf"
    return "The form has expired" in response.text or "Lomake on vanhentunut" in response.text


def test_unsafe_routes_are_enumerated():
    paths = {(r.method, r.path) for r in unsafe_routes()}
    assert ("POST", "/tickets/{ticket_id}/notes") in paths
    assert ("PATCH", "/api/v1/tickets/{ticket_id}") in paths
    assert ("POST", "/login") in paths


@pytest.mark.parametrize("route", route_params(unsafe_routes()))
def test_session_request_without_token_is_refused(logged_in, route):
    response = _send(logged_in, route, token=None)
    assert response.status_code == 403, response.text
    assert _is_csrf_refusal(response)


@pytest.mark.parametrize("route", route_params(unsafe_routes()))
def test_session_request_with_wrong_token_is_refused(logged_in, route):
    wrong = ("y" if logged_in.csrf[0] == "x" else "x") + logged_in.csrf[1:]
    response = _send(logged_in, route, token=wrong)
    assert _is_csrf_refusal(response)


class PastTheCsrfCheck(Exception):
    """Raised in place of the login check, which runs after the CSRF check."""


@pytest.mark.parametrize("route", route_params(unsafe_routes()))
def test_session_request_with_token_passes_the_check(app, logged_in, route):
    # Stop each request at the auth dependency: reaching it proves the CSRF check let the
    # request through, without running the route (some routes start real work).
    def stop() -> None:
        raise PastTheCsrfCheck

    app.dependency_overrides[get_current_agent] = stop
    try:
        response = _send(logged_in, route, token=logged_in.csrf)
    except PastTheCsrfCheck:
        return
    assert not _is_csrf_refusal(response), response.text


def test_forged_note_changes_nothing(session, logged_in):
    ticket = factories.ticket(session)
    response = logged_in.post(f"/tickets/{ticket.id}/notes", data={"text": "väärennetty"})
    assert response.status_code == 403
    notes = session.exec(select(Message).where(Message.kind == MessageKind.note)).all()
    assert notes == []


def test_token_from_another_session_is_refused(session, app, logged_in):
    ticket = factories.ticket(session)
    other_agent = factories.agent(session)
    with Client(app, base_url="http://testserver") as other:
        login(other, other_agent)
        response = logged_in.post(
            f"/tickets/{ticket.id}/status",
            data={"status": "closed", "csrf_token": other.csrf},
        )
    assert response.status_code == 403
    session.refresh(ticket)
    assert ticket.status == TicketStatus.open


def test_htmx_header_token_is_accepted(session, logged_in):
    ticket = factories.ticket(session)
    response = logged_in.post(
        f"/tickets/{ticket.id}/status",
        data={"status": "pending"},
        headers={"X-CSRF-Token": logged_in.csrf, "HX-Request": "true"},
    )
    assert response.status_code == 200
    assert session.get(Ticket, ticket.id).status == TicketStatus.pending


def test_api_with_session_needs_the_header(session, logged_in):
    ticket = factories.ticket(session)
    refused = logged_in.patch(f"/api/v1/tickets/{ticket.id}", json={"status": "closed"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf"
    ok = logged_in.patch(
        f"/api/v1/tickets/{ticket.id}",
        json={"status": "closed"},
        headers={"X-CSRF-Token": logged_in.csrf},
    )
    assert ok.status_code == 200
    assert ok.json()["status"] == "closed"


def test_bearer_token_requests_need_no_csrf_token(session, client, admin):
    ticket = factories.ticket(session)
    token = agent_service.create_token(session, agent=admin)
    response = client.post(
        f"/api/v1/tickets/{ticket.id}/notes",
        json={"text": "Skriptin muistiinpano"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["text"] == "Skriptin muistiinpano"


def test_login_form_needs_the_token(session, client, admin):
    client.get("/login")
    response = client.post(
        "/login",
        data={"email": admin.email, "password": factories.PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert client.get("/tickets", follow_redirects=False).status_code == 303
