"""``helpdesk dev``: quiet background services and the login banner repeated once all listen."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import Iterator, Sequence

import pytest
from sqlmodel import Session

from helpdesk.cli import devserver
from helpdesk.cli import main as cli_main
from helpdesk.hookspecs import DevService
from helpdesk.services import demo, mailboxes


def test_banner_names_the_url_and_the_demo_login():
    text = devserver.banner("127.0.0.1", 8077)
    assert "http://127.0.0.1:8077/" in text
    assert devserver.DEMO_ADMIN_EMAIL in text and devserver.DEMO_ADMIN_PASSWORD in text


def test_service_ports_cover_the_web_server_and_the_sandboxes():
    services, _env = devserver.plan(devserver.background())
    ports = devserver.service_ports("127.0.0.1", 8077, services)
    assert ports[0] == ("127.0.0.1", 8077)
    # The mail sink always, on the port chosen for it; the invoice plugin adds its sandboxes.
    (sink,) = [s for s in services if s.name == devserver.MAIL_SINK]
    assert ("127.0.0.1", devserver.port_of(sink)) in ports
    assert all(port > 0 for _host, port in ports)


@contextlib.contextmanager
def listening(ports: Sequence[int]) -> Iterator[None]:
    """Stand in for the services of a running checkout: listen on ``ports``."""
    with contextlib.ExitStack() as stack:
        for port in ports:
            listener = stack.enter_context(socket.socket())
            listener.bind(("127.0.0.1", port))
            listener.listen()
        yield


SANDBOX = DevService("sandbox", ("sandbox", "--port", "0"), {"SANDBOX_URL": "http://x:{port}"})
FIXED = DevService("fixed", ("fixed", "--port", "9123", "--flag"), {"FIXED_URL": "at {port}"})


def test_plan_picks_a_free_port_for_port_0_and_keeps_a_given_one():
    services, env = devserver.plan([*devserver.CORE_SERVICES, SANDBOX, FIXED], avoid=(8000,))
    ports = [devserver.port_of(s) for s in services]
    chosen = [p for p in ports if p]
    assert len(set(chosen)) == len(chosen) == 3 and 8000 not in chosen
    sandbox_port = devserver.port_of(services[-2])
    assert env == {"SANDBOX_URL": f"http://x:{sandbox_port}", "FIXED_URL": "at 9123"}
    assert services[-1].args == FIXED.args  # a port from the settings stays as given
    assert devserver.port_of(DevService("worker", ("worker",))) is None


def test_two_dev_set_ups_side_by_side_get_different_ports():
    first, first_env = devserver.plan([*devserver.CORE_SERVICES, SANDBOX])
    first_ports = [p for p in map(devserver.port_of, first) if p]
    with listening(first_ports):  # the first checkout's services run
        second, second_env = devserver.plan([*devserver.CORE_SERVICES, SANDBOX])
    second_ports = [p for p in map(devserver.port_of, second) if p]
    assert len(first_ports) == len(second_ports) == 2
    assert not set(first_ports) & set(second_ports)
    assert first_env["SANDBOX_URL"] != second_env["SANDBOX_URL"]


def test_prepare_points_the_app_children_and_demo_mailboxes_at_the_chosen_ports(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    address, name, signature = demo.MAILBOXES[0]
    box = mailboxes.add_mailbox(
        session, address=address, display_name=name, signature=signature, **demo.DEMO_SMTP
    )
    other = mailboxes.add_mailbox(
        session, address="muu@example.fi", display_name="Muu", smtp_host="smtp.example.fi"
    )
    other_port = other.smtp_port
    monkeypatch.setenv("SANDBOX_URL", "before")  # restored after the test
    monkeypatch.setattr(devserver, "background", lambda: [*devserver.CORE_SERVICES, SANDBOX])

    first = devserver.prepare(8000)
    first_ports = [p for p in map(devserver.port_of, first) if p]
    first_url = os.environ["SANDBOX_URL"]
    (sink,) = [devserver.port_of(s) for s in first if s.name == devserver.MAIL_SINK]
    session.refresh(box)
    assert box.smtp_port == sink and first_url.endswith(f":{first_ports[1]}")
    with listening(first_ports):  # a second `helpdesk dev` beside the first
        second = devserver.prepare(8001)
    second_ports = [p for p in map(devserver.port_of, second) if p]
    assert not set(first_ports) & set(second_ports)
    assert os.environ["SANDBOX_URL"].endswith(f":{second_ports[1]}")
    session.refresh(box)
    session.refresh(other)
    assert box.smtp_port == second_ports[0] and other.smtp_port == other_port


def test_wait_for_ports_sees_a_listener_and_gives_up_on_a_closed_port():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        address = listener.getsockname()
        assert devserver.wait_for_ports([address], timeout=2)
    # Nothing listens there any more.
    assert not devserver.wait_for_ports([address], timeout=0.5)


def test_cli_quiets_per_request_loggers_unless_verbose():
    names = ("httpx", "httpcore", "mail.log")
    try:
        cli_main(verbose=False)
        assert all(logging.getLogger(n).level == logging.WARNING for n in names)
    finally:
        for name in names:
            logging.getLogger(name).setLevel(logging.NOTSET)
