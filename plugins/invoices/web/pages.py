"""The invoice pages: the queue (Lähettämättömät laskut, send all clean), search, end of day,
one invoice."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import col, select

from helpdesk.plugin_api import (
    CurrentAgent,
    EtunnusUser,
    HtmxTarget,
    Id,
    Key,
    Line,
    NotFound,
    Search,
    ServiceError,
    SessionDep,
    end_read,
    gettext,
    render,
    utcnow,
)
from plugins.invoices import dispatch as dispatching
from plugins.invoices import queue as queries
from plugins.invoices.dispatch import CleanRun, dispatches_of
from plugins.invoices.models import Invoice, InvoiceStatus
from plugins.invoices.netvisor import NetvisorError
from plugins.invoices.search import search_invoices
from plugins.invoices.settings import (
    NetvisorNotConfigured,
    deadline_rules,
    invoice_settings,
    netvisor_client,
)
from plugins.invoices.sync import SyncResult, last_state, run_sync
from plugins.invoices.web.actions import actions_panel
from plugins.invoices.web.display import netvisor_off, page_context, require_netvisor

router = APIRouter()
#: The queue's one filter: ``today``, the invoices due by today's deadline and still unsent.
DueFilter = Literal["today"]


def queue_context(
    session: SessionDep,
    q: str | None,
    result: SyncResult | None = None,
    request: Request | None = None,
    clean: CleanRun | None = None,
    due: DueFilter | None = None,
) -> dict[str, Any]:
    now = utcnow()
    rows = queries.queue(session, now, due_today=due == "today")
    in_progress = session.exec(
        select(Invoice)
        .where(col(Invoice.status).in_([InvoiceStatus.dispatching, InvoiceStatus.sent]))
        .order_by(col(Invoice.deadline_at))
    ).all()
    panels = {}
    if request is not None:
        for inv in [row.invoice for row in rows] + list(in_progress):
            panels[inv.id] = actions_panel(request, session, inv, compact=True)
    return page_context(
        panels=panels,
        in_progress=in_progress,
        now=now,
        rows=rows,
        alert=queries.alert_count(session, now),
        due_today=queries.due_today_unsent(session, now),
        state=last_state(session),
        q=q or "",
        results=search_invoices(session, q=q) if q and q.strip() else None,
        result=result,
        clean=clean,
        clean_key=uuid.uuid4().hex,
        netvisor_problem=netvisor_off(request),
        due=due,
    )


@router.get("/invoices", include_in_schema=False)
def queue_page(
    request: Request,
    session: SessionDep,
    agent: CurrentAgent,
    target: HtmxTarget,
    q: Search | None = None,
    due: DueFilter | None = None,
) -> Response:
    """The queue; ``due=today`` lists only the invoices that must go today (the alert's link)."""
    context = queue_context(session, q, request=request, due=due)
    block = {"invoice-queue": "queue", "invoice-results": "results"}.get(target or "")
    return render(request, "invoices/queue.html", context, block=block)


@router.post("/invoices/sync", include_in_schema=False)
def sync_now(request: Request, session: SessionDep, agent: CurrentAgent) -> Response:
    require_netvisor()
    result = run_sync(session)
    if request.headers.get("hx-request"):
        return render(
            request,
            "invoices/queue.html",
            queue_context(session, None, result, request=request),
            block="queue",
        )
    return RedirectResponse("/invoices", status_code=303)


@router.post("/invoices/dispatch-clean", include_in_schema=False)
def dispatch_clean(
    request: Request,
    session: SessionDep,
    agent: CurrentAgent,
    ids: Annotated[list[Id] | None, Form()] = None,
    key: Annotated[Key, Form()] = "",
) -> Response:
    """Send all clean: the queue's invoices the agent saw, those whose checks all pass."""
    require_netvisor()
    run = dispatching.dispatch_clean(
        session, agent=agent, invoice_ids=ids or [], key=f"web-{key}" if key else None
    )
    context = queue_context(session, None, request=request, clean=run)
    if request.headers.get("hx-request"):
        return render(request, "invoices/queue.html", context, block="queue")
    return render(request, "invoices/queue.html", context)


@router.get("/invoices/end-of-day", include_in_schema=False)
def end_of_day_page(
    request: Request, session: SessionDep, agent: CurrentAgent, day: Line | None = None
) -> Response:
    try:
        chosen = date.fromisoformat(day) if day else None
    except ValueError:
        chosen = None
    if chosen is None:
        chosen = deadline_rules().calendar.local(utcnow()).date()
    summary = queries.end_of_day(session, chosen)
    return render(request, "invoices/end_of_day.html", page_context(summary=summary, now=utcnow()))


@router.get("/invoices/{invoice_id}", include_in_schema=False)
def invoice_page(
    request: Request, invoice_id: Id, session: SessionDep, agent: CurrentAgent
) -> Response:
    invoice = queries.get_invoice(session, invoice_id)
    user = session.get(EtunnusUser, invoice.user_id) if invoice.user_id else None
    return render(
        request,
        "invoices/invoice.html",
        page_context(
            invoice=invoice,
            actions=actions_panel(request, session, invoice),
            dispatches=dispatches_of(session, invoice),
            user=user,
            history=queries.history(session, invoice),
            now=utcnow(),
            netvisor_link=invoice_settings().netvisor_link(invoice.netvisor_key, invoice.number),
        ),
    )


@router.get("/invoices/{invoice_id}/pdf", include_in_schema=False)
def invoice_pdf(invoice_id: Id, session: SessionDep, agent: CurrentAgent) -> Response:
    require_netvisor()
    invoice = queries.get_invoice(session, invoice_id)
    end_read(session)  # no transaction open while Netvisor answers
    try:
        with netvisor_client() as client:
            pdf = client.get_sales_invoice_pdf(invoice.netvisor_key)
    except NetvisorNotConfigured as exc:
        raise ServiceError(str(exc), code="netvisor") from None
    except NetvisorError as exc:
        raise ServiceError(f"{exc} — {exc.detail}", code="netvisor") from None
    if pdf is None:
        raise NotFound(gettext("Netvisor has no PDF for this invoice"))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            # Shown in the browser's PDF viewer; the file comes from Netvisor, not a user.
            "Content-Disposition": f'inline; filename="lasku-{invoice.number}.pdf"',
            "X-Content-Type-Options": "nosniff",
        },
    )
