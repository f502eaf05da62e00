"""Filters: auto-reply, bounce, threading keys, and the runner."""

import logging
from pathlib import Path

import pytest

from helpdesk.mail.filters import DEFAULT_FILTERS, run_filters
from helpdesk.mail.filters.autoreply import detect_auto_reply
from helpdesk.mail.filters.bounce import detect_bounce
from helpdesk.mail.filters.threading_keys import (
    normalise_subject,
    subject_ticket_tag,
    thread_candidates,
)
from helpdesk.mail.parsing.parse import ParsedMail, parse_mail

SAMPLES = Path(__file__).parents[1] / "samples"


def mail_with(headers: str, body: str = "Hei.\n") -> ParsedMail:
    raw = (
        "From: Matti <matti@example.fi>\nTo: tuki@etunnus.example\n"
        + headers
        + "Content-Type: text/plain; charset=utf-8\n\n"
        + body
    )
    return parse_mail(raw.encode())


def sample(name: str) -> ParsedMail:
    return run_filters(parse_mail((SAMPLES / name).read_bytes()))


@pytest.mark.parametrize(
    ("headers", "flags"),
    [
        ("Subject: Hei\n", set()),
        ("Auto-Submitted: no\n", set()),
        ("Auto-Submitted: auto-replied\n", {"auto_reply"}),
        ("Auto-Submitted: auto-generated; owner-email=x@y\n", {"auto_reply"}),
        ("Auto-Submitted: no (a person wrote this)\n", set()),
        ("Precedence: bulk\n", {"auto_reply"}),
        ("Precedence: junk\n", {"auto_reply"}),
        ("Precedence: list\n", {"auto_reply", "list"}),
        ("Precedence: auto_reply\n", {"auto_reply"}),
        ("X-Autoreply: yes\n", {"auto_reply"}),
        ("X-Autorespond: Olen lomalla\n", {"auto_reply"}),
        ("Return-Path: <>\n", {"auto_reply"}),
        ("Return-Path: <matti@example.fi>\n", set()),
        ("List-Id: <asiakkaat.example.fi>\n", {"list"}),
        ("List-Unsubscribe: <mailto:u@example.fi>\n", {"list"}),
        ("X-Loop: tuki@etunnus.example\n", {"loop"}),
        ("X-Helpdesk-Loop: 1\n", {"loop"}),
        ("X-Auto-Response-Suppress: All\nSubject: Lasku\n", set()),
        (
            "X-Auto-Response-Suppress: OOF, AutoReply\nSubject: Out of Office: Lasku\n",
            {"auto_reply"},
        ),
        ("X-Auto-Response-Suppress: All\nSubject: Poissa: Lasku\n", {"auto_reply"}),
        ("X-Auto-Response-Suppress: All\nSubject: Lomavastaaja\n", {"auto_reply"}),
        ("Subject: Automatic reply: Lasku\n", set()),  # a subject alone is not enough
    ],
)
def test_auto_reply_signals(headers: str, flags: set[str]) -> None:
    mail = mail_with(headers)
    detect_auto_reply(mail)
    assert mail.flags == flags
    if flags:
        assert mail.annotations["auto_reply_reasons"]


def test_own_loop_header_is_configurable() -> None:
    mail = mail_with("X-Etunnus-Loop: yes\n")
    detect_auto_reply(mail)
    assert not mail.flags
    detect_auto_reply(mail, our_loop_header="X-Etunnus-Loop")
    assert mail.flags == {"loop"}


def test_auto_reply_samples() -> None:
    assert "auto_reply" in sample("auto-submitted.eml").flags
    assert "auto_reply" in sample("outlook-oof.eml").flags
    assert "auto_reply" not in sample("outlook-ordinary.eml").flags


def test_dsn_bounce() -> None:
    mail = sample("dsn-bounce.eml")
    assert "bounce" in mail.flags
    assert mail.annotations["bounce_original_message_id"] == "reply-1042-3@etunnus.example"
    assert mail.annotations["bounce_recipient"] == "nobody@example.com"
    assert mail.annotations["bounce_status"] == "5.1.1"
    assert mail.annotations["bounce_action"] == "failed"
    assert mail.annotations["bounce_permanent"] is True
    assert "User unknown" in mail.annotations["bounce_diagnostic"]
    assert "reply-1042-3@etunnus.example" in mail.annotations["thread_candidates"]


