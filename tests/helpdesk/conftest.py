"""Web fixtures: an app client bound to the test session, logged in or not."""

from __future__ import annotations

import re
from collections.abc import Iterator

import factories
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from helpdesk.models import Agent
from helpdesk.web.app import create_app
from helpdesk.web.deps import get_session

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class Client(TestClient):
    """A test client that remembers the page's CSRF token."""

    csrf: str = ""

    def refresh_csrf(self, path: str = "/login") -> str:
        found = CSRF_RE.search(self.get(path).text)
        assert found, "page has no CSRF token"
        self.csrf = found.group(1)
        return self.csrf

    def form(self, url: str, data: dict[str, str], **kwargs: object) -> object:
        return self.post(url, data={**data, "csrf_token": self.csrf}, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def app(session: Session) -> Iterator[object]:
    application = create_app()

    def shared_session() -> Iterator[Session]:
        yield session

    application.dependency_overrides[get_session] = shared_session
    yield application


@pytest.fixture
def client(app: object) -> Iterator[Client]:
    with Client(app, base_url="http://testserver") as c:  # type: ignore[arg-type]
        yield c


@pytest.fixture
def admin(session: Session) -> Agent:
    return factories.agent(session, admin=True, name="Anna Admin")


def login(client: Client, agent: Agent, password: str = factories.PASSWORD) -> Client:
    client.refresh_csrf("/login")
    response = client.form(
        "/login",
        {"email": agent.email, "password": password, "next": "/tickets"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text  # type: ignore[attr-defined]
    client.refresh_csrf("/tickets")
    return client


@pytest.fixture
def logged_in(client: Client, admin: Agent) -> Client:
    return login(client, admin)
