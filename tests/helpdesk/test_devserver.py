"""``helpdesk dev``: quiet background services and the login banner repeated once all listen."""

from __future__ import annotations

import logging
import socket

from helpdesk.cli import devserver
from helpdesk.cli import main as cli_main


def test_banner_names_the_url_and_the_demo_login():
    text = devserver.banner("127.0.0.1", 8077)
    assert "http://127.0.0.1:8077/" in text
    assert devserver.DEMO_ADMIN_EMAIL in text and devserver.DEMO_ADMIN_PASSWORD in text


def test_service_ports_cover_the_web_server_and_the_sandboxes():
    ports = devserver.service_ports("127.0.0.1", 8077)
    assert ports[0] == ("127.0.0.1", 8077)
    # The mail sink always; the invoice plugin adds its sandboxes.
    assert ("127.0.0.1", 8025) in ports


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
