"""Invoice actions on pages: dispatch (or override), confirm, retry, Korjattava, resolve.

Each action is a plain form post that redirects back (works without JavaScript); with
htmx it answers the action panel (``invoices/_actions.html``) to swap in place, so the
same panel works in the queue, on the invoice page and in the ticket sidebar.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from sqlmodel import Session, col, select

from helpdesk.plugin_api import (
    N_,
    AdminAgent,
    CurrentAgent,
    Id,
    Key,
    Line,
    NotFound,
    ServiceError,
    SessionDep,
    Text,
    Ticket,
    blob_store,
    gettext,
    render,
    render_partial,
    utcnow,
)
from plugins.invoices import dispatch as dispatching
from plugins.invoices import korjattava
from plugins.invoices import queue as queries
from plugins.invoices.dispatch import texts
from plugins.invoices.dispatch.einvoice import finvoice_for
from plugins.invoices.dispatch.service import recipient_for
from plugins.invoices.models import PATH, Dispatch, DispatchState, Invoice, InvoiceStatus
from plugins.invoices.rules.formats import eur
from plugins.invoices.settings import invoice_settings
from plugins.invoices.web import notice
from plugins.invoices.web.display import (
    CHECK_LABELS,
    labels,
    netvisor_off,
    require_netvisor,
    template_helpers,
)

router = APIRouter(include_in_schema=False)

MODE_LABELS = {
    "email": N_("email from the invoice mailbox"),
    "print_netvisor": N_("post via Netvisor's print service"),
    "print_maventa": N_("post via Maventa"),
    "einvoice_maventa": N_("e-invoice via Maventa"),
    "einvoice_download": N_("e-invoice channel not configured"),
}
STATE_LABELS = {
    "queued": N_("Queued"),
    "waiting": N_("Waiting for you"),
    "sending": N_("Sending"),
    "sent": N_("Sent"),
    "finalised": N_("Finalised in Netvisor"),
    "user_notified": N_("User notified"),
    "failed": N_("Failed"),
    "cancelled": N_("Cancelled"),
}


def _label(table: dict[str, str], key: Any) -> str:
    value = table.get(str(key))
    return gettext(value) if value else str(key)


def actions_context(
    request: Request,
    session: Session,
    invoice: Invoice,
    *,
    compact: bool = False,
    in_ticket: bool = False,
) -> dict[str, Any]:
    """Everything the action panel shows for one invoice.

    ``compact`` is the queue row and the ticket sidebar; ``in_ticket`` (the sidebar) keeps
    the override and Korjattava forms, which a queue row leaves to the invoice page.
    """
    dispatch = dispatching.latest_dispatch(session, invoice)
    correction = korjattava.open_correction(session, invoice)
    reached: set[str] = set()
    if dispatch is not None:
        stamps = {
            "queued": dispatch.created_at,
            "sending": dispatch.sending_at or dispatch.sent_at,
            "sent": dispatch.sent_at,
            "finalised": dispatch.finalised_at,
            "user_notified": dispatch.notified_at,
        }
        reached = {state for state, at in stamps.items() if at is not None}
    now = utcnow()
    can_dispatch = invoice.status == InvoiceStatus.unsent and (
        dispatch is None or not dispatch.active
    )
    return template_helpers() | {
        "invoice": invoice,
        "dispatch": dispatch,
        "reached": reached,
        "path": PATH,
        "correction": correction,
        "correction_ticket": session.get(Ticket, correction.ticket_id)
        if correction and correction.ticket_id
        else None,
        "waited": (now - invoice.paused_at) if invoice.paused_at else None,
        "can_dispatch": can_dispatch,
        # Beside the button: the failing checks (as the last sync left them; the gate runs
        # them again when the agent sends), or where a clean invoice goes.
        "failed": invoice.failed_checks,
        "summary": _summary(invoice) if can_dispatch and not invoice.failed_checks else None,
        "override_max": dispatching.OVERRIDE_REASON_MAX,
        "refused": None,
        "poll": dispatch is not None
        and dispatch.active
        and dispatch.state != DispatchState.waiting,
        "netvisor_link": invoice_settings().netvisor_link(invoice.netvisor_key, invoice.number),
        "mode_label": lambda key: _label(MODE_LABELS, key),
        "state_label": lambda key: _label(STATE_LABELS, key),
        "dispatch_key": uuid.uuid4().hex,
        "compact": compact,
        "in_ticket": in_ticket,
        "now": now,
        "methods": ("email", "post", "einvoice"),
        "netvisor_problem": netvisor_off(request),
    }


def _summary(invoice: Invoice) -> dict[str, str]:
    """Method, recipient and amount of a clean invoice, shown before it goes."""
    method = str(invoice.delivery_method) if invoice.delivery_method else ""
    try:
        recipient = recipient_for(invoice, method) if method else ""
    except ServiceError as exc:
        recipient = exc.text()
    return {"method": method, "recipient": recipient, "amount": eur(invoice.gross_sum)}


def actions_panel(request: Request, session: Session, invoice: Invoice, **extra: Any) -> Markup:
    """The panel as markup, for slots (ticket sidebar, queue rows)."""
    context = actions_context(
        request,
        session,
        invoice,
        compact=bool(extra.pop("compact", False)),
        in_ticket=bool(extra.pop("in_ticket", False)),
    )
    return render_partial(request, "invoices/_actions.html", context | extra)


def _answer(
    request: Request, session: Session, invoice: Invoice, back: str, **extra: Any
) -> Response:
    if request.headers.get("hx-request"):
        session.refresh(invoice)
        compact = request.query_params.get("compact") == "1"
        in_ticket = request.query_params.get("ticket") == "1"
        context = (
            actions_context(request, session, invoice, compact=compact, in_ticket=in_ticket) | extra
        )
        # The page's "due today" notice changes with this invoice: sent along out of band.
        context["page_alert_oob"] = notice.page_alert(request, oob=True)
        return render(request, "invoices/_actions.html", context)
    target = (
        back if back.startswith("/") and not back.startswith("//") else f"/invoices/{invoice.id}"
    )
    return RedirectResponse(target, status_code=303)


def _dispatch(session: Session, dispatch_id: int) -> tuple[Dispatch, Invoice]:
    dispatch = session.get(Dispatch, dispatch_id)
    if dispatch is None:
        raise NotFound(N_("No such dispatch"))
    return dispatch, queries.get_invoice(session, dispatch.invoice_id)


@router.get("/invoices/{invoice_id}/actions")
def actions_fragment(
    request: Request, invoice_id: Id, session: SessionDep, agent: CurrentAgent
) -> Response:
    invoice = queries.get_invoice(session, invoice_id)
    compact = request.query_params.get("compact") == "1"
    return render(
        request,
        "invoices/_actions.html",
        actions_context(request, session, invoice, compact=compact),
    )


@router.post("/invoices/{invoice_id}/dispatch")
def dispatch_action(
    request: Request,
    invoice_id: Id,
    session: SessionDep,
    agent: CurrentAgent,
    method: Annotated[Line, Form()] = "",
    # Reasons are cleaned by the dispatch gate (control characters out), not refused.
    reason: Annotated[str, Form()] = "",
    override_reason: Annotated[str, Form()] = "",
    key: Annotated[Key, Form()] = "",
    back: Annotated[Line, Form()] = "",
) -> Response:
    require_netvisor()
    invoice = queries.get_invoice(session, invoice_id)
    try:
        dispatching.start_dispatch(
            session,
            invoice=invoice,
            agent=agent,
            method=method or None,
            method_reason=reason or None,
            override_reason=override_reason or None,
            idempotency_key=f"web-{agent.id}-{key}" if key else None,
        )
    except dispatching.ActiveDispatch:
        pass  # a double click or a colleague: the panel shows the dispatch that runs
    except dispatching.ChecksFailed as exc:
        if not request.headers.get("hx-request"):
            raise  # without htmx: the error page says why; the invoice page has the form
        # The checks as they are now, beside the button, with the reason asked for.
        failed = [{"name": c.name, "ok": c.ok, "reason": c.reason} for c in exc.failed]
        return _answer(
            request,
            session,
            invoice,
            back,
            failed=failed,
            summary=None,
            refused=exc.text(),
        )
    return _answer(request, session, invoice, back)


@router.post("/invoices/dispatches/{dispatch_id}/{action}")
def dispatch_step_action(
    request: Request,
    dispatch_id: Id,
    action: Line,
    session: SessionDep,
    agent: CurrentAgent,
    back: Annotated[Line, Form()] = "",
) -> Response:
    if action != "cancel":  # cancelling needs no Netvisor; the rest go on to it
        require_netvisor()
    dispatch, invoice = _dispatch(session, dispatch_id)
    if action == "confirm":
        dispatching.confirm_sent(session, dispatch=dispatch, agent=agent)
    elif action == "retry":
        dispatching.retry_dispatch(session, dispatch=dispatch, agent=agent)
    elif action == "cancel":
        dispatching.cancel_dispatch(session, dispatch=dispatch, agent=agent)
    else:
        raise NotFound()
    return _answer(request, session, invoice, back)


@router.get("/invoices/{invoice_id}/finvoice")
def finvoice_download(invoice_id: Id, session: SessionDep, agent: CurrentAgent) -> Response:
    """The invoice as a Finvoice 3.0 file (the e-invoice channel's manual fallback)."""
    invoice = queries.get_invoice(session, invoice_id)
    dispatch = dispatching.latest_dispatch(session, invoice)
    if dispatch is not None and dispatch.document_sha256:
        xml = blob_store().get(dispatch.document_sha256)
    else:
        try:
            xml = finvoice_for(invoice)
        except ValueError as exc:
            raise ServiceError(str(exc)) from None
    return Response(
        xml,
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="finvoice-{invoice.number}.xml"'},
    )


@router.post("/invoices/{invoice_id}/korjattava")
def korjattava_action(
    request: Request,
    invoice_id: Id,
    session: SessionDep,
    agent: CurrentAgent,
    checks: Annotated[list[Line] | None, Form()] = None,
    other: Annotated[Text, Form()] = "",
    message: Annotated[Text, Form()] = "",
    back: Annotated[Line, Form()] = "",
) -> Response:
    invoice = queries.get_invoice(session, invoice_id)
    korjattava.mark_korjattava(
        session, invoice=invoice, agent=agent, checks=checks or [], other=other, message=message
    )
    return _answer(request, session, invoice, back)


@router.post("/invoices/{invoice_id}/resolve")
def resolve_action(
    request: Request,
    invoice_id: Id,
    session: SessionDep,
    agent: CurrentAgent,
    back: Annotated[Line, Form()] = "",
) -> Response:
    require_netvisor()
    invoice = queries.get_invoice(session, invoice_id)
    korjattava.resolve_invoice(session, invoice=invoice, agent=agent)
    failing = [labels(CHECK_LABELS, c["name"]) for c in invoice.failed_checks]
    notice = (
        gettext("Back in the queue, but a check still fails: %(checks)s")
        % {"checks": ", ".join(failing)}
        if failing and invoice.status == InvoiceStatus.unsent
        else None
    )
    return _answer(request, session, invoice, back, notice=notice)


@router.get("/invoices/korjattavat")
def korjattavat_page(request: Request, session: SessionDep, agent: CurrentAgent) -> Response:
    """Invoices waiting for the user's corrections, the longest waiting first."""
    rows = session.exec(
        select(Invoice)
        .where(Invoice.status == InvoiceStatus.korjattava)
        .order_by(col(Invoice.paused_at), col(Invoice.id))
    ).all()
    items = [
        (inv, korjattava.open_correction(session, inv), utcnow() - (inv.paused_at or utcnow()))
        for inv in rows
    ]
    tickets = {
        t.id: t
        for t in session.exec(
            select(Ticket).where(col(Ticket.id).in_([c.ticket_id for _, c, _ in items if c]))
        )
    }
    answered = korjattava.answered_at(session, [c for _, c, _ in items if c])
    return render(
        request,
        "invoices/korjattavat.html",
        template_helpers() | {"items": items, "tickets": tickets, "answered": answered},
    )


@router.get("/admin/invoice-texts")
def texts_page(request: Request, session: SessionDep, agent: AdminAgent) -> Response:
    entries = [
        (key, default, *texts.get_text(session, key)) for key, default in texts.DEFAULTS.items()
    ]
    return render(request, "invoices/texts.html", {"entries": entries})


@router.post("/admin/invoice-texts/{key}")
def texts_save(
    key: Line,
    session: SessionDep,
    agent: AdminAgent,
    subject: Annotated[Line, Form()] = "",
    body: Annotated[Text, Form()] = "",
) -> Response:
    texts.save_text(session, key=key, subject=subject, body=body, by=agent)
    return RedirectResponse("/admin/invoice-texts", status_code=303)
