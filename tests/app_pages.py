"""Every page of the app with the demo data and the invoice plugin: for tests that walk them
all (the layout on a phone and a laptop, one language at a time)."""

from __future__ import annotations

from datetime import UTC, datetime

from netvisor_sandbox import NetvisorSandbox
from sqlmodel import Session, select

from helpdesk.models import Mailbox, Ticket
from helpdesk.services import demo
from plugins.invoices.models import Invoice
from plugins.invoices.sandboxes.demo import ensure_demo_users
from plugins.invoices.sync import sync_unsent


def seed_demo(session: Session, sandbox: NetvisorSandbox) -> None:
    """The demo's mailboxes, tickets and users, and the sandbox's invoices synced in."""
    demo.seed(session)
    ensure_demo_users(session)
    assert sync_unsent(session, sandbox.client(), datetime.now(UTC)).ok
    session.commit()


def app_pages(session: Session, *, every_invoice: bool = False) -> list[str]:
    """The paths of the pages an agent (an admin) uses, one of each kind."""
    ticket = session.exec(select(Ticket).order_by(Ticket.id)).first()
    invoices = session.exec(select(Invoice).order_by(Invoice.id)).all()
    mailbox = session.exec(select(Mailbox).order_by(Mailbox.id)).first()
    assert ticket is not None and invoices and mailbox is not None
    shown = invoices if every_invoice else invoices[:1]
    return [
        "/dashboard",
        "/tickets",
        f"/tickets/{ticket.id}",
        "/tickets/new",
        "/calls",
        "/calls/new",
        "/users",
        "/users/100102",
        "/notifications",
        "/profile",
        "/invoices",
        "/invoices/korjattavat",
        "/admin/mailboxes",
        f"/admin/mailboxes/{mailbox.id}",  # with its OAuth 2.0 sign-in panel
        "/oauth/callback",  # the connect flow's return page (here: an unknown sign-in)
        "/admin/agents",
        "/admin/saved-replies",
        "/admin/tags",
        "/admin/blocks",
        "/admin/invoice-texts",
        *(f"/invoices/{invoice.id}" for invoice in shown),
    ]
