"""Chromium: snooze a ticket and see it leave the list; j/k/o and the "?" help, fi and en."""

from __future__ import annotations

import re
from datetime import timedelta

import factories
import pytest
from browser import browser_login
from playwright.sync_api import expect
from sqlmodel import select

from helpdesk.db import new_session
from helpdesk.models import Mailbox, TicketStatus, utcnow
from helpdesk.services import inbox

pytestmark = pytest.mark.browser


def _rows(page):
    return page.locator("#ticket-list td.subject a")


def _seed(language: str):
    now = utcnow()
    with new_session() as session:
        box = factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
        agent = factories.agent(session, name="Liisa Lehtonen", language=language)
        for i, subject in enumerate(["Ensimmäinen", "Toinen", "Kolmas"]):
            factories.ticket(session, subject=subject, mailbox=box, at=now - timedelta(minutes=i))
        session.commit()
        return agent


def test_snoozed_ticket_leaves_the_list_and_waits_in_its_view(live_server, page):
    agent = _seed("fi")
    browser_login(page, live_server, agent)
    expect(_rows(page)).to_have_text(["Ensimmäinen", "Toinen", "Kolmas"])
    _rows(page).nth(1).click()
    expect(page.locator("h1")).to_contain_text("Toinen")
    page.click("[data-testid=snooze-tomorrow]")
    expect(page).to_have_url(re.compile(r"/tickets$"))
    expect(_rows(page)).to_have_text(["Ensimmäinen", "Kolmas"])
    page.click("[data-testid=view-snoozed]")
    expect(_rows(page)).to_have_text(["Toinen"])
    expect(page.locator("[data-testid=snoozed-chip]")).to_contain_text("Torkulla")


@pytest.mark.parametrize(
    ("language", "title", "line"),
    [
        ("fi", "Pikanäppäimet", "Avaa valittu tiketti"),
        ("en", "Keyboard shortcuts", "Open the selected ticket"),
    ],
)
def test_keyboard_moves_opens_and_explains_itself(live_server, page, language, title, line):
    agent = _seed(language)
    browser_login(page, live_server, agent)
    expect(_rows(page)).to_have_count(3)
    selected = page.locator("#ticket-list tr.key-selected td.subject a")

    page.keyboard.press("j")
    expect(selected).to_have_text("Ensimmäinen")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("j")  # stays on the last
    expect(selected).to_have_text("Kolmas")
    page.keyboard.press("k")
    expect(selected).to_have_text("Toinen")

    # Typing in the search box is typing, not shortcuts.
    page.keyboard.press("/")
    expect(page.locator("input[name=q]")).to_be_focused()
    page.keyboard.type("jk")
    expect(page.locator("input[name=q]")).to_have_value("jk")
    expect(selected).to_have_text("Toinen")
    page.locator("input[name=q]").fill("")
    page.locator("h1, .counts").first.click()

    page.keyboard.press("?")
    help_box = page.locator("[data-testid=keys-help]")
    expect(help_box).to_be_visible()
    expect(help_box).to_contain_text(title)
    expect(help_box).to_contain_text(line)
    page.keyboard.press("Escape")
    expect(help_box).to_be_hidden()

    page.keyboard.press("o")
    expect(page.locator("h1")).to_contain_text("Toinen")
    page.keyboard.press("n")
    expect(page.locator("#note-text")).to_be_focused()
    page.keyboard.type("n")  # typed into the note, not a new conversation
    expect(page.locator("#note-text")).to_have_value("n")
    expect(page).to_have_url(re.compile(r"/tickets/\d+$"))
    page.locator("h1").click()
    page.keyboard.press("e")
    expect(page.locator("[data-testid=ticket-status]")).to_have_class(re.compile(r"\bclosed\b"))


def _counted(open_: int, pending: int, closed: int) -> re.Pattern[str]:
    return re.compile(rf"Avoimet: {open_}\s+·\s+Odottavat: {pending}\s+·\s+Suljetut: {closed}")


def test_typing_a_search_brings_the_list_then_its_counts(live_server, page):
    inbox._closed_counts.clear()  # counted once a minute: another test's count may be kept
    agent = _seed("fi")
    with new_session() as session:
        box = session.exec(select(Mailbox)).one()
        done = factories.ticket(session, subject="Pankkiyhteys", mailbox=box, text="Pankin tunnus")
        done.status = TicketStatus.closed
        session.add(done)
        session.commit()
    browser_login(page, live_server, agent)
    counts = page.locator("[data-testid=inbox-counts]")
    expect(counts).to_have_text(_counted(3, 0, 1))
    page.locator("input[name=q]").press_sequentially("pankki")
    expect(_rows(page)).to_have_count(0)  # the list shows open and pending: none match
    expect(counts).to_have_text(_counted(0, 0, 1))
    page.select_option("select[name=status]", "")
    expect(_rows(page)).to_have_text(["Pankkiyhteys"])
    expect(counts).to_have_text(_counted(0, 0, 1))
    page.fill("input[name=q]", "")
    page.locator("input[name=q]").press("Backspace")
    expect(counts).to_have_text(_counted(3, 0, 1))
