"""@mentions in a real browser: A mentions B in a note; B sees the badge and lands on the ticket."""

from __future__ import annotations

import re

import factories
import pytest
from browser import browser_login
from playwright.sync_api import expect

from helpdesk.db import new_session

pytestmark = pytest.mark.browser

TEXTS = {
    "fi": {"note": "Lisää muistiinpano", "mentioned": "mainitsi sinut tiketissä"},
    "en": {"note": "Add note", "mentioned": "mentioned you in"},
}


@pytest.mark.parametrize("language", ["fi", "en"])
def test_mention_badge_and_opening_the_notification(live_server, chromium, page, language):
    with new_session() as db:
        writer = factories.agent(db, name="Anna Kirjoittaja", language=language)
        named = factories.agent(db, name="Bertta Mainittava", language=language)
        ticket = factories.ticket(db, subject="Lasku 1001020007 hukassa")
        ticket_id, number = ticket.id, ticket.number
    texts = TEXTS[language]

    browser_login(page, live_server, writer)
    page.goto(f"{live_server.url}/tickets/{ticket_id}")
    area = page.locator("#note-text")
    area.press_sequentially("Katso @bert", delay=30)
    choices = page.get_by_test_id("mention-list")
    expect(choices).to_contain_text("Bertta Mainittava")
    area.press("Enter")  # picks the first agent offered
    expect(choices).to_have_count(0)
    area.press_sequentially("tämä, kiitos.", delay=10)
    handle = named.email.split("@")[0]
    expect(area).to_have_value(f"Katso @{handle} tämä, kiitos.")
    page.get_by_role("button", name=texts["note"]).click()
    expect(page.locator("#thread mark.mention")).to_have_text("@Bertta Mainittava")
    # Her own note tells the writer nothing.
    expect(page.get_by_test_id("unread-count")).to_have_count(0)

    other = chromium.new_context(locale="fi-FI", timezone_id="Europe/Helsinki")
    try:
        tab = other.new_page()
        browser_login(tab, live_server, named)
        badge = tab.get_by_test_id("notifications-badge")
        expect(badge.get_by_test_id("unread-count")).to_have_text("1")
        badge.click()
        tab.wait_for_url(f"{live_server.url}/notifications")
        item = tab.get_by_test_id("open-notification")
        expect(item).to_have_text(f"Anna Kirjoittaja {texts['mentioned']} #{number}")
        item.click()
        tab.wait_for_url(re.compile(rf".*/tickets/{ticket_id}#m\d+$"))
        expect(tab.locator("#thread mark.mention")).to_have_text("@Bertta Mainittava")
        expect(tab.get_by_test_id("unfollow")).to_be_visible()  # mentioned: following now
        expect(tab.get_by_test_id("unread-count")).to_have_count(0)
    finally:
        other.close()
