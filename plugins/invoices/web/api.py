"""Invoices over JSON: ``GET /api/v1/invoices?q=&status=&user=`` and ``/api/v1/invoices/{id}``.

Sums are decimal strings (``"244.00"``), never floats; times are ISO 8601 in UTC.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlmodel import Session, col, select

from helpdesk.plugin_api import API_ERRORS, Agent, CurrentAgent, Id, Line, Search, SessionDep
from plugins.invoices import queue as queries
from plugins.invoices.dispatch import dispatches_of
from plugins.invoices.models import Dispatch, Invoice
from plugins.invoices.search import search_invoices

router = APIRouter(prefix="/api/v1", tags=["invoices"], responses=API_ERRORS)


class CheckRead(BaseModel):
    """One automatic check; ``reason`` is Finnish text for the agent."""

    name: str
    ok: bool
    reason: str


class DispatchRead(BaseModel):
    """One dispatch: how, where it is on its way, and what failed."""

    id: int
    method: str
    mode: str
    state: str
    failed_step: str | None
    error: str | None
    override_reason: str | None
    recipient: str
    agent: str | None
    maventa_invoice_id: str | None
    created_at: datetime
    sending_at: datetime | None
    sent_at: datetime | None
    finalised_at: datetime | None
    notified_at: datetime | None
    failed_at: datetime | None


class InvoiceRead(BaseModel):
    """An invoice in lists; ``dispatch`` is the latest dispatch, if any."""

    id: int
    netvisor_key: int
    number: str
    reference: str
    user: str | None
    customer_name: str
    sum: str
    net_sum: str
    vat_sum: str
    delivery_method: str | None
    delivery_method_text: str
    status: str
    netvisor_status: str
    invoice_date: date | None
    due_date: date | None
    first_seen_at: datetime
    deadline: datetime
    checks_ok: bool
    checks: list[CheckRead]
    deadline_paused: bool = False
    dispatch: DispatchRead | None = None


class EventRead(BaseModel):
    """One line of the invoice's history."""

    at: datetime
    kind: str
    agent: str | None
    details: dict[str, Any]


class InvoiceDetail(InvoiceRead):
    """One invoice with its recipient, rows and history."""

    customer_code: str | None
    customer_address: str
    customer_postcode: str
    customer_town: str
    #: The country's name as Netvisor shows it, and its ISO 3166 code.
    customer_country: str
    customer_country_code: str
    business_id: str
    email: str
    einvoice_address: str
    einvoice_operator: str
    rows: list[dict[str, Any]]
    left_unsent_at: datetime | None
    last_synced_at: datetime
    history: list[EventRead]
    dispatches: list[DispatchRead] = []
    #: Netvisor's own process history (timestamp, material_type, user, channel, status).
    netvisor_history: list[dict[str, str]] = []
    #: Why the last sync could not read the invoice or its customer from Netvisor.
    sync_error: str = ""


class InvoicePage(BaseModel):
    items: list[InvoiceRead]
    count: int


def invoice_out(invoice: Invoice) -> dict[str, Any]:
    """The list shape of an invoice."""
    return {
        "id": invoice.id or 0,
        "netvisor_key": invoice.netvisor_key,
        "number": invoice.number,
        "reference": invoice.reference,
        "user": invoice.etunnus or None,
        "customer_name": invoice.customer_name,
        "sum": str(invoice.gross_sum),
        "net_sum": str(invoice.net_sum),
        "vat_sum": str(invoice.vat_sum),
        "delivery_method": str(invoice.delivery_method) if invoice.delivery_method else None,
        "delivery_method_text": invoice.delivery_method_text,
        "status": str(invoice.status),
        "netvisor_status": invoice.netvisor_status,
        "invoice_date": invoice.invoice_date,
        "due_date": invoice.due_date,
        "first_seen_at": invoice.first_seen_at,
        "deadline": invoice.deadline_at,
        "checks_ok": invoice.checks_ok,
        "checks": [CheckRead(**c) for c in invoice.checks],
        "deadline_paused": invoice.paused_at is not None,
    }


def dispatch_out(session: Session, dispatch: Dispatch) -> DispatchRead:
    """The API shape of a dispatch."""
    agent = session.get(Agent, dispatch.agent_id) if dispatch.agent_id else None
    return DispatchRead(
        id=dispatch.id or 0,
        method=dispatch.method,
        mode=str(dispatch.mode),
        state=str(dispatch.state),
        failed_step=dispatch.failed_step,
        error=dispatch.error,
        override_reason=dispatch.override_reason,
        recipient=dispatch.recipient,
        agent=agent.email if agent else None,
        maventa_invoice_id=dispatch.maventa_invoice_id,
        created_at=dispatch.created_at,
        sending_at=dispatch.sending_at,
        sent_at=dispatch.sent_at,
        finalised_at=dispatch.finalised_at,
        notified_at=dispatch.notified_at,
        failed_at=dispatch.failed_at,
    )


def latest_dispatches(session: Session, ids: list[int]) -> dict[int, DispatchRead]:
    """The newest dispatch of each invoice, by invoice id (one query)."""
    if not ids:
        return {}
    rows = session.exec(
        select(Dispatch).where(col(Dispatch.invoice_id).in_(ids)).order_by(col(Dispatch.id))
    ).all()
    return {row.invoice_id: dispatch_out(session, row) for row in rows}


@router.get("/invoices", response_model=InvoicePage)
def api_list_invoices(
    session: SessionDep,
    agent: CurrentAgent,
    q: Search | None = None,
    status: Line | None = None,
    user: Line | None = None,
    limit: int = 200,
) -> InvoicePage:
    """Invoices matching ``q`` (number, reference, customer, sum, or ``100102%``)."""
    found = search_invoices(session, q=q, status=status, user=user, limit=limit)
    latest = latest_dispatches(session, [i.id or 0 for i in found])
    items = [InvoiceRead(**invoice_out(i), dispatch=latest.get(i.id or 0)) for i in found]
    return InvoicePage(items=items, count=len(found))


@router.get("/invoices/{invoice_id}", response_model=InvoiceDetail)
def api_get_invoice(invoice_id: Id, session: SessionDep, agent: CurrentAgent) -> InvoiceDetail:
    """One invoice with its rows, recipient details, checks and history."""
    invoice = queries.get_invoice(session, invoice_id)
    return invoice_detail(session, invoice)


def invoice_detail(session: Session, invoice: Invoice) -> InvoiceDetail:
    """One invoice with its recipient, rows, history and dispatches."""
    history = [
        EventRead(at=e.at, kind=e.kind, agent=a.email if a else None, details=e.details)
        for e, a in queries.history(session, invoice)
    ]
    dispatches = [dispatch_out(session, d) for d in dispatches_of(session, invoice)]
    return InvoiceDetail(
        **invoice_out(invoice),
        dispatch=dispatches[-1] if dispatches else None,
        dispatches=dispatches,
        customer_code=invoice.customer_code,
        customer_address=invoice.customer_address,
        customer_postcode=invoice.customer_postcode,
        customer_town=invoice.customer_town,
        customer_country=invoice.customer_country,
        customer_country_code=invoice.customer_country_code,
        business_id=invoice.business_id,
        email=invoice.email,
        einvoice_address=invoice.einvoice_address,
        einvoice_operator=invoice.einvoice_operator,
        rows=invoice.rows,
        left_unsent_at=invoice.left_unsent_at,
        last_synced_at=invoice.last_synced_at,
        history=history,
        netvisor_history=invoice.netvisor_history,
        sync_error=invoice.sync_error,
    )
