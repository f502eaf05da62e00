"""Remote images in mail: nothing loads until asked, then only over https."""

from __future__ import annotations

import factories
import pytest
from browser import browser_login
from playwright.sync_api import expect

from helpdesk.db import new_session
from helpdesk.mail.parsing.sanitize import sanitize_html

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_show_remote_images_asks_http_sources_over_https(live_server, page):
    html = sanitize_html(
        '<p>Logo</p><img src="http://kuvat.example/logo.png" alt="logo">'
        '<img src="https://kuvat.example/banner.png" alt="banner">'
    )
    with new_session() as session:
        agent = factories.agent(session)
        ticket = factories.ticket(session, mailbox=factories.mailbox(session))
        factories.message(session, ticket=ticket, text="Logo", html=html)
        session.commit()
        ticket_id = ticket.id
    browser_login(page, live_server, agent)
    page.goto(f"{live_server.url}/tickets/{ticket_id}")
    images = page.locator(".mail-html img")
    expect(images).to_have_count(2)
    assert images.evaluate_all("imgs => imgs.map(i => i.getAttribute('src'))") == [None, None]
    page.click("button.show-images")
    sources = images.evaluate_all("imgs => imgs.map(i => i.getAttribute('src'))")
    assert sources == ["https://kuvat.example/logo.png", "https://kuvat.example/banner.png"]
