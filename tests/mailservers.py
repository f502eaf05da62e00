"""Real mail servers for tests: a private Dovecot (IMAP) and an aiosmtpd SMTP server.

Both listen on free loopback ports and live in temporary directories. The SMTP
server delivers what it accepts into the Dovecot mailboxes of its recipients, so a
reply sent by the helpdesk can be read back over IMAP exactly as a customer would.

Fixtures (load with ``pytest_plugins = ["mailservers"]`` in the root conftest, or
``from mailservers import *`` in a directory's conftest):

- ``dovecot``: one Dovecot per test session.
- ``mail_user``: factory making a fresh, unique Dovecot user per call.
- ``smtp_server``: an SMTP server per test, delivering into ``dovecot``.

Without the ``dovecot`` binary the fixtures fail; set ``HELPDESK_ALLOW_SKIP=1`` to
skip instead (CI installs Dovecot, so a missing binary there is a real failure).
"""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

# The servers live in their own modules; the names are re-exported for the tests that
# import them from here.
from dovecot_server import (
    DOVECOT_BINARY,
    DovecotServer,
    MailUser,
    StoredMessage,
)
from dovecot_server import MAIL_DOMAIN as MAIL_DOMAIN
from dovecot_server import free_port as free_port
from smtp_server import ReceivedMail, SmtpServer

__all__ = [
    "DovecotServer",
    "MailUser",
    "ReceivedMail",
    "SmtpServer",
    "StoredMessage",
    "dovecot",
    "mail_user",
    "pytest_runtest_makereport",
    "smtp_server",
]


# -- pytest fixtures ---------------------------------------------------------------

_servers: list[DovecotServer] = []
_user_counter = itertools.count(1)


def dovecot_binary() -> str | None:
    """The Dovecot to test with: $HELPDESK_DOVECOT, else the installed one."""
    configured = os.environ.get("HELPDESK_DOVECOT")
    candidates = [configured] if configured else [shutil.which("dovecot"), DOVECOT_BINARY]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def _require_dovecot() -> str:
    binary = dovecot_binary()
    if binary is not None:
        return binary
    message = "Dovecot is not installed (apt-get install dovecot-imapd)"
    if os.environ.get("HELPDESK_ALLOW_SKIP") == "1":
        pytest.skip(message)
    pytest.fail(message + "; set HELPDESK_ALLOW_SKIP=1 to skip these tests instead", pytrace=False)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """One Dovecot for the whole session; make users with ``mail_user``."""
    server = DovecotServer(_require_dovecot())
    _servers.append(server)
    server.start()
    try:
        yield server
    finally:
        _servers.remove(server)
        server.cleanup()


@pytest.fixture
def mail_user(dovecot: DovecotServer) -> Iterator[Callable[..., MailUser]]:
    """Factory: ``mail_user()`` or ``mail_user("asiakas")`` gives a fresh, unique user."""

    # A test may have killed or frozen the shared server; hand the next one a live one.
    dovecot.resume()
    if not dovecot.running:
        dovecot.start()

    def make(prefix: str = "user", password: str | None = None) -> MailUser:
        name = f"{prefix}-{next(_user_counter)}-{uuid.uuid4().hex[:6]}"
        secret = password or f"pw-{uuid.uuid4().hex[:10]}"
        dovecot.add_user(name, secret)
        return MailUser(name=name, password=secret, host=dovecot.host, port=dovecot.port)

    yield make
    dovecot.resume()
    if not dovecot.running:
        dovecot.start()


@pytest.fixture
def smtp_server(dovecot: DovecotServer) -> Iterator[SmtpServer]:
    """An SMTP server for one test that delivers ``<user>@example.fi`` into Dovecot."""
    server = SmtpServer(dovecot)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Attach the Dovecot log to the report of a failed test that used it."""
    report = yield
    if report.failed and "dovecot" in getattr(item, "fixturenames", ()) and _servers:
        title = "dovecot log"
        if all(name != title for name, _ in report.sections):
            report.sections.append((title, _servers[-1].log_text(tail=60)))
    return report
