"""Shared set-up for dispatch tests: a Maventa sandbox server, sandbox invoices, clients."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import factories
import pytest
from maventa_sandbox import MaventaServer
from netvisor_sandbox import NetvisorSandbox
from sqlmodel import Session, select
from webclient import Client, login

from helpdesk.mail.outbound.outbox import flush_due
from helpdesk.models import Agent, EtunnusUser, utcnow
from plugins.invoices.dispatch.runner import RunSummary, run_due
from plugins.invoices.dispatch.steps import Clients
from plugins.invoices.maventa.client import MaventaClient
from plugins.invoices.models import Dispatch, Invoice
from plugins.invoices.sandboxes.maventa import (
    SANDBOX_API_KEY,
    SANDBOX_CLIENT_ID,
    SANDBOX_VENDOR_API_KEY,
)
from plugins.invoices.sandboxes.netvisor.data import SandboxCustomer, SandboxInvoice, SandboxRow
from plugins.invoices.sync import sync_unsent

ETUNNUS = "100777"
METHOD_TEXT = {"email": "Sähköposti", "post": "Posti", "einvoice": "Verkkolasku"}


def use_maventa(monkeypatch: pytest.MonkeyPatch, server: MaventaServer) -> None:
    """Point HELPDESK_MAVENTA_* at the sandbox (also for worker subprocesses)."""
    monkeypatch.setenv("HELPDESK_MAVENTA_URL", server.url)
    monkeypatch.setenv("HELPDESK_MAVENTA_CLIENT_ID", SANDBOX_CLIENT_ID)
    monkeypatch.setenv("HELPDESK_MAVENTA_API_KEY", SANDBOX_API_KEY)
    monkeypatch.setenv("HELPDESK_MAVENTA_VENDOR_API_KEY", SANDBOX_VENDOR_API_KEY)


def customer(
    key: int = 601,
    *,
    email: str | None = "reskontra@example.fi",
    einvoice: tuple[str, str] | None = ("003727345615", "003721291126"),
) -> SandboxCustomer:
    """A customer with every delivery detail filled in."""
    return SandboxCustomer(
        key,
        f"C{key}",
        "Testiyhtiö Oy",
        "Testikatu 1",
        "00100",
        "Helsinki",
        business_id="2734561-5",
        email=email,
        email_invoicing_address=email,
        finvoice_address=einvoice[0] if einvoice else None,
        finvoice_router_code=einvoice[1] if einvoice else None,
    )


def add_invoice(
    sandbox: NetvisorSandbox, method: str, *, buyer: SandboxCustomer | None = None
) -> SandboxInvoice:
    """An unsent invoice of user ETUNNUS with one 25.5 % row."""
    return sandbox.state.add_invoice(
        etunnus_number=ETUNNUS,
        customer=buyer or customer(),
        delivery_method=METHOD_TEXT[method],
        rows=[SandboxRow("Valokuvaus", Decimal(2), Decimal("100.00"), Decimal("25.5"))],
    )


def etunnus_user(session: Session, email: str) -> EtunnusUser:
    found = session.exec(select(EtunnusUser).where(EtunnusUser.etunnus == ETUNNUS)).first()
    return found or factories.user(session, ETUNNUS, name="Tiina Testaaja", emails=(email,))


def synced(session: Session, sandbox: NetvisorSandbox, number: str) -> Invoice:
    """Sync from the sandbox and return the stored invoice."""
    assert sync_unsent(session, sandbox.client(max_attempts=1)).ok
    return session.exec(select(Invoice).where(Invoice.number == number)).one()


def clients(sandbox: NetvisorSandbox, maventa: MaventaServer | None = None) -> Clients:
    """Clients without retries, so injected failures show at once."""

    def no_maventa() -> MaventaClient:
        raise AssertionError("this test does not use Maventa")

    return Clients(
        netvisor_factory=lambda: sandbox.client(max_attempts=1),
        maventa_factory=maventa.client if maventa else no_maventa,
    )


def run_steps(
    session: Session, used: Clients, *, rounds: int = 6, outbox: bool = True
) -> list[RunSummary]:
    """Run the dispatch steps (as if time passed) and the outbox until nothing moves."""
    summaries = []
    for _ in range(rounds):
        summaries.append(run_due(session, clients=used, now=utcnow() + timedelta(hours=2)))
        if outbox:
            flush_due(session=session)
    return summaries


def dispatch_of(session: Session, invoice: Invoice | int) -> Dispatch:
    """The invoice's newest dispatch, freshly read."""
    invoice_id = invoice if isinstance(invoice, int) else invoice.id
    session.expire_all()
    return session.exec(
        select(Dispatch).where(Dispatch.invoice_id == invoice_id).order_by(Dispatch.id.desc())
    ).first()


def clean_invoice(session: Session, sandbox: NetvisorSandbox) -> Invoice:
    """A synced post invoice of user ETUNNUS whose checks all pass."""
    invoice = synced(session, sandbox, add_invoice(sandbox, "post").invoice_number)
    assert invoice.checks_ok, invoice.failed_checks
    return invoice


def failing_invoice(session: Session, sandbox: NetvisorSandbox) -> Invoice:
    """A synced post invoice whose customer's business ID is wrong: only business_id fails,
    and it could still be sent (the address is complete)."""
    buyer = replace(customer(602), name="Toinen Oy", business_id="2734561-4")
    invoice = synced(session, sandbox, add_invoice(sandbox, "post", buyer=buyer).invoice_number)
    assert [c["name"] for c in invoice.failed_checks] == ["business_id"]
    return invoice


def dispatches_for(session: Session, invoice: Invoice) -> list[Dispatch]:
    """Every dispatch of the invoice, freshly read."""
    session.expire_all()
    return list(session.exec(select(Dispatch).where(Dispatch.invoice_id == invoice.id)))


def api_post(client: Client, url: str, **kwargs: Any) -> Any:
    """A POST to the JSON API with the session's CSRF token."""
    return client.post(url, headers={"X-CSRF-Token": client.csrf}, **kwargs)


def english_agent(session: Session, client: Client) -> Agent:
    """An agent whose language is English, logged in on ``client``."""
    agent = factories.agent(session, language="en")
    login(client, agent)
    return agent
