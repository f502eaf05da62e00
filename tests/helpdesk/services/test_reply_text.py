"""Greeting and sign-off: one greeting, one sign-off, and undo gives back the agent's text."""

from __future__ import annotations

import pytest

from helpdesk.models import Agent, Mailbox, Ticket
from helpdesk.services import reply_text, saved_replies

MAILBOX = Mailbox(
    address="asiakaspalvelu@e-tunnus.fi",
    signature="Ystävällisin terveisin\nE-tunnus asiakaspalvelu\nasiakaspalvelu@e-tunnus.fi",
)
AGENT = Agent(email="liisa@e-tunnus.fi", name="Liisa Laine", signature="Liisa Laine")


def test_a_plain_reply_gets_both_signatures_with_the_mailbox_sign_off() -> None:
    assert reply_text.signed("Hei,\n\nkatsotaan.", AGENT, MAILBOX) == (
        "Hei,\n\nkatsotaan.\n\nLiisa Laine\n\n"
        "Ystävällisin terveisin\nE-tunnus asiakaspalvelu\nasiakaspalvelu@e-tunnus.fi\n"
    )


def test_a_text_that_signs_off_itself_does_not_get_a_second_sign_off() -> None:
    body = "Hei Matti,\n\nlasku on lähetetty.\n\nTerveisin\nLiisa Laine"
    text = reply_text.signed(body, AGENT, MAILBOX)
    assert text == (
        "Hei Matti,\n\nlasku on lähetetty.\n\nTerveisin\nLiisa Laine\n\n"
        "E-tunnus asiakaspalvelu\nasiakaspalvelu@e-tunnus.fi\n"
    )
    assert sum(reply_text.is_sign_off(line) for line in text.splitlines()) == 1


def test_undo_then_send_again_from_a_browser_does_not_double_the_signature() -> None:
    sent = reply_text.signed("Hei,\n\nkatsotaan.", AGENT, MAILBOX)
    back = reply_text.unsigned(sent, AGENT, MAILBOX)
    assert back == "Hei,\n\nkatsotaan.\n"
    # The textarea sends CRLF; even the signed text pasted back signs the same.
    assert reply_text.signed(back.replace("\n", "\r\n"), AGENT, MAILBOX) == sent
    assert reply_text.signed(sent.replace("\n", "\r\n"), AGENT, MAILBOX) == sent


def test_undo_of_a_self_signed_text_keeps_the_agents_own_sign_off() -> None:
    body = "Kiitos tiedosta.\n\nTerveisin\nLiisa"
    sent = reply_text.signed(body, AGENT, MAILBOX)
    assert reply_text.unsigned(sent, AGENT, MAILBOX) == body + "\n"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Matti Virtanen", "Hei Matti Virtanen,\n\nkiitos."),
        (None, "Hei,\n\nkiitos."),
        ("", "Hei,\n\nkiitos."),
    ],
)
def test_the_greeting_reads_well_with_or_without_a_name(name: str | None, expected: str) -> None:
    ticket = Ticket(subject="Lasku", customer_name=name, number=7)
    assert saved_replies.render("Hei {asiakas},\n\nkiitos.", ticket=ticket, agent=AGENT) == expected


def test_variables_case_insensitive_and_unknown_ones_left_alone() -> None:
    ticket = Ticket(subject="Lasku", customer_name="Matti", number=7)
    body = "Hei {ASIAKAS}! Asia {tiketti} {tuntematon} {agentti} {"
    assert saved_replies.render(body, ticket=ticket, agent=AGENT) == (
        "Hei Matti! Asia #7 {tuntematon} Liisa Laine {"
    )
