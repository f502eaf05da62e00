"""Login, sessions and tokens: nothing but the login page and the health check is public."""

from __future__ import annotations

import json
from datetime import timedelta

import factories
import pytest
from itsdangerous import Signer
from sqlmodel import select
from webclient import Client, login
from webroutes import protected_routes, route_params

from helpdesk.db import transaction
from helpdesk.models import AgentSession, ApiToken, AuditEvent, utcnow
from helpdesk.security import token_digest
from helpdesk.services import access
from helpdesk.services import agents as agent_service
from helpdesk.settings import get_settings


def _events(session, action):
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)))


def test_every_route_is_enumerated():
    paths = {r.path for r in protected_routes()}
    # The enumeration reaches into included routers (a regression here would cover nothing).
    assert {"/tickets", "/tickets/{ticket_id}", "/api/v1/tickets", "/admin/agents"} <= paths
    assert "/api/v1/openapi.json" in paths


@pytest.mark.parametrize("route", route_params(protected_routes()))
def test_unauthenticated_requests_are_refused(client, route):
    response = client.request(route.method, route.url, follow_redirects=False)
    if route.path.startswith("/api/v1/"):
        assert response.status_code == 401, response.text
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["code"] == "unauthenticated"
    elif route.method == "GET":
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")
    else:
        # Unsafe page requests without a session fail the CSRF check before anything else.
        assert response.status_code in (303, 403)


