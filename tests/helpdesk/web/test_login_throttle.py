"""The login throttle under parallel requests, against a live server on each database."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import factories
import httpx
import pytest
from sqlmodel import select

from helpdesk import security
from helpdesk.db import new_session
from helpdesk.models import AuditEvent
from helpdesk.services import agents as agent_service
from helpdesk.settings import get_settings

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
PARALLEL = 10


def _login_form(base: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base, follow_redirects=False, timeout=60)
    found = CSRF_RE.search(client.get("/login").text)
    assert found
    return client, found.group(1)


def test_parallel_wrong_logins_are_evaluated_no_more_than_the_limit(
    live_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "login_max_failures", 3)
    with new_session() as session:
        agent = factories.agent(session)
        email = agent.email

    checked: list[str] = []
    lock = threading.Lock()
    real_verify = security.verify_password

    def slow_verify(password: str, password_hash: str | None) -> bool:
        # Each check takes a while, so all the parallel tries are in flight at once: a
        # throttle that reads a count and writes failures later lets them all through.
        with lock:
            checked.append(password)
        time.sleep(0.3)
        return real_verify(password, password_hash)

    monkeypatch.setattr(agent_service, "verify_password", slow_verify)
    forms = [_login_form(live_server.url) for _ in range(PARALLEL)]
    start = threading.Barrier(PARALLEL)

    def attempt(form: tuple[httpx.Client, str]) -> int:
        client, csrf = form
        start.wait()
        response = client.post(
            "/login", data={"email": email, "password": "väärin-123", "csrf_token": csrf}
        )
        client.close()
        return response.status_code

    with ThreadPoolExecutor(PARALLEL) as pool:
        codes = list(pool.map(attempt, forms))

    assert len(checked) == 3
    assert sorted(codes) == [400] * 3 + [429] * (PARALLEL - 3)
    with new_session() as session:
        failed = session.exec(select(AuditEvent).where(AuditEvent.action == "login.failed"))
        assert len(list(failed)) == 3
    # The right password is refused too while the window lasts.
    client, csrf = _login_form(live_server.url)
    right = client.post(
        "/login", data={"email": email, "password": factories.PASSWORD, "csrf_token": csrf}
    )
    client.close()
    assert right.status_code == 429
    assert len(checked) == 3
