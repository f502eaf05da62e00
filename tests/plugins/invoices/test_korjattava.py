"""Korjattava round trip: questions from a ticket, the user's answer threads back, resolve."""

from __future__ import annotations

import email
from email.message import EmailMessage
from email.utils import make_msgid

import factories
import pytest
from invoice_dispatch import ETUNNUS, clients, etunnus_user, run_steps, synced
from outbox_helpers import wired_mailbox
from sqlmodel import select

from helpdesk.mail.inbound.watch import fetch_once
from helpdesk.mail.outbound.outbox import flush_due
from helpdesk.models import AuditEvent, Message, Ticket, TicketLink
from plugins.invoices.models import Correction, InvoiceEvent
from plugins.invoices.sandboxes.netvisor.data import SandboxCustomer, SandboxRow

pytestmark = pytest.mark.dovecot


def _bad_postcode(session, bare_sandbox, key: int):
    """A posted invoice whose buyer's postcode is cut short (the delivery data check fails)."""
    from decimal import Decimal

    buyer = SandboxCustomer(key, f"C{key}", "Posti Oy", "Katu 1", "0010", "Helsinki")
    added = bare_sandbox.state.add_invoice(
        etunnus_number=ETUNNUS,
        customer=buyer,
        delivery_method="Posti",
        rows=[SandboxRow("Työ", Decimal(1), Decimal("50.00"), Decimal("25.5"))],
    )
    return added, synced(session, bare_sandbox, added.invoice_number)


