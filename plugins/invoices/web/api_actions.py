"""Invoice actions over JSON: dispatch, Korjattava, resolve.

``POST /api/v1/invoices/{id}/dispatch`` is idempotent with an ``Idempotency-Key`` header:
the same key answers the same dispatch. Without a key, a second call while a dispatch is
active answers 409 with that dispatch, so a retried request never sends twice.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from helpdesk.plugin_api import CurrentAgent, SessionDep
from plugins.invoices import dispatch as dispatching
from plugins.invoices import korjattava
from plugins.invoices import queue as queries
from plugins.invoices.web.api import InvoiceDetail, dispatch_out, invoice_detail
from plugins.invoices.web.display import require_netvisor

router = APIRouter(prefix="/api/v1", tags=["invoices"])


class DispatchIn(BaseModel):
    """``method`` overrides the invoice's own delivery method and then needs ``reason``."""

    method: str | None = None
    reason: str | None = None


class KorjattavaIn(BaseModel):
    """Check names (failed ones as the API lists them), free text, and the questions."""

    reasons: list[str] = Field(default_factory=list)
    other: str = ""
    message: str = ""


@router.post("/invoices/{invoice_id}/dispatch", response_model=InvoiceDetail)
def api_dispatch(
    invoice_id: int,
    session: SessionDep,
    agent: CurrentAgent,
    body: DispatchIn | None = None,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> InvoiceDetail | JSONResponse:
    """Start sending the invoice on (202-like: the worker does the steps).

    503 ``not_configured`` while Netvisor is not configured.
    """
    require_netvisor()
    invoice = queries.get_invoice(session, invoice_id)
    body = body or DispatchIn()
    try:
        dispatching.start_dispatch(
            session,
            invoice=invoice,
            agent=agent,
            method=body.method,
            override_reason=body.reason,
            idempotency_key=f"api-{agent.id}-{idempotency_key}" if idempotency_key else None,
        )
    except dispatching.ActiveDispatch as exc:
        return JSONResponse(
            {
                "detail": "The invoice is being sent already",
                "code": exc.code,
                "dispatch": dispatch_out(session, exc.dispatch).model_dump(mode="json"),
            },
            status_code=409,
        )
    session.refresh(invoice)
    return invoice_detail(session, invoice)


@router.post("/invoices/{invoice_id}/korjattava", response_model=InvoiceDetail)
def api_korjattava(
    invoice_id: int, body: KorjattavaIn, session: SessionDep, agent: CurrentAgent
) -> InvoiceDetail:
    """Mark the invoice Korjattava and send the questions to its user from a ticket."""
    invoice = queries.get_invoice(session, invoice_id)
    korjattava.mark_korjattava(
        session,
        invoice=invoice,
        agent=agent,
        checks=body.reasons,
        other=body.other,
        message=body.message,
    )
    session.refresh(invoice)
    return invoice_detail(session, invoice)


@router.post("/invoices/{invoice_id}/resolve", response_model=InvoiceDetail)
def api_resolve(invoice_id: int, session: SessionDep, agent: CurrentAgent) -> InvoiceDetail:
    """Re-read the invoice from Netvisor, re-run the checks and put it back in the queue.

    503 ``not_configured`` while Netvisor is not configured.
    """
    require_netvisor()
    invoice = queries.get_invoice(session, invoice_id)
    korjattava.resolve_invoice(session, invoice=invoice, agent=agent)
    session.refresh(invoice)
    return invoice_detail(session, invoice)
