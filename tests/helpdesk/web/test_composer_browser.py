"""Chromium composes and sends a reply with a saved reply and an attachment."""

from __future__ import annotations

import email
import email.policy

import factories
import pytest
from browser import browser_login
from mailservers import dovecot, smtp_server  # noqa: F401  (fixtures)
from outbox_helpers import wired_mailbox
from playwright.sync_api import expect

from helpdesk.db import new_session
from helpdesk.mail.outbound.outbox import flush_due
from helpdesk.models import SavedReply

pytestmark = [pytest.mark.browser, pytest.mark.dovecot, pytest.mark.slow]


def test_reply_with_saved_reply_and_attachment(live_server, page, data_dir, tmp_path, request):
    smtp = request.getfixturevalue("smtp_server")
    smtp.reject_unknown = False
    with new_session() as session:
        mailbox = wired_mailbox(session, smtp, None)
        agent = factories.agent(session, name="Liisa Lehtonen")
        ticket = factories.ticket(session, mailbox=mailbox, customer="matti@example.fi")
        session.add(SavedReply(title="Lasku lähetetty", body="Hei {asiakas}, lasku on lähetetty."))
        session.commit()
        ticket_id = ticket.id
    attachment = tmp_path / "Ohje_ä.pdf"
    attachment.write_bytes(b"%PDF-1.4 ohje")

    browser_login(page, live_server, agent)
    page.goto(f"{live_server.url}/tickets/{ticket_id}")
    page.select_option("[data-testid=saved-reply]", label="Lasku lähetetty")
    body = page.locator("[data-testid=reply-body]")
    expect(body).to_have_value("Hei Asiakas, lasku on lähetetty.")
    page.set_input_files("[data-testid=reply-files]", str(attachment))
    page.click("[data-testid=reply-send]")
    status = page.locator("[data-testid=delivery-status]")
    expect(status).to_have_count(1)
    expect(body).to_have_value("")  # sent: the composer and its draft are cleared

    assert flush_due().sent == 1
    expect(status).to_have_text("Lähetetty")  # the thread polls the delivery state

    [received] = smtp.received
    mail = email.message_from_bytes(received.data, policy=email.policy.default)
    assert "Hei Asiakas, lasku on lähetetty." in mail.get_body(("plain",)).get_content()
    [part] = list(mail.iter_attachments())
    assert part.get_filename() == "Ohje_ä.pdf"
