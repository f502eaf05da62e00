"""The profile page: my login sessions and API tokens, each revocable, and my password."""

from __future__ import annotations

import factories
from sqlmodel import select
from webclient import Client, login

from helpdesk.models import AgentSession, ApiToken
from helpdesk.services import agents as agent_service


def _api_status(client: Client, token: str) -> int:
    return client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {token}"}).status_code


def _sessions(session, agent) -> list[AgentSession]:
    query = select(AgentSession).where(AgentSession.agent_id == agent.id)
    return list(session.exec(query.order_by(AgentSession.id)))


def test_profile_lists_my_sessions_and_tokens_only(app, session, logged_in, admin):
    agent_service.create_token(session, agent=admin, name="raporttiskripti")
    other = factories.agent(session)
    agent_service.create_token(session, agent=other, name="toisen-avain")
    with Client(app, base_url="http://testserver") as phone:
        login(phone, admin)
        page = logged_in.get("/profile")
    assert page.status_code == 200
    assert "Kirjautumiset" in page.text and "API-avaimet" in page.text
    assert page.text.count('data-testid="session-') == 2
    assert page.text.count("Tämä istunto") == 1
    assert "raporttiskripti" in page.text and "toisen-avain" not in page.text
    assert 'href="/profile"' in logged_in.get("/tickets").text


def test_profile_in_english(session, logged_in):
    logged_in.form("/language", {"language": "en", "next": "/profile"})
    page = logged_in.get("/profile")
    assert "Signed-in sessions" in page.text and "This session" in page.text
    assert "No API tokens." in page.text


def test_ending_another_session_from_the_profile(app, session, logged_in, admin):
    with Client(app, base_url="http://testserver") as phone:
        login(phone, admin)
        _mine, theirs = _sessions(session, admin)
        response = logged_in.form(f"/profile/sessions/{theirs.id}/revoke", {})
        assert response.status_code == 200
        assert phone.get("/tickets", follow_redirects=False).status_code == 303
        assert logged_in.get("/tickets", follow_redirects=False).status_code == 200
    assert f'data-testid="session-{theirs.id}"' not in logged_in.get("/profile").text


def test_ending_this_session_from_the_profile_logs_out(session, logged_in, admin):
    (mine,) = _sessions(session, admin)
    response = logged_in.form(f"/profile/sessions/{mine.id}/revoke", {}, follow_redirects=False)
    assert response.headers["location"] == "/login"
    assert logged_in.get("/tickets", follow_redirects=False).status_code == 303


def test_revoking_a_token_from_the_profile(session, logged_in, admin):
    token = agent_service.create_token(session, agent=admin, name="skripti")
    row = session.exec(select(ApiToken)).one()
    assert _api_status(logged_in, token) == 200
    page = logged_in.form(f"/profile/tokens/{row.id}/revoke", {})
    assert page.status_code == 200 and "Mitätöity" in page.text
    assert _api_status(logged_in, token) == 401


def test_someone_elses_session_or_token_cannot_be_revoked(app, session, logged_in):
    other = factories.agent(session)
    token = agent_service.create_token(session, agent=other)
    token_row = session.exec(select(ApiToken)).one()
    with Client(app, base_url="http://testserver") as theirs:
        login(theirs, other)
        (their_session,) = _sessions(session, other)
        assert logged_in.form(f"/profile/sessions/{their_session.id}/revoke", {}).status_code == 404
        assert logged_in.form(f"/profile/tokens/{token_row.id}/revoke", {}).status_code == 404
        assert logged_in.form("/profile/tokens/999999/revoke", {}).status_code == 404
        assert theirs.get("/tickets", follow_redirects=False).status_code == 200
        assert _api_status(theirs, token) == 200


def test_changing_my_password_ends_the_rest_and_keeps_this_session(app, session, logged_in, admin):
    token = agent_service.create_token(session, agent=admin)
    with Client(app, base_url="http://testserver") as phone:
        login(phone, admin)
        wrong = logged_in.form(
            "/profile/password",
            {"current_password": "väärä-salasana", "new_password": "uusi-salasana-789"},
        )
        assert wrong.status_code == 400 and "Nykyinen salasana on väärä" in wrong.text
        assert phone.get("/tickets", follow_redirects=False).status_code == 200
        done = logged_in.form(
            "/profile/password",
            {"current_password": factories.PASSWORD, "new_password": "uusi-salasana-789"},
        )
        assert done.status_code == 200
        assert logged_in.get("/tickets", follow_redirects=False).status_code == 200
        assert phone.get("/tickets", follow_redirects=False).status_code == 303
        assert _api_status(logged_in, token) == 401
        login(phone, admin, password="uusi-salasana-789")
