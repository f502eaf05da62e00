"""Agent services: creation, authentication with throttling, tokens, audited changes."""

from __future__ import annotations

from datetime import timedelta

import factories
import pytest
from sqlmodel import select

from helpdesk.db import reading, transaction
from helpdesk.models import ApiToken, AuditEvent, LoginThrottle, Role, utcnow
from helpdesk.services import agents as agent_service
from helpdesk.services.errors import Conflict, ServiceError
from helpdesk.settings import get_settings


def _actions(session) -> list[str]:
    return list(session.exec(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_create_agent_normalises_and_hashes(session):
    agent = agent_service.create_agent(
        session, email="  Liisa@E-Tunnus.fi ", name="Liisa", password="salasana-123"
    )
    assert agent.email == "liisa@e-tunnus.fi"
    assert agent.role == Role.agent and agent.active
    assert agent.password_hash.startswith("$argon2id$")
    assert "salasana-123" not in agent.password_hash
    assert _actions(session) == ["agent.create"]


@pytest.mark.parametrize(
    ("email", "password", "error"),
    [
        ("ei-osoite", "salasana-123", ServiceError),
        ("x@e-tunnus.fi", "lyhyt", ServiceError),
    ],
)
def test_create_agent_validates(session, email, password, error):
    with pytest.raises(error):
        agent_service.create_agent(session, email=email, name="X", password=password)


def test_duplicate_email_is_a_conflict(session):
    agent_service.create_agent(session, email="a@e-tunnus.fi", name="A", password="salasana-1")
    with pytest.raises(Conflict):
        agent_service.create_agent(session, email="A@e-tunnus.fi", name="B", password="salasana-2")


def test_authenticate(session):
    agent = factories.agent(session)
    assert (
        agent_service.authenticate(
            session, email=agent.email.upper(), password=factories.PASSWORD
        ).id
        == agent.id
    )
    assert agent.last_login_at is not None
    with pytest.raises(ServiceError) as wrong:
        agent_service.authenticate(session, email=agent.email, password="väärä-salasana")
    with pytest.raises(ServiceError) as unknown:
        agent_service.authenticate(session, email="ei@e-tunnus.fi", password="väärä-salasana")
    # The answer does not tell whether the address exists.
    assert wrong.value.message == unknown.value.message
    assert _actions(session)[-3:] == ["login", "login.failed", "login.failed"]


def test_throttle_counts_only_recent_failures(session, monkeypatch):
    monkeypatch.setattr(get_settings(), "login_max_failures", 2)
    agent = factories.agent(session)
    for _ in range(2):
        with pytest.raises(ServiceError):
            agent_service.authenticate(session, email=agent.email, password="väärin-123")
    with pytest.raises(agent_service.LoginThrottled):
        agent_service.authenticate(session, email=agent.email, password=factories.PASSWORD)
    # Once the window has passed, the right password works again.
    with transaction(session):
        for row in session.exec(select(LoginThrottle)):
            row.window_start = utcnow() - timedelta(seconds=get_settings().login_window_seconds + 1)
            session.add(row)
    assert agent_service.authenticate(session, email=agent.email, password=factories.PASSWORD)
    # Windows that are over are cleared by the next attempt; this login gave its own back.
    assert session.exec(select(LoginThrottle)).all() == []


def test_update_agent_audits_changes_without_secrets(session, admin):
    agent = factories.agent(session)
    agent_service.update_agent(
        session, agent=agent, by=admin, name="Uusi Nimi", role=Role.admin, password="uusi-salasana"
    )
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "agent.update")).one()
    assert event.agent_id == admin.id
    assert event.details == {"name": "Uusi Nimi", "role": "admin", "password": True}
    # Nothing changed: nothing audited.
    agent_service.update_agent(session, agent=agent, by=admin, name="Uusi Nimi")
    assert _actions(session).count("agent.update") == 1
    with pytest.raises(ServiceError):
        agent_service.update_agent(session, agent=agent, by=admin, password="lyhyt")


def test_tokens_are_stored_hashed_and_resolve_to_active_agents(session):
    agent = factories.agent(session)
    token = agent_service.create_token(session, agent=agent, name="skripti")
    row = session.exec(select(ApiToken)).one()
    assert token.startswith("hd_") and token not in row.token_sha256
    assert agent_service.agent_for_token(session, token).id == agent.id
    assert agent_service.agent_for_token(session, token + "x") is None
    row.revoked_at = utcnow()
    session.add(row)
    session.commit()
    assert agent_service.agent_for_token(session, token) is None
    assert "token.create" in _actions(session)


def test_token_use_is_recorded_at_most_once_per_interval_and_resolving_only_reads(session):
    agent = factories.agent(session)
    token = agent_service.create_token(session, agent=agent, name="skripti")
    row = session.exec(select(ApiToken)).one()
    # Resolving a token writes nothing: a GET with it stays a read.
    with reading(session):
        owner, found = agent_service.token_owner(session, token)
    assert owner.id == agent.id and found.id == row.id
    assert row.last_used_at is None and agent_service.token_needs_touch(row)
    agent_service.touch_token(session, row.id)
    session.refresh(row)
    first = row.last_used_at
    assert first is not None and utcnow() - first < timedelta(seconds=5)
    assert not agent_service.token_needs_touch(row)
    # A second touch within the interval writes nothing.
    agent_service.touch_token(session, row.id)
    session.refresh(row)
    assert row.last_used_at == first
    # After the interval the next touch moves it forward.
    row.last_used_at = utcnow() - agent_service.TOKEN_TOUCH_INTERVAL - timedelta(seconds=1)
    session.add(row)
    session.commit()
    assert agent_service.token_needs_touch(row)
    agent_service.touch_token(session, row.id)
    session.refresh(row)
    assert row.last_used_at is not None and row.last_used_at > first - timedelta(seconds=1)
    assert utcnow() - row.last_used_at < timedelta(seconds=5)


def test_throttle_is_per_address_and_client_ip(session, monkeypatch):
    """A stranger guessing from elsewhere cannot lock the agent out."""
    monkeypatch.setattr(get_settings(), "login_max_failures", 2)
    agent = factories.agent(session)
    for _ in range(2):
        with pytest.raises(ServiceError):
            agent_service.authenticate(
                session, email=agent.email, password="väärin-123", ip="203.0.113.9"
            )
    with pytest.raises(agent_service.LoginThrottled):
        agent_service.authenticate(
            session, email=agent.email, password=factories.PASSWORD, ip="203.0.113.9"
        )
    # The agent's own machine still logs in.
    assert agent_service.authenticate(
        session, email=agent.email, password=factories.PASSWORD, ip="192.0.2.10"
    )


def test_one_ip_trying_many_addresses_is_throttled(session, monkeypatch):
    monkeypatch.setattr(get_settings(), "login_max_failures", 5)
    monkeypatch.setattr(get_settings(), "login_max_failures_per_ip", 3)
    agent = factories.agent(session)
    for n in range(3):
        with pytest.raises(ServiceError):
            agent_service.authenticate(
                session, email=f"arvaus{n}@e-tunnus.fi", password="väärin-123", ip="203.0.113.9"
            )
    with pytest.raises(agent_service.LoginThrottled):
        agent_service.authenticate(
            session, email=agent.email, password=factories.PASSWORD, ip="203.0.113.9"
        )
    assert agent_service.authenticate(
        session, email=agent.email, password=factories.PASSWORD, ip="192.0.2.10"
    )
