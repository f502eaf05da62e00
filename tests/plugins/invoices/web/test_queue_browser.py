"""The queue page in Debian's Chromium: rows by deadline, overdue in red, Sync now, search."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import factories
import pytest
from browser import LiveServer, browser_login
from netvisor_sandbox import NetvisorSandbox
from sqlmodel import Session, select

from helpdesk.db import new_session
from plugins.invoices.models import Invoice
from plugins.invoices.sandboxes.demo import ensure_demo_users
from plugins.invoices.sandboxes.netvisor.data import SandboxRow
from plugins.invoices.sync import sync_unsent

pytestmark = pytest.mark.browser


def test_queue_page(live_server: LiveServer, page, netvisor_env: NetvisorSandbox) -> None:
    from playwright.sync_api import expect

    with Session(new_session().get_bind(), expire_on_commit=False) as session:
        agent = factories.agent(session)
        ensure_demo_users(session)
        assert sync_unsent(session, netvisor_env.client(), datetime.now(UTC)).ok
        late = session.exec(select(Invoice).where(Invoice.number == "1002330013")).one()
        late.deadline_at = datetime.now(UTC) - timedelta(hours=2)
        session.add(late)
        session.commit()

    live_url = live_server.url
    browser_login(page, live_server, agent)
    page.goto(f"{live_url}/invoices")

    rows = page.locator("table.invoice-queue tbody tr")
    expect(rows).to_have_count(16)
    first = rows.first
    expect(first).to_contain_text("1002330013")
    expect(first).to_have_class("overdue")
    color = first.locator("td").first.evaluate("el => getComputedStyle(el).color")
    assert color == "rgb(179, 38, 30)", color  # --danger
    expect(page.locator("table.invoice-queue")).to_contain_text("Viitenumeron")

    netvisor_env.state.add_invoice(
        etunnus_number="100689",
        customer=504,
        delivery_method="Verkkolasku",
        rows=[SandboxRow("Käännös", Decimal(1), Decimal("90.00"), Decimal("25.5"))],
    )
    page.click("[data-testid=sync-now]")
    expect(rows).to_have_count(17)
    expect(page.locator("#invoice-queue")).to_contain_text("1006890001")
    expect(page.locator("#invoice-queue")).to_contain_text("Synkronoitu: 1 uutta")

    page.fill("[data-testid=invoice-search]", "100102%")
    page.keyboard.press("Enter")
    results = page.locator("#invoice-results table tbody tr")
    expect(results).to_have_count(3)
    assert "q=100102%25" in page.url
