"""Invoice actions over JSON: dispatch, send all clean, Korjattava, resolve.

``POST /api/v1/invoices/{id}/dispatch`` is idempotent with an ``Idempotency-Key`` header:
the same key answers the same dispatch. Without a key, a second call while a dispatch is
active answers 409 with that dispatch, so a retried request never sends twice. An invoice
with a failing check (run again as the request comes) answers 409 with the failing checks
unless the body gives ``override_reason``; ``POST /api/v1/invoices/dispatch-clean`` sends
every clean one and says what it left and why. Both 409 shapes are ``DispatchConflict``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from helpdesk.plugin_api import API_ERRORS, CurrentAgent, Id, Key, Line, SessionDep, Text, gettext
from plugins.invoices import dispatch as dispatching
from plugins.invoices import korjattava
from plugins.invoices import queue as queries
from plugins.invoices.rules.checks import CheckResult
from plugins.invoices.web.api import DispatchRead, InvoiceDetail, dispatch_out, invoice_detail
from plugins.invoices.web.display import CHECK_LABELS, CHECK_REASONS, labels, require_netvisor

router = APIRouter(prefix="/api/v1", tags=["invoices"], responses=API_ERRORS)


class DispatchIn(BaseModel):
    """``method`` overrides the invoice's own delivery method and then needs ``reason``;
    ``override_reason`` sends an invoice with failing checks anyway (trimmed, non-empty, at
    most 500 characters; kept in the invoice's history with the agent and the time)."""

    method: Line | None = None
    # Reasons are cleaned by the dispatch gate (control characters out), not refused.
    reason: str | None = None
    override_reason: str | None = None


class FailedCheckOut(BaseModel):
    """One failing check: its code, its name and what it means in the agent's language, and
    ``detail``, the check's own words (Finnish, as the queue shows them)."""

    code: str
    label: str
    reason: str
    detail: str


class DispatchConflict(BaseModel):
    """Why the invoice did not go (409). ``code`` is ``checks_failed`` (``failed_checks``
    lists them; a non-empty ``override_reason`` sends it anyway), ``dispatch_active``
    (``dispatch`` is the one running), ``korjattava`` or ``not_unsent``."""

    detail: str
    code: str
    failed_checks: list[FailedCheckOut] = []
    dispatch: DispatchRead | None = None


class CleanIn(BaseModel):
    """``ids``: the invoices to consider (those the agent saw); none: the whole queue."""

    ids: list[Id] | None = None


class CleanSent(BaseModel):
    """An invoice "send all clean" started."""

    id: int
    number: str
    method: str
    recipient: str
    sum: str
    dispatch: DispatchRead


class CleanSkipped(BaseModel):
    """An invoice "send all clean" left in the queue, and why (``code``, ``reason``)."""

    id: int
    number: str
    status: str
    code: str
    reason: str
    failed_checks: list[FailedCheckOut] = []


class CleanSummary(BaseModel):
    """What went and what was left."""

    sent: list[CleanSent]
    skipped: list[CleanSkipped]


CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": DispatchConflict, "description": "The invoice did not go"}
}


def failed_out(checks: Iterable[CheckResult]) -> list[FailedCheckOut]:
    """The failing checks as the API answers them, in the request's language."""
    return [
        FailedCheckOut(
            code=c.name,
            label=labels(CHECK_LABELS, c.name),
            reason=labels(CHECK_REASONS, c.name),
            detail=c.reason,
        )
        for c in checks
    ]


class KorjattavaIn(BaseModel):
    """Check names (failed ones as the API lists them), free text, and the questions."""

    reasons: list[Line] = Field(default_factory=list)
    other: Text = ""
    message: Text = ""


@router.post("/invoices/{invoice_id}/dispatch", response_model=InvoiceDetail, responses=CONFLICT)
def api_dispatch(
    invoice_id: Id,
    session: SessionDep,
    agent: CurrentAgent,
    body: DispatchIn | None = None,
    idempotency_key: Annotated[Key | None, Header()] = None,
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
            method_reason=body.reason,
            override_reason=body.override_reason,
            idempotency_key=f"api-{agent.id}-{idempotency_key}" if idempotency_key else None,
        )
    except dispatching.ActiveDispatch as exc:
        return _conflict(exc, dispatch=dispatch_out(session, exc.dispatch))
    except dispatching.ChecksFailed as exc:
        return _conflict(exc, failed_checks=failed_out(exc.failed))
    session.refresh(invoice)
    return invoice_detail(session, invoice)


def _conflict(
    exc: dispatching.ActiveDispatch | dispatching.ChecksFailed,
    *,
    dispatch: DispatchRead | None = None,
    failed_checks: list[FailedCheckOut] | None = None,
) -> JSONResponse:
    body = DispatchConflict(
        detail=exc.text(),
        code=exc.code,
        dispatch=dispatch,
        failed_checks=failed_checks or [],
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=409)


@router.post("/invoices/dispatch-clean", response_model=CleanSummary)
def api_dispatch_clean(
    session: SessionDep,
    agent: CurrentAgent,
    body: CleanIn | None = None,
    idempotency_key: Annotated[Key | None, Header()] = None,
) -> CleanSummary:
    """Send every waiting invoice whose checks all pass ("send all clean").

    Each goes as one click would (its checks run again now); a failing check, a Korjattava
    invoice or one being sent already is left in ``skipped`` with its reason. The same
    ``Idempotency-Key`` answers the dispatches the first request started. 503
    ``not_configured`` while Netvisor is not configured.
    """
    require_netvisor()
    run = dispatching.dispatch_clean(
        session,
        agent=agent,
        invoice_ids=(body or CleanIn()).ids,
        key=f"api-{idempotency_key}" if idempotency_key else None,
    )
    return CleanSummary(
        sent=[
            CleanSent(
                id=s.invoice.id or 0,
                number=s.invoice.number,
                method=s.dispatch.method,
                recipient=s.dispatch.recipient,
                sum=str(s.invoice.gross_sum),
                dispatch=dispatch_out(session, s.dispatch),
            )
            for s in run.sent
        ],
        skipped=[
            CleanSkipped(
                id=k.invoice.id or 0,
                number=k.invoice.number,
                status=str(k.invoice.status),
                code=k.code,
                reason=gettext(k.message),
                failed_checks=failed_out(k.failed),
            )
            for k in run.skipped
        ],
    )


@router.post("/invoices/{invoice_id}/korjattava", response_model=InvoiceDetail)
def api_korjattava(
    invoice_id: Id, body: KorjattavaIn, session: SessionDep, agent: CurrentAgent
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
def api_resolve(invoice_id: Id, session: SessionDep, agent: CurrentAgent) -> InvoiceDetail:
    """Re-read the invoice from Netvisor, re-run the checks and put it back in the queue.

    503 ``not_configured`` while Netvisor is not configured.
    """
    require_netvisor()
    invoice = queries.get_invoice(session, invoice_id)
    korjattava.resolve_invoice(session, invoice=invoice, agent=agent)
    session.refresh(invoice)
    return invoice_detail(session, invoice)
