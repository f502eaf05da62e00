"""Chromium works the inbox: log in, filter, open a ticket, add a note, close it, switch language."""

from __future__ import annotations

import re
from datetime import timedelta

import factories
import pytest
from browser import browser_login
from playwright.sync_api import expect

from helpdesk.db import new_session
from helpdesk.models import Agent, utcnow
from helpdesk.services import tickets as ticket_service

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/helpdesk-ticket.png"


def _rows(page):
    return page.locator("#ticket-list td.subject a")


def test_agent_works_a_ticket_from_the_inbox(live_server, page):
    now = utcnow()
    with new_session() as session:
        asiakas = factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
        info = factories.mailbox(session, "info@e-tunnus.fi")
        agent = factories.agent(session, name="Liisa Lehtonen", language="fi")
        factories.ticket(
            session,
            subject="Lasku hukassa",
            mailbox=asiakas,
            text="Hei, lähetin laskun eilen mutta se ei näy.",
            at=now - timedelta(minutes=5),
        )
        factories.ticket(
            session,
            subject="Tiedustelu palvelusta",
            mailbox=info,
            customer="maija@example.fi",
            text="Miten E-tunnus toimii kevytyrittäjälle?",
            at=now - timedelta(minutes=3),
        )
        old = factories.ticket(session, subject="Vanha asia", mailbox=asiakas, at=now)
        ticket_service.set_status(session, ticket=old, status="closed", by=agent)
        session.commit()

    browser_login(page, live_server, agent)
    expect(page.locator("html")).to_have_attribute("lang", "fi")
    expect(_rows(page)).to_have_text(["Tiedustelu palvelusta", "Lasku hukassa"])

    # Filters swap the list in place (htmx) and keep the URL shareable.
    page.select_option("select[name=status]", "closed")
    expect(_rows(page)).to_have_text(["Vanha asia"])
    expect(page).to_have_url(re.compile(r"status=closed"))
    page.select_option("select[name=status]", "active")
    page.select_option("select[name=mailbox]", "info@e-tunnus.fi")
    expect(_rows(page)).to_have_text(["Tiedustelu palvelusta"])

    _rows(page).first.click()
    expect(page.locator("h1")).to_contain_text("Tiedustelu palvelusta")
    expect(page.locator("#thread")).to_contain_text("kevytyrittäjälle")

    # The note arrives through htmx: the page (and this marker) survives.
    page.evaluate("window.__noReload = true")
    # A blank note is refused with a message in the flash area (a 400 htmx swaps there).
    page.fill("#note-text", "   ")
    page.locator("form.note-form button[type=submit]").click()
    expect(page.locator("#flash")).to_contain_text("Muistiinpano on tyhjä")
    page.fill("#note-text", "Soitin asiakkaalle, ohjeet lähetetty.")
    page.locator("form.note-form button[type=submit]").click()
    note = page.locator("#thread article[data-kind=note]")
    expect(note).to_have_count(1)
    expect(note).to_contain_text("Soitin asiakkaalle, ohjeet lähetetty.")
    expect(page.locator("#note-text")).to_have_value("")
    assert page.evaluate("window.__noReload") is True

    page.click("[data-testid=status-closed]")
    expect(page.locator("[data-testid=ticket-status]")).to_have_class(re.compile(r"\bclosed\b"))
    expect(page.locator("[data-testid=status-closed]")).to_be_disabled()
    assert page.evaluate("window.__noReload") is True

    label = page.locator("label[for=note-text]")
    expect(label).to_have_text("Sisäinen muistiinpano")
    page.screenshot(path=SCREENSHOT, full_page=True)
    page.click("[data-testid=user-menu]")  # the language is in the user menu
    page.click("[data-testid=lang-en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(label).to_have_text("Internal note")
    expect(page.locator("[data-testid=ticket-status]")).to_have_text(re.compile("Closed", re.I))
    # The choice is stored on the agent, so the next login starts in English.
    with new_session() as session:
        assert session.get(Agent, agent.id).language == "en"
