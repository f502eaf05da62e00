"""Dispatching from the ticket sidebar in Chromium: one click, confirm, progress in place."""

from __future__ import annotations

import factories
import pytest
from browser import LiveServer, browser_login
from invoice_dispatch import add_invoice, clients, etunnus_user, run_steps, synced
from sqlmodel import Session

from helpdesk.db import new_session
from plugins.invoices.dispatch.notices import invoice_link

pytestmark = pytest.mark.browser


def test_dispatch_from_the_ticket_sidebar(
    live_server: LiveServer, page, bare_sandbox, invoice_settings_env, data_dir
) -> None:
    from playwright.sync_api import expect

    invoice_settings_env.setenv("HELPDESK_NETVISOR_URL", bare_sandbox.url)
    with Session(new_session().get_bind(), expire_on_commit=False) as session:
        agent = factories.agent(session)
        mailbox = factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
        user = etunnus_user(session, "tiina@example.fi")
        added = add_invoice(bare_sandbox, "post")
        invoice = synced(session, bare_sandbox, added.invoice_number)
        ticket = factories.ticket(
            session,
            mailbox=mailbox,
            customer="tiina@example.fi",
            user=user,
            subject=f"Lasku {invoice.number}",
        )
        invoice_link(session, ticket, invoice)
        session.commit()

    browser_login(page, live_server, agent)
    page.goto(f"{live_server.url}/tickets/{ticket.id}")
    panel = page.locator(f"#invoice-actions-{invoice.id}")
    expect(panel.locator("[data-testid=dispatch-button]")).to_have_text("Lähetä: Posti")
    panel.locator("[data-testid=dispatch-button]").click()
    # Swapped in place by htmx: post via Netvisor waits for the agent.
    expect(panel.locator("[data-testid=dispatch-waiting]")).to_be_visible()
    expect(panel.locator("[data-testid=dispatch]")).to_have_attribute("data-state", "waiting")
    assert page.url.endswith(f"/tickets/{ticket.id}")
    panel.locator("[data-testid=dispatch-confirm]").click()
    expect(panel.locator("[data-testid=dispatch]")).to_have_attribute("data-state", "sent")

    with Session(new_session().get_bind(), expire_on_commit=False) as session:
        run_steps(session, clients(bare_sandbox), rounds=2, outbox=False)
    # The panel polls while the dispatch moves and stops once the user is told.
    expect(panel.locator("[data-testid=dispatch]")).to_have_attribute(
        "data-state", "user_notified", timeout=10_000
    )
    expect(panel.locator(".step-done")).to_have_count(5)
    expect(panel).to_contain_text("Käyttäjälle ilmoitettu")
    assert bare_sandbox.state.status_changes == [(added.netvisor_key, "unsent", "open")]
