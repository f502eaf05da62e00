"""A live server and Debian's Chromium (Playwright) for browser tests.

Loaded for every test through ``pytest_plugins`` in the root conftest. Fixtures:

- ``live_server``: the app from ``create_app()`` served by uvicorn in a thread on a free
  port, on the ``committed_url`` database (the server's thread must see committed data,
  so set up rows with ``helpdesk.db.new_session()`` and commit, not with ``session``).
- ``chromium``: one headless Chromium per test module.
- ``page``: a fresh browser context (Finnish locale, Helsinki time) and page per test.
- ``browser_login(page, server, agent)``: log an agent in through the login form.

Mark browser tests with ``@pytest.mark.browser``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import factories
import pytest
import uvicorn

from helpdesk.models import Agent
from helpdesk.web.app import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass(frozen=True)
class LiveServer:
    url: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(committed_url: str) -> Iterator[LiveServer]:
    """The web app on a real port, in a thread, using the committed test database."""
    # A free port can be taken by another process before uvicorn binds it: then the thread
    # ends at once, and a new port is tried (three times at most).
    for _attempt in range(3):
        port = _free_port()
        config = uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="live-server", daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while not server.started and thread.is_alive():
            if time.monotonic() > deadline:
                raise RuntimeError("the live server did not start")
            time.sleep(0.02)
        if server.started:
            break
    else:
        raise RuntimeError("the live server did not start")
    yield LiveServer(f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright, headless, one per test module.

    Not per session: Playwright's sync API allows one running instance per thread, and
    tests that start their own would fail while a session-wide one is still open.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A page in a fresh context: no cookies, Finnish locale, Helsinki time."""
    context = chromium.new_context(locale="fi-FI", timezone_id="Europe/Helsinki")
    context.set_default_timeout(10_000)
    # A page load waits longer than an element: on a loaded machine the live server's first
    # answer (migrated database, templates compiled) has been seen to take over 10 s.
    context.set_default_navigation_timeout(30_000)
    tab = context.new_page()
    yield tab
    context.close()


def browser_login(
    page: Any, server: LiveServer, agent: Agent, password: str = factories.PASSWORD
) -> None:
    """Log in through the form and wait for the inbox."""
    page.goto(f"{server.url}/login")
    page.fill("input[name=email]", agent.email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/tickets**")
