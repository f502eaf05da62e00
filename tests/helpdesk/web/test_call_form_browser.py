"""The call form in a real browser: shortcut, as-you-type lookup, saving known and unknown callers."""

from __future__ import annotations

import re

import factories
import pytest
from browser import browser_login
from playwright.sync_api import expect
from sqlmodel import select

from helpdesk.db import new_session
from helpdesk.models import Call, Ticket

pytestmark = pytest.mark.browser


def test_call_form_with_as_you_type_lookup(live_server, page) -> None:
    with new_session() as db:
        agent = factories.agent(db, name="Liisa Lehtonen")
        matti = factories.user(db, "100102", name="Matti Virtanen", phones=("+358401234567",))
        factories.user(db, "100233", name="Aino Korhonen", phones=("+358501112233",))
        open_ticket = factories.ticket(db, user=matti, subject="Lasku 1001020007 hukassa")
        number, ticket_id = open_ticket.number, open_ticket.id

    browser_login(page, live_server, agent)
    expect(page.get_by_test_id("service-state")).to_be_visible()

    # "c" opens the form in the panel, with the number field focused.
    page.keyboard.press("c")
    phone = page.get_by_test_id("call-phone")
    expect(phone).to_be_focused()
    assert page.url.endswith("/tickets")  # a panel, not a page change

    # Part of a number lists candidates; the whole number picks the caller at once.
    phone.press_sequentially("050 11", delay=40)
    expect(page.get_by_test_id("pick-100233")).to_be_visible()
    expect(page.get_by_test_id("picked-user")).to_have_count(0)
    phone.fill("")
    phone.press_sequentially("040 123 4567", delay=30)
    expect(page.get_by_test_id("picked-user")).to_contain_text("Matti Virtanen")
    page.get_by_test_id(f"ticket-{number}").check()

    # The name search finds others too (and picking replaces the caller).
    page.get_by_test_id("call-q").press_sequentially("korh", delay=40)
    expect(page.get_by_test_id("pick-100233")).to_be_visible()
    page.get_by_test_id("pick-100233").click()
    expect(page.get_by_test_id("picked-user")).to_contain_text("Aino Korhonen")
    page.get_by_text(re.compile("^(Vaihda|Change)$")).click()
    expect(page.get_by_test_id("picked-user")).to_have_count(0)
    phone.fill("")
    phone.press_sequentially("0401234567", delay=20)
    expect(page.get_by_test_id("picked-user")).to_contain_text("Matti Virtanen")
    page.get_by_test_id(f"ticket-{number}").check()

    page.get_by_test_id("call-duration").fill("4:05")
    page.get_by_test_id("call-topic").fill("Soitti laskusta")
    page.get_by_test_id("call-notes").fill("Lasku lähtee tänään postitse.")
    page.get_by_test_id("call-save").click()
    expect(page.get_by_test_id("call-saved")).to_contain_text(f"#{number}")

    # An unknown caller: saved as a new phone ticket.
    page.get_by_role("link", name=re.compile("(Kirjaa uusi puhelu|Log another call)")).click()
    phone = page.get_by_test_id("call-phone")
    phone.press_sequentially("050 9", delay=20)
    page.get_by_test_id("call-notes").fill("Kysyi palvelusta, ei vielä käyttäjä.")
    page.get_by_test_id("call-save").click()
    # A number cut short: the error stands beside the number, in the panel, the notes kept.
    expect(page.get_by_test_id("error-phone")).to_be_visible()
    expect(page.get_by_test_id("call-notes")).to_have_value("Kysyi palvelusta, ei vielä käyttäjä.")
    phone = page.get_by_test_id("call-phone")
    phone.fill("")
    phone.press_sequentially("050 999 8877", delay=20)
    expect(page.get_by_test_id("lookup-none")).to_be_visible()
    page.get_by_test_id("call-save").click()
    expect(page.get_by_test_id("call-saved")).to_be_visible()

    with new_session() as db:
        known, unknown = db.exec(select(Call).order_by(Call.id)).all()
        assert (known.ticket_id, known.user_id, known.duration_seconds) == (
            ticket_id,
            matti.id,
            245,
        )
        assert unknown.user_id is None and unknown.phone == "+358509998877"
        assert db.get(Ticket, unknown.ticket_id).channel == "phone"

    # The call is in the ticket's thread with its details.
    page.goto(f"{live_server.url}/tickets/{ticket_id}")
    call = page.locator("article[data-kind=call]")
    expect(call).to_contain_text("Lasku lähtee tänään postitse.")
    expect(call.get_by_test_id("call-details")).to_contain_text("4:05")


def test_a_pasted_number_is_looked_up_without_typing(live_server, page) -> None:
    """Agents paste the caller's number from the phone system; no key is pressed."""
    with new_session() as db:
        agent = factories.agent(db)
        factories.user(db, "100102", name="Matti Virtanen", phones=("+358401234567",))
    browser_login(page, live_server, agent)
    page.keyboard.press("c")
    page.get_by_test_id("call-phone").fill("040 123 4567")  # an input event, as a paste
    expect(page.get_by_test_id("picked-user")).to_contain_text("Matti Virtanen")
    page.get_by_test_id("call-q").fill("Virtanen")
    expect(page.get_by_test_id("pick-100102")).to_be_visible()
