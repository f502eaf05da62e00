"""Merging from the ticket page in a real browser: pick the target by search, see the error
beside the field, merge, land on the target, and find the way back from the merged one."""

from __future__ import annotations

import re

import factories
import pytest
from browser import browser_login
from playwright.sync_api import expect

from helpdesk.db import new_session
from helpdesk.models import Ticket

pytestmark = pytest.mark.browser


def test_merge_from_the_ticket_page(live_server, page) -> None:
    with new_session() as db:
        agent = factories.agent(db, name="Liisa Lehtonen")
        target = factories.ticket(db, subject="Osoitteenmuutos Virtanen")
        source = factories.ticket(db, subject="Uusi osoite", text="Muutin Katu 1:een")
        target_id, target_number = target.id, target.number
        source_id, source_number = source.id, source.number

    browser_login(page, live_server, agent)
    page.goto(f"{live_server.url}/tickets/{source_id}")
    page.get_by_text("Yhdistä toiseen tikettiin").click()
    field = page.locator("#merge-target")

    # Its own number is refused, beside the field, and what was typed stays.
    field.fill(str(source_number))
    page.get_by_test_id("merge-submit").click()
    expect(page.get_by_test_id("merge-error")).to_contain_text("itseensä")
    expect(page.locator("#merge-target")).to_have_value(str(source_number))

    # Searching offers the target; picking it fills the number.
    field = page.locator("#merge-target")
    field.fill("")
    field.press_sequentially("Osoitteenm", delay=30)
    expect(page.locator(f"#merge-candidates option[value='{target_number}']")).to_have_count(1)
    field.fill(str(target_number))
    page.get_by_test_id("merge-submit").click()

    page.wait_for_url(re.compile(rf"/tickets/{target_id}$"))
    expect(page.get_by_text("Muutin Katu 1:een")).to_be_visible()
    expect(page.get_by_test_id("merge-history")).to_contain_text(f"#{source_number}")

    page.goto(f"{live_server.url}/tickets/{source_id}")
    banner = page.get_by_test_id("merged-into")
    expect(banner).to_contain_text(f"Yhdistetty tikettiin #{target_number}")
    banner.get_by_role("link").click()
    page.wait_for_url(re.compile(rf"/tickets/{target_id}$"))
    with new_session() as db:
        assert db.get(Ticket, source_id).merged_into_id == target_id  # type: ignore[union-attr]