@pytest.mark.parametrize(
    "subject",
    [
        "Undelivered Mail Returned to Sender",
        "Delivery Status Notification (Failure)",
        "Mail delivery failed: returning message to sender",
        "Toimitus epäonnistui: Lasku",
        "Returned mail: see transcript for details",
        "Undeliverable: Lasku",
    ],
)
def test_bounce_subjects(subject: str) -> None:
    mail = mail_with(f"Subject: {subject}\n")
    detect_bounce(mail)
    assert "bounce" in mail.flags


def test_plain_text_bounce_from_mailer_daemon() -> None:
    body = (
        "This message was created automatically by mail delivery software.\n\n"
        "A message that you sent could not be delivered to one or more of its\n"
        "recipients. This is a permanent error. The following address(es) failed:\n\n"
        "  nobody@example.com\n    SMTP error from remote mail server after RCPT TO:\n"
        "    550 5.1.1 User unknown\n\n------ This is a copy of the message, including "
        "all the headers. ------\n\nMessage-ID: <orig-5@etunnus.example>\nSubject: Lasku\n"
    )
    raw = (
        "From: Mail Delivery System <Mailer-Daemon@mx.example.com>\nTo: tuki@etunnus.example\n"
        "Subject: Hei\nMessage-ID: <bounce-9@mx.example.com>\n"
        "X-Failed-Recipients: nobody@example.com\n\n" + body
    )
    mail = run_filters(parse_mail(raw.encode()))
    assert "bounce" in mail.flags
    assert mail.annotations["bounce_recipient"] == "nobody@example.com"
    assert mail.annotations["bounce_status"] == "5.1.1"
    assert mail.annotations["bounce_original_message_id"] == "orig-5@etunnus.example"


def test_ordinary_mail_is_not_a_bounce() -> None:
    mail = mail_with("Subject: Lasku palautui asiakkaalta\n")
    detect_bounce(mail)
    person = parse_mail(b"From: Bob <postmaster@example.fi>\nSubject: Linkki\n\nHei\n")
    detect_bounce(person)
    assert "bounce" not in person.flags
    assert "bounce" not in mail.flags
    assert not any(k.startswith("bounce") for k in mail.annotations)


def test_thread_candidates_order() -> None:
    mail = mail_with(
        "Message-ID: <self@x>\nIn-Reply-To: <c@x>\nReferences: <a@x> <b@x> <c@x> <self@x>\n"
    )
    mail.annotations["bounce_original_message_id"] = "orig@x"
    assert thread_candidates(mail) == ["c@x", "b@x", "a@x", "orig@x"]
    assert thread_candidates(mail_with("Subject: x\n")) == []


@pytest.mark.parametrize(
    ("subject", "tag"),
    [
        ("[#1042] Lasku", 1042),
        ("Re: [E-tunnus #1042] Lasku", 1042),
        ("VS: [E-tunnus #7]", 7),
        ("Lasku #1042", None),
        ("[E-tunnus] Lasku", None),
        ("", None),
        ("[#12a] x", None),
    ],
)
def test_subject_ticket_tag(subject: str, tag: int | None) -> None:
    assert subject_ticket_tag(subject) == tag


@pytest.mark.parametrize(
    ("subject", "normal"),
    [
        ("Re: Lasku", "Lasku"),
        ("RE: re: Fwd: Lasku", "Lasku"),
        ("VS: VL: Vast: Lasku", "Lasku"),
        ("SV: AW: WG: Antw: Lasku", "Lasku"),
        ("Re: [E-tunnus #1042] VS: Lasku ä", "Lasku ä"),
        ("Fw: Re[2]: Lasku", "Lasku"),
        ("  Lasku   2024  ", "Lasku 2024"),
        ("Reskontra", "Reskontra"),
        ("Vastaus tulossa", "Vastaus tulossa"),
        ("[SPAM]", "[SPAM]"),
    ],
)
def test_normalise_subject(subject: str, normal: str) -> None:
    assert normalise_subject(subject) == normal


def test_run_filters_survives_a_failing_filter(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[str] = []

    def broken(mail: ParsedMail) -> None:
        raise KeyError("oops")

    def after(mail: ParsedMail) -> None:
        calls.append("after")

    mail = mail_with("Auto-Submitted: auto-replied\n")
    with caplog.at_level(logging.ERROR):
        result = run_filters(mail, [broken, after, *DEFAULT_FILTERS])
    assert result is mail
    assert calls == ["after"]
    assert any("broken" in e and "oops" in e for e in mail.parse_errors)
    assert "auto_reply" in mail.flags
    assert "broken" in caplog.text
