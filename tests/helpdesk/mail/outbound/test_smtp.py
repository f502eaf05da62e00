"""helpdesk.mail.outbound.smtp against a real SMTP server that delivers into Dovecot."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from mailservers import DovecotServer, MailUser, SmtpServer, free_port

from helpdesk.mail.outbound.smtp import (
    SendResult,
    SmtpPermanentError,
    SmtpSettings,
    SmtpTemporaryError,
    send_raw,
)

pytestmark = pytest.mark.dovecot

MakeUser = Callable[..., MailUser]
SENDER = "tuki@helpdesk.example.fi"


def settings_for(server: SmtpServer, **overrides: object) -> SmtpSettings:
    values: dict[str, object] = {
        "host": server.host,
        "port": server.port,
        "username": None,
        "password": None,
        "security": "none",
        "timeout": 10.0,
        "helo_name": "helpdesk.test",
    }
    values.update(overrides)
    return SmtpSettings(**values)  # type: ignore[arg-type]


def reply(to: str, body: str = "Kiitos viestistäsi.") -> bytes:
    return (
        f"From: E-tunnus tuki <{SENDER}>\r\n"
        f"To: {to}\r\n"
        f"Subject: Re: Laskutus\r\n"
        f"Message-ID: <reply-{time.monotonic_ns()}@helpdesk.example.fi>\r\n"
        f"MIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: 8bit\r\n"
        f"\r\n"
        f"{body}\r\n"
        f".rivi joka alkaa pisteellä\r\n"
    ).encode()


def send_reply(server: SmtpServer, to: str) -> SendResult:
    """Send a reply addressed to ``to`` through ``server``, to that one recipient."""
    return send_raw(settings_for(server), envelope_from=SENDER, recipients=[to], raw=reply(to))


def test_sent_mail_arrives_byte_identical(
    smtp_server: SmtpServer, dovecot: DovecotServer, mail_user: MakeUser
) -> None:
    customer = mail_user("asiakas")
    raw = reply(customer.address)

    result = send_raw(
        settings_for(smtp_server), envelope_from=SENDER, recipients=[customer.address], raw=raw
    )

    assert result == SendResult(accepted=[customer.address], refused={})
    assert dovecot.fetch_all(customer.name) == [raw]
    [received] = smtp_server.received
    assert received.mail_from == SENDER
    assert received.rcpt_tos == (customer.address,)
    assert received.data == raw


def test_several_recipients_each_get_a_copy(
    smtp_server: SmtpServer, dovecot: DovecotServer, mail_user: MakeUser
) -> None:
    first, second = mail_user(), mail_user()
    raw = reply(first.address)
    send_raw(
        settings_for(smtp_server),
        envelope_from=SENDER,
        recipients=[first.address, second.address],
        raw=raw,
    )
    assert dovecot.fetch_all(first.name) == [raw]
    assert dovecot.fetch_all(second.name) == [raw]


def test_explicit_route(
    smtp_server: SmtpServer, dovecot: DovecotServer, mail_user: MakeUser
) -> None:
    user = mail_user()
    smtp_server.route("Matti.Meikalainen@Asiakas.fi", user.name)
    raw = reply("matti.meikalainen@asiakas.fi")
    send_raw(
        settings_for(smtp_server),
        envelope_from=SENDER,
        recipients=["matti.meikalainen@asiakas.fi"],
        raw=raw,
    )
    assert dovecot.fetch_all(user.name) == [raw]


def test_temporary_failure_at_data(
    smtp_server: SmtpServer, dovecot: DovecotServer, mail_user: MakeUser
) -> None:
    customer = mail_user()
    smtp_server.fail_next(451, "4.3.0 Jono täynnä, yritä myöhemmin")
    settings = settings_for(smtp_server)

    with pytest.raises(SmtpTemporaryError) as caught:
        send_raw(settings, envelope_from=SENDER, recipients=[customer.address], raw=reply("x"))
    assert caught.value.code == 451
    assert caught.value.stage == "data"
    assert "Jono täynnä" in caught.value.server_message
    assert "Jono täynnä" in str(caught.value)
    assert dovecot.fetch_all(customer.name) == []

    # The failure was for one attempt only: the retry goes through.
    send_raw(settings, envelope_from=SENDER, recipients=[customer.address], raw=reply("x"))
    assert len(dovecot.fetch_all(customer.name)) == 1


def test_permanent_failure_at_data(smtp_server: SmtpServer, mail_user: MakeUser) -> None:
    customer = mail_user()
    smtp_server.fail_next(554, "5.7.1 Message rejected as spam")
    with pytest.raises(SmtpPermanentError) as caught:
        send_raw(
            settings_for(smtp_server),
            envelope_from=SENDER,
            recipients=[customer.address],
            raw=reply("x"),
        )
    assert (caught.value.code, caught.value.stage) == (554, "data")
    assert "rejected as spam" in str(caught.value)


def test_one_refused_recipient_is_reported_and_others_delivered(
    smtp_server: SmtpServer, dovecot: DovecotServer, mail_user: MakeUser
) -> None:
    customer = mail_user()
    raw = reply(customer.address)
    result = send_raw(
        settings_for(smtp_server),
        envelope_from=SENDER,
        recipients=[customer.address, "eiole@example.fi"],
        raw=raw,
    )
    assert result.accepted == [customer.address]
    code, text = result.refused["eiole@example.fi"]
    assert code == 550
    assert "5.1.1" in text and "User unknown" in text
    assert dovecot.fetch_all(customer.name) == [raw]


def test_all_recipients_refused_is_permanent(smtp_server: SmtpServer, mail_user: MakeUser) -> None:
    customer = mail_user()
    smtp_server.reject_rcpt(customer.address, 550, "5.2.1 Mailbox disabled")
    with pytest.raises(SmtpPermanentError) as caught:
        send_reply(smtp_server, customer.address)
    assert caught.value.stage == "rcpt"
    assert caught.value.refused == {customer.address: (550, "5.2.1 Mailbox disabled")}
    assert "Mailbox disabled" in str(caught.value)


def test_temporarily_refused_recipient_is_temporary(
    smtp_server: SmtpServer, mail_user: MakeUser
) -> None:
    customer = mail_user()
    smtp_server.fail_next(450, "4.2.1 Greylisted, come back later", stage="rcpt")
    with pytest.raises(SmtpTemporaryError) as caught:
        send_reply(smtp_server, customer.address)
    assert caught.value.refused[customer.address][0] == 450
    assert "Greylisted" in str(caught.value)


def test_sender_refused(smtp_server: SmtpServer, mail_user: MakeUser) -> None:
    customer = mail_user()
    smtp_server.fail_next(553, "5.7.1 Sender address not owned by user", stage="mail")
    with pytest.raises(SmtpPermanentError) as caught:
        send_reply(smtp_server, customer.address)
    assert (caught.value.code, caught.value.stage) == (553, "mail")
    assert "not owned" in str(caught.value)


def test_server_down_is_temporary(
    smtp_server: SmtpServer, dovecot: DovecotServer, mail_user: MakeUser
) -> None:
    customer = mail_user()
    settings = settings_for(smtp_server, timeout=3.0)
    smtp_server.down()
    started = time.monotonic()
    with pytest.raises(SmtpTemporaryError) as caught:
        send_raw(settings, envelope_from=SENDER, recipients=[customer.address], raw=reply("x"))
    assert caught.value.stage == "connect"
    assert time.monotonic() - started < 3

    smtp_server.up()
    send_raw(settings, envelope_from=SENDER, recipients=[customer.address], raw=reply("x"))
    assert len(dovecot.fetch_all(customer.name)) == 1


def test_nothing_listening_is_temporary() -> None:
    settings = SmtpSettings("127.0.0.1", free_port(), None, None, "none", timeout=2.0)
    with pytest.raises(SmtpTemporaryError):
        send_raw(settings, envelope_from=SENDER, recipients=["a@example.fi"], raw=reply("a"))


def test_starttls_required_but_not_offered(smtp_server: SmtpServer) -> None:
    with pytest.raises(SmtpPermanentError) as caught:
        send_raw(
            settings_for(smtp_server, security="starttls"),
            envelope_from=SENDER,
            recipients=["a@example.fi"],
            raw=reply("a"),
        )
    assert caught.value.stage == "tls"
    assert "STARTTLS" in str(caught.value)


@pytest.fixture
def auth_smtp_server(dovecot: DovecotServer) -> Iterator[SmtpServer]:
    server = SmtpServer(dovecot, credentials=("tuki@helpdesk.example.fi", "sala-Sana_1"))
    server.start()
    yield server
    server.stop()


def test_login(auth_smtp_server: SmtpServer, dovecot: DovecotServer, mail_user: MakeUser) -> None:
    customer = mail_user()
    raw = reply(customer.address)
    settings = settings_for(
        auth_smtp_server, username="tuki@helpdesk.example.fi", password="sala-Sana_1"
    )
    send_raw(settings, envelope_from=SENDER, recipients=[customer.address], raw=raw)
    assert dovecot.fetch_all(customer.name) == [raw]
    assert auth_smtp_server.received[0].login == "tuki@helpdesk.example.fi"


def test_wrong_password_is_permanent_and_not_echoed(auth_smtp_server: SmtpServer) -> None:
    settings = settings_for(
        auth_smtp_server, username="tuki@helpdesk.example.fi", password="väärä-salasana"
    )
    with pytest.raises(SmtpPermanentError) as caught:
        send_raw(settings, envelope_from=SENDER, recipients=["a@example.fi"], raw=reply("a"))
    assert caught.value.stage == "auth"
    assert caught.value.code == 535
    assert "väärä-salasana" not in str(caught.value)


def test_missing_login_when_server_requires_it(auth_smtp_server: SmtpServer) -> None:
    with pytest.raises(SmtpPermanentError) as caught:
        send_raw(
            settings_for(auth_smtp_server),
            envelope_from=SENDER,
            recipients=["a@example.fi"],
            raw=reply("a"),
        )
    assert caught.value.code == 530


def test_no_recipients_is_a_programming_error(smtp_server: SmtpServer) -> None:
    with pytest.raises(ValueError):
        send_raw(settings_for(smtp_server), envelope_from=SENDER, recipients=[], raw=b"x")


def test_non_ascii_password(dovecot: DovecotServer, mail_user: MakeUser) -> None:
    server = SmtpServer(dovecot, credentials=("tuki", "pääsy-ÅÄÖ"))
    server.start()
    try:
        customer = mail_user()
        settings = settings_for(server, username="tuki", password="pääsy-ÅÄÖ")
        send_raw(settings, envelope_from=SENDER, recipients=[customer.address], raw=reply("a"))
        assert server.received[0].login == "tuki"
    finally:
        server.stop()
