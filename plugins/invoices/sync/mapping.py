"""From Netvisor's answers to our columns (the checks' input: ``dispatch.gate``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from helpdesk.plugin_api import invoice_number_parts
from plugins.invoices.models import DeliveryMethod
from plugins.invoices.netvisor import Customer, ProcessHistoryEntry, SalesInvoice
from plugins.invoices.rules.validators import parse_delivery_method
from plugins.invoices.search import name_key


def _text(value: str | None) -> str:
    return (value or "").strip()


def _cents(value: Decimal | None) -> Decimal:
    return (value or Decimal(0)).quantize(Decimal("0.01"))


def invoice_values(detail: SalesInvoice, customer: Customer | None) -> dict[str, Any]:
    """The columns of an Invoice as Netvisor's details and the customer register give them.

    Includes ``sync_error`` as empty: an invoice read whole has no read error (the sync
    sets one for an invoice whose customer Netvisor refused to give).
    """
    number = detail.invoice_number.strip()
    parts = invoice_number_parts(number)
    rows = [
        {
            "name": _text(row.product_name),
            "code": _text(row.product_code),
            "quantity": str(row.quantity or 0),
            "unit": _text(row.unit),
            "unit_price": str(row.unit_price or 0),
            "vat_percent": str(row.vat_percent or 0),
            # Netvisor's VAT code (KOMY, EUMY, MUUL, ...): what makes a 0 % row's grounds
            # known to the Finvoice writer (dispatch/einvoice.py maps it).
            "vat_code": _text(row.vat_code),
            "net": str(_cents(row.net_sum)),
            "vat": str(_cents(row.vat_sum)),
            "gross": str(_cents(row.gross_sum)),
            "text": _text(row.free_text),
        }
        for row in detail.rows
    ]
    gross = detail.amount if detail.amount is not None else detail.rows_gross_total
    method = parse_delivery_method(detail.delivery_method)
    return {
        "netvisor_key": detail.netvisor_key,
        "number": number,
        "reference": "".join(_text(detail.reference_number).split()).upper(),
        "etunnus": parts[0] if parts else number[:6],
        "customer_key": detail.customer_netvisor_key,
        "customer_code": detail.customer_code or (customer.code if customer else None),
        "customer_name": _text(detail.customer_name),
        "customer_name_search": name_key(_text(detail.customer_name)),
        "customer_address": _text(detail.customer_address_line),
        "customer_postcode": _text(detail.customer_post_number),
        "customer_town": _text(detail.customer_town),
        "customer_country": _text(detail.customer_country),
        "customer_country_code": _text(detail.customer_country_code),
        "business_id": _text(detail.customer_business_id)
        or _text(customer.business_id if customer else None),
        "email": _text(customer.invoice_email if customer else None),
        "einvoice_address": _text(customer.finvoice_address if customer else None),
        "einvoice_operator": _text(customer.finvoice_router_code if customer else None),
        "delivery_method_text": _text(detail.delivery_method),
        "delivery_method": DeliveryMethod(method) if method else None,
        "invoice_date": detail.invoice_date,
        "due_date": detail.due_date,
        "currency": (detail.currency or "EUR")[:3],
        # Netvisor's answer has the gross total only; net and VAT are the rows' sums.
        "net_sum": _cents(detail.rows_net_total),
        "vat_sum": _cents(detail.rows_vat_total),
        "gross_sum": _cents(gross),
        "rows": rows,
        "netvisor_status": detail.status or "unsent",
        "netvisor_history": [history_line(entry) for entry in detail.process_history],
        "sync_error": "",
    }


def history_line(entry: ProcessHistoryEntry) -> dict[str, str]:
    """One line of Netvisor's process history as stored (texts as Netvisor wrote them)."""
    return {
        "timestamp": _text(entry.timestamp),
        "material_type": _text(entry.material_type),
        "user": _text(entry.user),
        "channel": _text(entry.channel),
        "status": _text(entry.status),
    }


def plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
