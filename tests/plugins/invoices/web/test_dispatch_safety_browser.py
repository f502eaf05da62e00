"""Dispatch safety in Chromium: failing checks beside the button, a reason to send anyway,
the summary of a clean invoice before it goes, and "send all clean" on the queue."""

from __future__ import annotations

import factories
import pytest
from browser import LiveServer, browser_login
from invoice_dispatch import clean_invoice, etunnus_user, failing_invoice
from sqlmodel import Session, select

from helpdesk.db import new_session
from plugins.invoices.models import Dispatch, Invoice

pytestmark = pytest.mark.browser


@pytest.fixture
def invoices(live_server: LiveServer, bare_sandbox, invoice_settings_env, data_dir):
    """A clean post invoice and one with a wrong business ID (committed), and an agent."""
    invoice_settings_env.setenv("HELPDESK_NETVISOR_URL", bare_sandbox.url)
    with Session(new_session().get_bind(), expire_on_commit=False) as session:
        agent = factories.agent(session)
        factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
        etunnus_user(session, "tiina@example.fi")
        clean = clean_invoice(session, bare_sandbox)
        failing = failing_invoice(session, bare_sandbox)
        session.commit()
    return agent, clean, failing


def dispatch_count(invoice: Invoice) -> int:
    with Session(new_session().get_bind()) as session:
        return len(session.exec(select(Dispatch).where(Dispatch.invoice_id == invoice.id)).all())


def test_failing_checks_stand_beside_the_button_and_sending_anyway_needs_a_reason(
    live_server: LiveServer, page, invoices
) -> None:
    from playwright.sync_api import expect

    agent, _, failing = invoices
    browser_login(page, live_server, agent)
    page.goto(f"{live_server.url}/invoices/{failing.id}")
    panel = page.locator(f"#invoice-actions-{failing.id}")

    checks = panel.locator("[data-testid=dispatch-failed-checks]")
    expect(checks).to_contain_text("Y-tunnus 2734561-4 ei ole kelvollinen")
    expect(panel.locator("[data-testid=dispatch-button]")).to_have_count(0)
    expect(panel.locator("[data-testid=dispatch-summary]")).to_have_count(0)

    # No reason typed: the browser keeps the form (the server would refuse it too).
    panel.locator("[data-testid=dispatch-anyway]").click()
    reason = panel.locator("[data-testid=override-reason]")
    assert reason.evaluate("el => !el.validity.valid")
    assert dispatch_count(failing) == 0

    reason.fill("Asiakas vahvisti Y-tunnuksen puhelimessa")
    panel.locator("[data-testid=dispatch-anyway]").click()
    expect(panel.locator("[data-testid=dispatch]")).to_have_attribute("data-state", "waiting")
    assert dispatch_count(failing) == 1

    page.reload()
    override = page.locator("[data-testid=checks-override]")
    expect(override).to_contain_text("Asiakas vahvisti Y-tunnuksen puhelimessa")
    expect(page.locator(".invoice-history")).to_contain_text("Lähetetty virheellisin tarkistuksin")


def test_a_clean_invoice_shows_method_recipient_and_amount_before_it_goes(
    live_server: LiveServer, page, invoices
) -> None:
    from playwright.sync_api import expect

    agent, clean, _ = invoices
    browser_login(page, live_server, agent)
    page.goto(f"{live_server.url}/invoices/{clean.id}")
    panel = page.locator(f"#invoice-actions-{clean.id}")

    summary = panel.locator("[data-testid=dispatch-summary]")
    expect(summary).to_contain_text("Posti")
    expect(summary.locator("[data-testid=summary-recipient]")).to_have_text(
        "Testiyhtiö Oy, Testikatu 1, 00100 Helsinki"
    )
    expect(summary.locator("[data-testid=summary-amount]")).to_contain_text("251,00")
    expect(panel.locator("[data-testid=dispatch-failed-checks]")).to_have_count(0)

    panel.locator("[data-testid=dispatch-button]").click()
    expect(panel.locator("[data-testid=dispatch]")).to_have_attribute("data-state", "waiting")
    assert dispatch_count(clean) == 1


def test_send_all_clean_from_the_queue(live_server: LiveServer, page, invoices) -> None:
    from playwright.sync_api import expect

    agent, clean, failing = invoices
    browser_login(page, live_server, agent)
    page.goto(f"{live_server.url}/invoices")
    row = page.locator(f"tr[data-invoice='{failing.id}']")
    expect(row.locator("[data-testid=dispatch-review]")).to_be_visible()

    page.locator("[data-testid=send-clean]").click()

    summary = page.locator("[data-testid=clean-summary]")
    expect(summary).to_contain_text("1 lähetetty, 1 jäi jonoon.")
    expect(summary.locator("[data-testid=clean-sent]")).to_contain_text(clean.number)
    skipped = summary.locator("[data-testid=clean-skipped]")
    expect(skipped).to_contain_text(failing.number)
    expect(skipped).to_contain_text("Y-tunnus")
    assert dispatch_count(clean) == 1
    assert dispatch_count(failing) == 0
