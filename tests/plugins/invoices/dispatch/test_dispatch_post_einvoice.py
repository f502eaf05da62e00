"""Post in both modes (Netvisor's print service, Maventa) and e-invoices (Maventa or download)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import factories
import pytest
from invoice_dispatch import (
    add_invoice,
    clients,
    dispatch_of,
    etunnus_user,
    run_steps,
    synced,
    use_maventa,
)
from sqlmodel import Session

from helpdesk.db import new_session
from helpdesk.workqueue import CRASH_ENV
from plugins.invoices.dispatch import confirm_sent, start_dispatch
from plugins.invoices.finvoice import validate_finvoice
from plugins.invoices.sandboxes.netvisor.answers import invoice_pdf
from plugins.invoices.sync import sync_unsent

ROOT = Path(__file__).resolve().parents[4]


@pytest.fixture
def setup(session: Session, bare_sandbox, invoice_settings_env, data_dir):
    """asiakaspalvelu@ for the notices and the E-tunnus user the invoices belong to."""
    factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
    etunnus_user(session, "tiina@example.fi")
    return invoice_settings_env


def test_post_via_netvisor_is_recorded_when_the_sync_sees_it_leave(session, setup, bare_sandbox):
    setup.setenv("HELPDESK_INVOICES_NETVISOR_UI_URL", "https://netvisor.example/{netvisor_key}")
    added = add_invoice(bare_sandbox, "post")
    invoice = synced(session, bare_sandbox, added.invoice_number)
    agent = factories.agent(session, name="Pia Postittaja")
    dispatch = start_dispatch(session, invoice=invoice, agent=agent)
    assert (dispatch.mode, dispatch.state) == ("print_netvisor", "waiting")
    run_steps(session, clients(bare_sandbox), rounds=2)
    assert dispatch_of(session, invoice).state == "waiting"  # the worker leaves it to the agent

    # The agent used Netvisor's print service; Netvisor moved the invoice on by itself.
    bare_sandbox.state.set_status([added.netvisor_key], "open")
    changes_before = list(bare_sandbox.state.status_changes)
    assert sync_unsent(session, bare_sandbox.client(max_attempts=1)).ok
    dispatch = dispatch_of(session, invoice)
    assert dispatch.state == "sent" and dispatch.sent_by == agent.id
    run_steps(session, clients(bare_sandbox), outbox=False)
    dispatch = dispatch_of(session, invoice)
    assert dispatch.state == "user_notified"
    assert bare_sandbox.state.status_changes == changes_before  # no second status call
    [comment] = bare_sandbox.state.comments(added.netvisor_key)
    assert comment.startswith("Lähetetty postitse (Netvisorin tulostuspalvelu)")
    assert "Pia Postittaja" in comment


def test_post_via_netvisor_confirmed_by_the_agent(session, setup, bare_sandbox):
    added = add_invoice(bare_sandbox, "post")
    invoice = synced(session, bare_sandbox, added.invoice_number)
    agent = factories.agent(session)
    dispatch = start_dispatch(session, invoice=invoice, agent=agent)
    confirm_sent(session, dispatch=dispatch, agent=agent)
    confirm_sent(session, dispatch=dispatch, agent=agent)  # a double click changes nothing
    run_steps(session, clients(bare_sandbox), outbox=False)
    assert dispatch_of(session, invoice).state == "user_notified"
    assert bare_sandbox.state.status_changes == [(added.netvisor_key, "unsent", "open")]


def test_post_via_maventa_uploads_the_finvoice_and_the_pdf_once(
    session, setup, bare_sandbox, maventa
):
    setup.setenv("HELPDESK_INVOICES_POST_MODE", "maventa")
    use_maventa(setup, maventa)
    added = add_invoice(bare_sandbox, "post")
    invoice = synced(session, bare_sandbox, added.invoice_number)
    dispatch = start_dispatch(session, invoice=invoice, agent=factories.agent(session))
    assert dispatch.mode == "print_maventa"
    run_steps(session, clients(bare_sandbox, maventa), outbox=False)
    [uploaded] = maventa.state.invoices.values()
    # AX takes an invoice XML or a ZIP of it and attachments, never a PDF alone; print
    # reads the recipient's postal address from the invoice.
    with zipfile.ZipFile(io.BytesIO(uploaded.content)) as archive:
        xml = archive.read(f"lasku-{added.invoice_number}.xml")
        assert archive.read(f"lasku-{added.invoice_number}.pdf") == invoice_pdf(added)
    assert validate_finvoice(xml) == []
    assert b"<BuyerStreetName>Testikatu 1</BuyerStreetName>" in xml
    assert uploaded.fields["format"] == "FINVOICE30"
    assert uploaded.fields["disabled_routes"] == ["email", "einvoice"]
    assert uploaded.route == "print" and uploaded.status == "DELIVERED"
    dispatch = dispatch_of(session, invoice)
    assert uploaded.id == dispatch.maventa_uuid == dispatch.maventa_invoice_id
    assert dispatch.state == "user_notified"
    assert bare_sandbox.state.status_changes == [(added.netvisor_key, "unsent", "open")]


def test_einvoice_through_maventa_is_valid_finvoice(session, setup, bare_sandbox, maventa):
    use_maventa(setup, maventa)
    added = add_invoice(bare_sandbox, "einvoice")
    invoice = synced(session, bare_sandbox, added.invoice_number)
    dispatch = start_dispatch(session, invoice=invoice, agent=factories.agent(session))
    assert dispatch.mode == "einvoice_maventa"
    run_steps(session, clients(bare_sandbox, maventa), outbox=False)
    [uploaded] = maventa.state.invoices.values()
    assert validate_finvoice(uploaded.content) == []
    assert b"<InvoiceNumber>" + added.invoice_number.encode() in uploaded.content
    assert b"<EpiRemittanceInfoIdentifier" in uploaded.content
    assert uploaded.fields["format"] == "FINVOICE30"
    assert uploaded.fields["recipient_eia"] == "003727345615"
    assert uploaded.fields["recipient_operator"] == "003721291126"
    assert uploaded.fields["disabled_routes"] == ["email", "print"]
    assert uploaded.route == "einvoice"
    assert dispatch_of(session, invoice).state == "user_notified"


def test_einvoice_without_maventa_offers_the_file(session, setup, bare_sandbox, logged_in):
    added = add_invoice(bare_sandbox, "einvoice")
    invoice = synced(session, bare_sandbox, added.invoice_number)
    page = logged_in.get(f"/invoices/{invoice.id}").text
    assert 'data-testid="dispatch-button"' in page
    logged_in.form(f"/invoices/{invoice.id}/dispatch", {"key": "k1"})
    dispatch = dispatch_of(session, invoice)
    assert (dispatch.mode, dispatch.state) == ("einvoice_download", "waiting")
    page = logged_in.get(f"/invoices/{invoice.id}").text
    assert "Verkkolaskukanavaa ei ole määritetty" in page
    xml = logged_in.get(f"/invoices/{invoice.id}/finvoice")
    assert xml.headers["content-type"].startswith("application/xml")
    assert validate_finvoice(xml.content) == []
    logged_in.form(f"/invoices/dispatches/{dispatch.id}/confirm", {})
    run_steps(session, clients(bare_sandbox), outbox=False)
    assert dispatch_of(session, invoice).state == "user_notified"


@pytest.mark.slow
def test_worker_killed_after_the_upload_does_not_upload_again(
    committed_url, bare_sandbox, maventa, invoice_settings_env, data_dir
):
    invoice_settings_env.setenv("HELPDESK_INVOICES_POST_MODE", "maventa")
    invoice_settings_env.setenv("HELPDESK_NETVISOR_URL", bare_sandbox.url)
    use_maventa(invoice_settings_env, maventa)
    with new_session() as session:
        factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
        etunnus_user(session, "tiina@example.fi")
        added = add_invoice(bare_sandbox, "post")
        invoice = synced(session, bare_sandbox, added.invoice_number)
        invoice_id = invoice.id
        start_dispatch(session, invoice=invoice, agent=factories.agent(session))
    env = {
        **os.environ,
        "HELPDESK_DATABASE_URL": committed_url,
        "HELPDESK_DATA_DIR": str(data_dir),
        CRASH_ENV: "dispatch:after-upload",
    }
    killed = subprocess.run(
        [sys.executable, "-m", "helpdesk", "invoices", "dispatch-steps"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]
    assert len(maventa.state.invoices) == 1
    with new_session() as session:
        assert dispatch_of(session, invoice_id).maventa_invoice_id is None  # lost in the crash
        run_steps(session, clients(bare_sandbox, maventa), outbox=False)
        dispatch = dispatch_of(session, invoice_id)
        assert dispatch.state == "user_notified"
        assert dispatch.maventa_invoice_id == next(iter(maventa.state.invoices))
    assert len(maventa.state.invoices) == 1
