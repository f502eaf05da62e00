"""The JSON API answers in the language of the agent behind the token, else in English."""

from __future__ import annotations

import factories
from sqlmodel import select

from helpdesk.models import ApiToken
from helpdesk.services import agents as agent_service


def _get(client, url, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(url, headers=headers)


def test_token_errors_follow_the_agents_language(session, client):
    finn = factories.agent(session, language="fi")
    english = factories.agent(session, language="en")
    fi_token = agent_service.create_token(session, agent=finn)
    en_token = agent_service.create_token(session, agent=english)

    assert _get(client, "/api/v1/tickets/999999", fi_token).json()["detail"] == "Tikettiä ei löydy."
    answer = _get(client, "/api/v1/tickets/999999", en_token)
    assert answer.status_code == 404
    assert answer.json()["detail"] == "No such ticket"


def test_unauthenticated_api_answers_in_english(client):
    answer = _get(client, "/api/v1/tickets", "hd_nonsense")
    assert answer.status_code == 401
    assert answer.json()["detail"] == "Authentication required"


def test_api_use_marks_the_token_used(session, client, admin):
    token = agent_service.create_token(session, agent=admin)
    assert _get(client, "/api/v1/tickets", token).status_code == 200
    row = session.exec(select(ApiToken)).one()
    session.refresh(row)
    assert row.last_used_at is not None