def test_korjattava_round_trip(
    session, bare_sandbox, smtp_server, mail_user, dovecot, invoice_settings_env, data_dir, client
):

    from webclient import login

    box_user, tiina = mail_user("asiakaspalvelu"), mail_user("tiina")
    invoice_settings_env.setenv("HELPDESK_INVOICES_NOTIFY_MAILBOX", box_user.address)
    invoice_settings_env.setenv("HELPDESK_NETVISOR_URL", bare_sandbox.url)
    mailbox = wired_mailbox(session, smtp_server, box_user)
    etunnus_user(session, tiina.address)
    added, invoice = _bad_postcode(session, bare_sandbox, 610)
    assert "delivery_data" in {c["name"] for c in invoice.failed_checks}
    agent = factories.agent(session, name="Kaisa Korjaaja")
    login(client, agent)

    page = client.get(f"/invoices/{invoice.id}").text
    assert 'name="checks" value="delivery_data" checked' in page  # failed checks preselected
    client.form(
        f"/invoices/{invoice.id}/korjattava",
        {"checks": "delivery_data", "other": "Tarkista asiakkaan postinumero"},
    )
    session.refresh(invoice)
    assert invoice.status == "korjattava" and invoice.paused_at is not None
    correction = session.exec(select(Correction)).one()
    ticket = session.get(Ticket, correction.ticket_id)
    assert ticket.user_id == invoice.user_id and ticket.mailbox_id == mailbox.id
    assert session.exec(
        select(TicketLink).where(TicketLink.ticket_id == ticket.id, TicketLink.kind == "invoice")
    ).one().target == str(invoice.id)
    # The invoice left the queue for Korjattavat, where its waiting time shows.
    assert (
        f'data-invoice="{invoice.id}"'
        not in client.get("/invoices").text.split("invoice-progress")[0]
    )
    korjattavat = client.get("/invoices/korjattavat").text
    assert invoice.number in korjattavat and "Tarkista asiakkaan postinumero" in korjattavat
    assert 'data-testid="user-answered"' not in korjattavat  # not yet
    assert "Määräaika pysäytetty" in client.get(f"/invoices/{invoice.id}").text

    # The questions reach the user through the normal reply path.
    flush_due(session=session)
    [question_raw] = dovecot.fetch_all(tiina.name)
    question = email.message_from_bytes(question_raw)
    assert f"[#{ticket.number}]" in question["Subject"]
    assert not question["Subject"].startswith("Re:")  # the first mail answers nothing
    text_part = next(p for p in question.walk() if p.get_content_type() == "text/plain")
    assert "Tarkista asiakkaan postinumero" in text_part.get_payload(decode=True).decode()

    # The user answers; mail-in threads the answer into the same ticket.
    answer = EmailMessage()
    answer["From"] = f"Tiina Testaaja <{tiina.address}>"
    answer["To"] = box_user.address
    answer["Subject"] = f"Re: {question['Subject']}"
    answer["Message-ID"] = make_msgid(domain="example.fi")
    answer["In-Reply-To"] = question["Message-ID"]
    answer["References"] = question["Message-ID"]
    answer.set_content("Korjasin postinumeron, nyt 00100.")
    dovecot.append(box_user.name, answer.as_bytes())
    fetch_once()
    texts = [m.text for m in session.exec(select(Message).where(Message.ticket_id == ticket.id))]
    assert any("Korjasin postinumeron" in t for t in texts)
    assert session.exec(select(Ticket)).all() == [ticket]
    # Korjattavat shows that the user answered.
    answered = client.get("/invoices/korjattavat").text
    assert 'data-testid="user-answered"' in answered and "Käyttäjä vastasi" in answered

    # The user fixed it in oma.e-tunnus.fi: resolve re-reads Netvisor and re-runs the checks.
    bare_sandbox.state.customers[610].post_number = "00100"
    response = client.post(
        f"/api/v1/invoices/{invoice.id}/resolve", headers={"X-CSRF-Token": client.csrf}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "unsent" and body["deadline_paused"] is False
    assert next(c for c in body["checks"] if c["name"] == "delivery_data")["ok"] is True
    history_kinds = [e["kind"] for e in body["history"]]
    assert history_kinds.index("korjattava") < history_kinds.index("resolved")
    session.refresh(invoice)
    assert invoice.paused_at is None and invoice.paused_seconds >= 0
    assert invoice.deadline_at >= correction.marked_at

    # Netvisor got a comment line when marked and when resolved.
    run_steps(session, clients(bare_sandbox), rounds=1, outbox=False)
    comments = bare_sandbox.state.comments(added.netvisor_key)
    assert len(comments) == 2
    assert comments[0].startswith("Merkitty korjattavaksi") and "Kaisa Korjaaja" in comments[0]
    assert ".;" not in comments[0] and comments[0].endswith("Tarkista asiakkaan postinumero.")
    assert comments[1].startswith("Korjattu")
    kinds = [
        e.kind
        for e in session.exec(select(InvoiceEvent).where(InvoiceEvent.invoice_id == invoice.id))
    ]
    assert "korjattava" in kinds and "resolved" in kinds
    actions = {a.action for a in session.exec(select(AuditEvent))}
    assert {"invoices.korjattava", "invoices.resolve"} <= actions


def test_korjattava_needs_a_reason_and_an_invoice_in_the_queue(
    session, bare_sandbox, invoice_settings_env, data_dir, logged_in
):
    from decimal import Decimal

    invoice_settings_env.setenv("HELPDESK_NETVISOR_URL", bare_sandbox.url)
    factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
    etunnus_user(session, "tiina@example.fi")
    added = bare_sandbox.state.add_invoice(
        etunnus_number=ETUNNUS,
        customer=SandboxCustomer(611, "C611", "Oy Ab", "Katu 2", "00100", "Helsinki"),
        delivery_method="Posti",
        rows=[SandboxRow("Työ", Decimal(1), Decimal("50.00"), Decimal("25.5"))],
    )
    invoice = synced(session, bare_sandbox, added.invoice_number)
    headers = {"X-CSRF-Token": logged_in.csrf}
    empty = logged_in.post(f"/api/v1/invoices/{invoice.id}/korjattava", headers=headers, json={})
    assert empty.status_code == 400
    done = logged_in.post(
        f"/api/v1/invoices/{invoice.id}/korjattava",
        headers=headers,
        json={"other": "Puuttuva tilausnumero", "message": "Hei, mikä on tilausnumero?"},
    )
    assert done.status_code == 200 and done.json()["status"] == "korjattava"
    again = logged_in.post(f"/api/v1/invoices/{invoice.id}/dispatch", headers=headers)
    assert again.status_code == 409  # not in the queue while Korjattava


def test_reasons_join_as_sentences() -> None:
    from plugins.invoices.korjattava import join_reasons

    assert join_reasons(["Postinumero puuttuu.", "Tarkista summa", " ", "Onko ALV oikein?"]) == (
        "Postinumero puuttuu. Tarkista summa. Onko ALV oikein?"
    )


def test_resolving_while_a_check_still_fails_warns(
    session, bare_sandbox, invoice_settings_env, data_dir, logged_in
) -> None:

    from plugins.invoices.korjattava import mark_korjattava

    invoice_settings_env.setenv("HELPDESK_INVOICES_NOTIFY_MAILBOX", "asiakaspalvelu@e-tunnus.fi")
    invoice_settings_env.setenv("HELPDESK_NETVISOR_URL", bare_sandbox.url)
    factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
    etunnus_user(session, "tiina@example.fi")
    _, invoice = _bad_postcode(session, bare_sandbox, 611)
    mark_korjattava(
        session, invoice=invoice, agent=factories.agent(session), checks=["delivery_data"]
    )
    # The user did not fix the postcode: back in the queue, with a warning that says so.
    answer = logged_in.post(
        f"/invoices/{invoice.id}/resolve",
        headers={"HX-Request": "true", "X-CSRF-Token": logged_in.csrf},
    )
    assert answer.status_code == 200
    assert 'data-testid="actions-notice"' in answer.text
    assert "tarkistus epäonnistuu yhä" in answer.text
