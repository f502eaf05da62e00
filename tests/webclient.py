"""A test client for the web app that carries the session's CSRF token."""

from __future__ import annotations

import re

import factories
from fastapi.testclient import TestClient

from helpdesk.models import Agent

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
