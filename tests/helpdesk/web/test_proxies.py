"""X-Forwarded-For counts only from the proxies named in HELPDESK_TRUSTED_PROXIES."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import ValidationError
from sqlmodel import Session, select
from webclient import Client

from helpdesk.models import AuditEvent
from helpdesk.settings import Settings, get_settings
from helpdesk.web.app import create_app
from helpdesk.web.deps import get_session


@pytest.fixture
def make_client(session: Session, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    opened: list[Client] = []

    def make(peer: str, trusted: list[str]) -> Client:
        monkeypatch.setattr(get_settings(), "trusted_proxies", trusted)
        app = create_app()
        app.dependency_overrides[get_session] = lambda: session
        client = Client(app, base_url="http://testserver", client=(peer, 40000))
        opened.append(client.__enter__())
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


def _wrong_login(client: Client, email: str, forwarded: str | None) -> int:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    client.refresh_csrf("/login")
    response = client.post(
        "/login",
        data={"email": email, "password": "väärin-123", "csrf_token": client.csrf},
        headers=headers,
    )
    return response.status_code


def _failed_ips(session: Session) -> list[str]:
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "login.failed"))
    return [e.details.get("ip") for e in events]


def test_by_default_the_header_is_ignored(session, make_client, admin):
    client = make_client("10.0.0.5", [])
    assert _wrong_login(client, admin.email, "203.0.113.9") == 400
    assert _failed_ips(session) == ["10.0.0.5"]


def test_a_trusted_proxy_names_the_client(session, make_client, admin):
    proxy = make_client("10.0.0.5", ["10.0.0.0/8", "::1"])
    assert _wrong_login(proxy, admin.email, "203.0.113.9") == 400
    # A chain: the rightmost address that is not a trusted proxy is the client.
    assert _wrong_login(proxy, admin.email, "198.51.100.1, 203.0.113.10, 10.0.0.7") == 400
    stranger = make_client("192.0.2.1", ["10.0.0.0/8"])
    assert _wrong_login(stranger, admin.email, "203.0.113.11") == 400
    assert _failed_ips(session) == ["203.0.113.9", "203.0.113.10", "192.0.2.1"]


def test_the_throttle_counts_the_real_client(session, make_client, admin, monkeypatch):
    monkeypatch.setattr(get_settings(), "login_max_failures", 2)
    proxy = make_client("10.0.0.5", ["10.0.0.5"])
    assert [_wrong_login(proxy, admin.email, "203.0.113.9") for _ in range(3)] == [400, 400, 429]
    # Another client behind the same proxy is not locked out by the first one.
    assert _wrong_login(proxy, admin.email, "198.51.100.7") == 400
    # Without trust, a client that makes up a new header each time is still one client.
    direct = make_client("192.0.2.1", [])
    codes = [_wrong_login(direct, admin.email, f"203.0.113.{n}") for n in range(20, 23)]
    assert codes == [400, 400, 429]


@pytest.mark.parametrize("value", ['["proxy.example"]', '["10.0.0.0/33"]', '["*"]'])
def test_trusted_proxies_must_be_addresses_or_networks(monkeypatch, value):
    monkeypatch.setenv("HELPDESK_TRUSTED_PROXIES", value)
    with pytest.raises(ValidationError, match="HELPDESK_TRUSTED_PROXIES"):
        Settings()


def test_trusted_proxies_from_the_environment(monkeypatch):
    monkeypatch.setenv("HELPDESK_TRUSTED_PROXIES", '["10.0.0.0/8", "192.0.2.1"]')
    assert Settings().trusted_proxies == ["10.0.0.0/8", "192.0.2.1"]
    monkeypatch.delenv("HELPDESK_TRUSTED_PROXIES")
    assert Settings().trusted_proxies == []

