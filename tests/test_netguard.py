"""The tests' network guard (tests/netguard.py) sees what it is there to see."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import netguard
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from helpdesk.db import transaction
from helpdesk.mail.outbound.smtp import SmtpError, SmtpSettings, send_raw


@pytest.fixture
def listener() -> Iterator[int]:
    """A loopback port that accepts connections and never greets."""
    server = socket.create_server(("127.0.0.1", 0))
    yield server.getsockname()[1]
    server.close()


def _send(port: int) -> None:
    settings = SmtpSettings(
        host="127.0.0.1", port=port, username=None, password=None, security="none", timeout=0.3
    )
    send_raw(settings, envelope_from="a@example.com", recipients=["b@example.com"], raw=b"x")


def _caught() -> list[str]:
    found, netguard._violations[:] = list(netguard._violations), []
    return found


def test_product_network_io_inside_a_unit_of_work_is_caught(session, listener) -> None:
    with pytest.raises(netguard.NetworkInTransaction), transaction(session):
        _send(listener)
    found = _caught()
    assert len(found) == 1
    assert "socket.connect" in found[0] and "helpdesk/mail/outbound/smtp.py" in found[0]


def test_after_the_unit_the_same_call_reaches_the_server(session, listener) -> None:
    with transaction(session):
        session.execute(text("SELECT 1"))
    with pytest.raises(SmtpError):  # the server never greets: a timeout, not the guard
        _send(listener)
    assert _caught() == []


def test_a_plain_transaction_that_wrote_is_caught_and_a_read_is_not(
    engine: Engine, committed_url: str, listener: int
) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT count(*) FROM agent")).scalar_one()
        with pytest.raises(SmtpError):  # only read so far: allowed
            _send(listener)
        conn.execute(text("DELETE FROM agent WHERE id = -1"))
        with pytest.raises(netguard.NetworkInTransaction):
            _send(listener)
        conn.rollback()
    assert len(_caught()) == 1
    with pytest.raises(SmtpError):  # the transaction has ended
        _send(listener)
    assert _caught() == []


def test_test_code_itself_may_talk_to_its_servers_inside_a_transaction(session, listener) -> None:
    with transaction(session):
        client = socket.create_connection(("127.0.0.1", listener), timeout=1)
        client.sendall(b"hello")
        client.close()
    assert _caught() == []
