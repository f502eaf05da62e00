"""How invoices read on a page: money, time left, labels (msgids translated in templates)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from fastapi import Request

from helpdesk.plugin_api import N_, ServiceError, gettext
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
    "korjattava": N_("Marked Korjattava"),
    "resolved": N_("Corrected, back in the queue"),
    "netvisor_comment": N_("Comment line in Netvisor"),
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
        "status_label": lambda key: labels(STATUS_LABELS, key),
        "event_label": lambda key: labels(EVENT_LABELS, key),
    }


def page_context(**values: Any) -> dict[str, Any]:
    """What every invoice template gets: the helpers above and the settings."""
    return template_helpers() | {"settings": invoice_settings()} | values