def test_login_and_healthz_are_public(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    page = client.get("/login")
    assert page.status_code == 200
    assert 'name="csrf_token"' in page.text


def test_login_redirect_keeps_the_target(client, admin):
    response = client.get("/tickets?status=closed", follow_redirects=False)
    assert response.headers["location"] == "/login?next=/tickets%3Fstatus%3Dclosed"
    client.refresh_csrf("/login")
    done = client.form(
        "/login",
        {"email": admin.email, "password": factories.PASSWORD, "next": "/tickets?status=closed"},
        follow_redirects=False,
    )
    assert done.headers["location"] == "/tickets?status=closed"


def test_htmx_request_without_login_gets_hx_redirect(client):
    response = client.get("/tickets", headers={"HX-Request": "true"}, follow_redirects=False)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "javascript:alert(1)",
        "\\\\evil.example",
    ],
)
def test_login_refuses_open_redirects(client, admin, target):
    client.refresh_csrf("/login")
    response = client.form(
        "/login",
        {"email": admin.email, "password": factories.PASSWORD, "next": target},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/tickets"
    page = client.get("/login", params={"next": target})
    assert 'name="next" value="/tickets"' in page.text


def test_session_cookie_is_httponly_and_samesite_lax(client, admin):
    client.refresh_csrf("/login")
    response = client.form(
        "/login", {"email": admin.email, "password": factories.PASSWORD}, follow_redirects=False
    )
    cookies = [c.lower() for c in response.headers.get_list("set-cookie")]
    (cookie,) = [c for c in cookies if c.startswith("helpdesk_session=")]
    assert "httponly" in cookie
    assert "samesite=lax" in cookie


def _session_cookie(client) -> str:
    return client.cookies["helpdesk_session"]


def test_the_cookie_holds_only_an_opaque_session_id(session, logged_in, admin):
    value = _session_cookie(logged_in)
    kind, _, token = Signer(get_settings().secret_key, salt="helpdesk.session").unsign(
        value
    ).decode().partition(".")
    assert kind == "s"
    # Nothing of the password hash, no agent id: only the id the table keeps a hash of.
    assert admin.password_hash[-16:] not in value and admin.password_hash[-8:] not in value
    assert json.dumps({"agent_id": admin.id})[1:-1] not in value
    row = session.exec(select(AgentSession)).one()
    assert row.token_sha256 == token_digest(token) and token not in row.token_sha256
    assert row.agent_id == admin.id and row.revoked_at is None


def test_a_cookie_copied_before_logout_stops_working(app, session, logged_in, admin):
    copied = _session_cookie(logged_in)
    assert logged_in.get("/tickets", follow_redirects=False).status_code == 200
    logged_in.form("/logout", {}, follow_redirects=False)
    with Client(app, base_url="http://testserver", cookies={"helpdesk_session": copied}) as thief:
        assert thief.get("/tickets", follow_redirects=False).status_code == 303
        assert thief.get("/api/v1/tickets").status_code == 401
    assert session.exec(select(AgentSession)).one().revoked_at is not None


def test_a_forged_or_unsigned_cookie_is_nobody(app, session, logged_in):
    row = session.exec(select(AgentSession)).one()
    for value in ["s." + row.token_sha256, _session_cookie(logged_in) + "x", "garbage"]:
        with Client(app, base_url="http://testserver", cookies={"helpdesk_session": value}) as c:
            assert c.get("/tickets", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    ("column", "ago"),
    [("last_seen_at", timedelta(hours=3)), ("expires_at", timedelta(seconds=1))],
    ids=["idle", "absolute"],
)
def test_sessions_end_at_the_idle_and_absolute_timeouts(session, logged_in, column, ago):
    row = session.exec(select(AgentSession)).one()
    assert logged_in.get("/tickets", follow_redirects=False).status_code == 200
    with transaction(session):
        setattr(row, column, utcnow() - ago)
        session.add(row)
    assert logged_in.get("/tickets", follow_redirects=False).status_code == 303


def test_last_seen_is_written_only_every_few_minutes(session, logged_in):
    row = session.exec(select(AgentSession)).one()
    first = row.last_seen_at
    for _ in range(3):
        assert logged_in.get("/tickets").status_code == 200
    session.refresh(row)
    assert row.last_seen_at == first
    with transaction(session):
        row.last_seen_at = utcnow() - access.SESSION_TOUCH_INTERVAL - timedelta(seconds=1)
        session.add(row)
    stale = row.last_seen_at
    assert logged_in.get("/tickets").status_code == 200
    session.refresh(row)
    assert row.last_seen_at > stale + access.SESSION_TOUCH_INTERVAL


def test_login_gets_a_fresh_csrf_token(client, admin):
    before = client.refresh_csrf("/login")
    login(client, admin)
    assert client.csrf != before


def test_wrong_password_is_refused_and_audited(client, session, admin):
    client.refresh_csrf("/login")
    response = client.form("/login", {"email": admin.email, "password": "väärä-salasana"})
    assert response.status_code == 400
    assert client.get("/tickets", follow_redirects=False).status_code == 303
    failed = _events(session, "login.failed")
    assert [e.object_id for e in failed] == [admin.email]


def test_login_and_logout_are_audited(session, logged_in, admin):
    assert [e.agent_id for e in _events(session, "login")] == [admin.id]
    response = logged_in.form("/logout", {}, follow_redirects=False)
    assert response.headers["location"] == "/login"
    assert [e.agent_id for e in _events(session, "logout")] == [admin.id]
    assert logged_in.get("/tickets", follow_redirects=False).status_code == 303


def test_login_is_throttled_after_repeated_failures(client, session, admin, monkeypatch):
    monkeypatch.setattr(get_settings(), "login_max_failures", 3)
    client.refresh_csrf("/login")
    for _ in range(3):
        bad = client.form("/login", {"email": admin.email, "password": "väärin-1234"})
        assert bad.status_code == 400
    # Even the right password is refused while the address is throttled.
    right = client.form("/login", {"email": admin.email.upper(), "password": factories.PASSWORD})
    assert right.status_code == 429
    assert client.get("/tickets", follow_redirects=False).status_code == 303
    assert len(_events(session, "login.throttled")) == 1
    # Other agents are not locked out by someone guessing this address.
    other = factories.agent(session)
    login(client, other)


def test_inactive_agent_cannot_log_in_and_is_logged_out(session, client, admin):
    other = factories.agent(session)
    login(client, other)
    agent_service.update_agent(session, agent=other, by=admin, active=False)
    assert client.get("/tickets", follow_redirects=False).status_code == 303
    client.refresh_csrf("/login")
    again = client.form("/login", {"email": other.email, "password": factories.PASSWORD})
    assert again.status_code == 400


def test_password_change_ends_other_sessions(session, client, admin):
    login(client, admin)
    assert client.get("/tickets").status_code == 200
    agent_service.update_agent(session, agent=admin, by=admin, password="uusi-salasana-456")
    assert client.get("/tickets", follow_redirects=False).status_code == 303
    login(client, admin, password="uusi-salasana-456")
    assert client.get("/tickets").status_code == 200


def _api_ok(client, token) -> bool:
    response = client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {token}"})
    return response.status_code == 200


def test_own_password_change_keeps_this_session_and_ends_the_rest(app, session, logged_in, admin):
    token = agent_service.create_token(session, agent=admin, name="skripti")
    with Client(app, base_url="http://testserver") as elsewhere:
        login(elsewhere, admin)
        response = logged_in.form(
            f"/admin/agents/{admin.id}",
            {"name": admin.name, "role": "admin", "active": "on", "password": "uusi-salasana-456"},
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert logged_in.get("/tickets", follow_redirects=False).status_code == 200
        assert elsewhere.get("/tickets", follow_redirects=False).status_code == 303
    assert not _api_ok(logged_in, token)


def test_deactivation_ends_sessions_and_tokens_at_once(app, session, admin):
    other = factories.agent(session)
    token = agent_service.create_token(session, agent=other)
    with Client(app, base_url="http://testserver") as browser:
        login(browser, other)
        assert _api_ok(browser, token)
        agent_service.deactivate(session, agent=other, by=admin)
        assert browser.get("/tickets", follow_redirects=False).status_code == 303
        assert not _api_ok(browser, token)
        # Reactivating does not bring them back: they were revoked, not only refused.
        agent_service.update_agent(session, agent=other, by=admin, active=True)
        assert browser.get("/tickets", follow_redirects=False).status_code == 303
        assert not _api_ok(browser, token)
    rows = session.exec(select(AgentSession).where(AgentSession.agent_id == other.id)).all()
    assert rows and all(r.revoked_at is not None for r in rows)
    (event,) = [e for e in _events(session, "agent.update") if e.details.get("active") is False]
    assert event.details["access_ended"] == 2


def test_expired_tokens_are_refused(session, client, admin):
    token = agent_service.create_token(session, agent=admin, valid_days=1)
    assert _api_ok(client, token)
    row = session.exec(select(ApiToken)).one()
    with transaction(session):
        row.expires_at = utcnow() - timedelta(seconds=1)
        session.add(row)
    assert not _api_ok(client, token)


def test_bearer_token_authenticates_the_api(session, client, admin):
    token = agent_service.create_token(session, agent=admin, name="test")
    box = factories.mailbox(session)
    factories.ticket(session, mailbox=box, subject="Token näkee tämän")
    response = client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert [t["subject"] for t in response.json()["items"]] == ["Token näkee tämän"]
    # Only the hash is stored.
    stored = session.exec(select(ApiToken)).one()
    assert token not in stored.token_sha256


def test_unknown_revoked_and_inactive_tokens_are_refused(session, client, admin):
    url = "/api/v1/tickets"
    assert client.get(url, headers={"Authorization": "Bearer hd_nonsense"}).status_code == 401
    assert client.get(url, headers={"Authorization": "Basic Zm9vOmJhcg=="}).status_code == 401

    token = agent_service.create_token(session, agent=admin)
    row = session.exec(select(ApiToken)).one()
    row.revoked_at = utcnow()
    session.add(row)
    session.commit()
    assert client.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 401

    other = factories.agent(session)
    other_token = agent_service.create_token(session, agent=other)
    assert client.get(url, headers={"Authorization": f"Bearer {other_token}"}).status_code == 200
    agent_service.update_agent(session, agent=other, by=admin, active=False)
    assert client.get(url, headers={"Authorization": f"Bearer {other_token}"}).status_code == 401


def test_api_docs_need_a_login(client):
    assert client.get("/api/v1/openapi.json").status_code == 401
    assert client.get("/api/docs", follow_redirects=False).status_code == 303


def test_api_docs_for_logged_in_agents(logged_in):
    schema = logged_in.get("/api/v1/openapi.json").json()
    assert "/api/v1/tickets/{ticket_id}" in schema["paths"]
    docs = logged_in.get("/api/docs")
    assert docs.status_code == 200
    policy = docs.headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy
    assert "'sha256-" in policy
