"""How invoices read on a page: money, time left, labels (msgids translated in templates)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from fastapi import Request

from helpdesk.plugin_api import N_, ServiceError, gettext
from plugins.invoices.korjattava import join_reasons
from plugins.invoices.rules.formats import eur
from plugins.invoices.settings import invoice_settings, netvisor_problem

DELIVERY_LABELS = {
    "post": N_("Post"),
    "email": N_("Email"),
    "einvoice": N_("E-invoice"),
    None: N_("Unknown"),
}
CHECK_LABELS = {
    "reference": N_("Reference number"),
    "etunnus_prefix": N_("E-tunnus user"),
    "delivery_method": N_("Delivery method"),
    "delivery_data": N_("Delivery details"),
    "sums": N_("Sums and VAT"),
    "vat_rates": N_("VAT rates"),
    "due_date": N_("Due date"),
    "business_id": N_("Business ID"),
    "duplicate": N_("Duplicate"),
    "netvisor_data": N_("Netvisor data"),
    "einvoice_message": N_("E-invoice message"),
}
#: What a failing check means, in the agent's language (the check's own reason, in
#: Finnish from the rules, gives the details).
CHECK_REASONS = {
    "reference": N_("The reference number is missing, invalid or not the invoice number's"),
    "etunnus_prefix": N_("The invoice number does not start with a known user's e-tunnus"),
    "delivery_method": N_("The delivery method is missing or not recognised"),
    "delivery_data": N_("The details the delivery method needs are missing or invalid"),
    "sums": N_("The rows, VAT and totals do not add up"),
    "vat_rates": N_("A VAT rate is not in force on the invoice date"),
    "due_date": N_("The due date is missing or before the invoice date"),
    "business_id": N_("The business ID is not valid"),
    "duplicate": N_("A possible duplicate of another invoice of the user"),
    "netvisor_data": N_("Netvisor did not give all of the invoice's data"),
    "einvoice_message": N_("The e-invoice cannot be written as a valid Finvoice message"),
}
STATUS_LABELS = {
    "unsent": N_("Unsent"),
    "left_netvisor": N_("Left Netvisor"),
    "korjattava": N_("Needs correction"),
    "dispatching": N_("Being sent"),
    "sent": N_("Sent"),
    "finalised": N_("Finalised"),
}
EVENT_LABELS = {
    "seen": N_("First seen in Netvisor"),
    "updated": N_("Changed in Netvisor"),
    "checks": N_("Check results changed"),
    "left_netvisor": N_("Left Netvisor's unsent list"),
    "returned": N_("Back in Netvisor's unsent list"),
    "dispatch": N_("Dispatch"),
    "checks_overridden": N_("Sent despite failing checks"),
    "korjattava": N_("Marked Korjattava"),
    "resolved": N_("Corrected, back in the queue"),
    "netvisor_comment": N_("Comment line in Netvisor"),
}


#: What a dispatch did, as its history lines say it (``record``'s action codes).
DISPATCH_ACTION_LABELS = {
    "start": N_("started"),
    "sent": N_("marked as sent"),
    "retry_now": N_("tried again now"),
    "retry": N_("retried from the failed step"),
    "cancel": N_("cancelled"),
    "failed": N_("failed"),
    "queued_mail": N_("mail queued"),
    "uploaded": N_("uploaded to Maventa"),
    "delivered": N_("delivered by Maventa"),
    "finalise_failed": N_("finalising in Netvisor failed"),
    "finalised": N_("finalised in Netvisor"),
    "user_notified": N_("user notified"),
}
#: The dispatch steps a failure names (``Dispatch.failed_step``).
STEP_LABELS = {
    "fetch_pdf": N_("fetching the PDF from Netvisor"),
    "build": N_("building the invoice file"),
    "send": N_("sending"),
    "upload": N_("uploading to Maventa"),
    "delivery": N_("delivery by Maventa"),
    "finalise": N_("finalising in Netvisor"),
    "notify": N_("telling the user"),
}
#: Where a Netvisor comment line is (``CommentState``).
COMMENT_STATE_LABELS = {
    "pending": N_("waiting"),
    "sending": N_("sending"),
    "done": N_("added"),
    "failed": N_("failed"),
    "unknown": N_("not known whether it arrived"),
}


def time_left(left: timedelta) -> str:
    """``2 h 05 min`` before the deadline, ``late 1 h 10 min`` after it."""
    seconds = int(left.total_seconds())
    late = seconds < 0
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    text = f"{hours} h {minutes:02d} min"
    if days:
        text = f"{days} d {text}"
    return gettext("late %(time)s") % {"time": text} if late else text


def labels(table: dict[Any, str], key: Any) -> str:
    """The translated label for key, or the key itself."""
    label = table.get(key)
    return gettext(label) if label else str(key)


class NotConfigured(ServiceError):
    """An action needs a service the settings leave unconfigured: 503, never a sandbox."""

    status_code = 503

    def __init__(self, message: str) -> None:
        super().__init__(message, code="not_configured")


def require_netvisor() -> None:
    """Refuse an action that needs Netvisor while Netvisor is not configured (503).

    Routes call it after the login check, so a stranger still gets 401 and no hint.
    """
    problem = netvisor_problem()
    if problem:
        raise NotConfigured(problem)


_UNKNOWN = object()


def netvisor_off(request: Request | None) -> str | None:
    """Why Netvisor's actions are off, in the page's language, or None (once per request)."""
    known = getattr(request.state, "netvisor_off", _UNKNOWN) if request is not None else _UNKNOWN
    if known is not _UNKNOWN:
        return cast("str | None", known)
    problem = netvisor_problem()
    text = gettext(problem) if problem else None
    if request is not None:
        request.state.netvisor_off = text
    return text


def template_helpers() -> dict[str, Any]:
    """Functions the invoice templates call."""
    return {
        "eur": eur,
        "time_left": time_left,
        "delivery_label": lambda key: labels(DELIVERY_LABELS, key),
        "check_label": lambda key: labels(CHECK_LABELS, key),
        "check_reason": lambda key: labels(CHECK_REASONS, key),
        "status_label": lambda key: labels(STATUS_LABELS, key),
        "event_label": lambda key: labels(EVENT_LABELS, key),
        "join_reasons": join_reasons,
        "action_label": lambda key: labels(DISPATCH_ACTION_LABELS, key),
        "step_label": lambda key: labels(STEP_LABELS, key),
        "comment_state_label": lambda key: labels(COMMENT_STATE_LABELS, key),
    }


def page_context(**values: Any) -> dict[str, Any]:
    """What every invoice template gets: the helpers above and the settings."""
    return template_helpers() | {"settings": invoice_settings()} | values
