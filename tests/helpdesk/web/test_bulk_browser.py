"""Chromium selects tickets (click, shift-click, all in view), closes and tags them in bulk,
saves the view and opens it again; in Finnish and English, on a laptop and a phone."""

from __future__ import annotations

import re
from datetime import timedelta

import factories
import pytest
from browser import browser_login
from playwright.sync_api import expect

from helpdesk.db import new_session
from helpdesk.models import Ticket, TicketStatus, utcnow
from helpdesk.services import tags

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/helpdesk-bulk-phone.png"


def _box(page, subject):
    return page.locator("#ticket-list tr", has_text=subject).locator("input[name=ids]")


def test_select_close_tag_and_save_a_view(live_server, page):
    now = utcnow()
    with new_session() as session:
        box = factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
        agent = factories.agent(session, name="Liisa Lehtonen", language="fi")
        made = [
            factories.ticket(
                session, subject=f"Asia {i}", mailbox=box, at=now - timedelta(minutes=i)
            )
            for i in range(1, 6)
        ]
        ids = [t.id for t in made]
        session.commit()

    browser_login(page, live_server, agent)
    bar = page.locator("[data-testid=bulk-bar]")
    expect(bar).to_be_hidden()  # nothing ticked yet
    _box(page, "Asia 1").click()
    _box(page, "Asia 4").click(modifiers=["Shift"])  # the range in between too
    expect(bar).to_be_visible()
    expect(bar.locator("[data-bulk-count]")).to_have_text("4 valittu")
    expect(_box(page, "Asia 3")).to_be_checked()
    expect(_box(page, "Asia 5")).not_to_be_checked()
    # The list refreshes itself (every 20 s): the ticked rows stay ticked.
    page.evaluate(
        "htmx.ajax('GET', location.pathname + location.search,"
        " {target: '#ticket-list', swap: 'outerHTML'})"
    )
    expect(_box(page, "Asia 2")).to_be_checked()
    expect(bar.locator("[data-bulk-count]")).to_have_text("4 valittu")

    page.click("[data-testid=bulk-closed]")
    expect(page.locator("#flash")).to_contain_text("4 tikettiä suljettu")
    expect(page.locator("#ticket-list td.subject a:not(.chip)")).to_have_text(["Asia 5"])
    expect(bar).to_be_hidden()  # done: the selection ends
    with new_session() as session:
        closed = [session.get(Ticket, i).status for i in ids]
    assert closed == [TicketStatus.closed] * 4 + [TicketStatus.open]

    # The closed ones: all in view, tagged in one go.
    page.select_option("select[name=status]", "closed")
    expect(page.locator("#ticket-list td.subject a:not(.chip)")).to_have_count(4)
    # The new list replaced the old one: a list left inside would refresh with old filters.
    expect(page.locator("[id=ticket-list]")).to_have_count(1)
    page.click("[data-testid=select-all]")
    expect(bar.locator("[data-bulk-count]")).to_have_text("4 valittu")
    page.fill("[data-testid=bulk-tag]", "Lasku")
    page.press("[data-testid=bulk-tag]", "Enter")  # the tag's own button, never "Close"
    expect(page.locator("#flash")).to_contain_text("Tunniste Lasku lisätty 4 tiketille")
    expect(page.locator("#ticket-list .chip.tag")).to_have_count(4)
    with new_session() as session:
        tagged = tags.tags_by_ticket(session, ids)
    assert [len(tagged[i]) for i in ids] == [1, 1, 1, 1, 0]

    # Save what is shown as a view; it is listed with its count and opens again.
    page.click("[data-testid=save-view]")
    page.fill("[data-testid=view-name]", "Suljetut")
    page.locator("form[data-save-view] button[type=submit]").click()
    expect(page.locator("#flash")).to_contain_text("Näkymä Suljetut tallennettu")
    view = page.locator("[data-testid=views] a", has_text="Suljetut")
    expect(view).to_contain_text("4")
    page.goto(live_server.url + "/tickets")
    expect(page.locator("#ticket-list td.subject a:not(.chip)")).to_have_text(["Asia 5"])
    page.locator("[data-testid=views] a", has_text="Suljetut").click()
    expect(page).to_have_url(re.compile(r"status=closed"))
    expect(page.locator("#ticket-list td.subject a:not(.chip)")).to_have_count(4)
    expect(page.locator("[data-testid=views] li.active")).to_contain_text("Suljetut")

    # In English, on a phone: the cards tick the same way and the bar stays in sight.
    page.click("[data-testid=user-menu]")
    page.click("[data-testid=lang-en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.set_viewport_size({"width": 390, "height": 800})
    _box(page, "Asia 2").click()
    expect(bar.locator("[data-bulk-count]")).to_have_text("1 selected")
    expect(bar).to_be_in_viewport()
    page.screenshot(path=SCREENSHOT)
    page.locator("[data-testid=bulk-open]").click()
    expect(page.locator("#flash")).to_contain_text("1 ticket reopened")
    expect(page.locator("#ticket-list td.subject a:not(.chip)")).to_have_count(3)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
