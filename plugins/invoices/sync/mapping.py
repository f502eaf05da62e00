"""From Netvisor's answers to our columns, and from our rows to the checks' input."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from helpdesk.plugin_api import invoice_number_parts
from plugins.invoices.dispatch.einvoice import finvoice_input
from plugins.invoices.finvoice import FinvoiceRefused, refusals_for
from plugins.invoices.models import DeliveryMethod, Invoice
from plugins.invoices.netvisor import Customer, ProcessHistoryEntry, SalesInvoice
from plugins.invoices.rules.checks import InvoiceForCheck, OtherInvoice, RowForCheck
from plugins.invoices.rules.validators import parse_delivery_method
from plugins.invoices.search import name_key


def for_check(
    invoice: Invoice,
    etunnus_known: bool,
    others: list[OtherInvoice],
    einvoice_problems: Sequence[str] = (),
) -> InvoiceForCheck:
    """The checks' view of a stored invoice (``einvoice_problems``: :func:`einvoice_problems`)."""
    return InvoiceForCheck(
        number=invoice.number,
        reference=invoice.reference,
        etunnus_known=etunnus_known,
        delivery_method_text=invoice.delivery_method_text,
        invoice_date=invoice.invoice_date,
        due_date=invoice.due_date,
        recipient_name=invoice.customer_name,
        recipient_street=invoice.customer_address,
        recipient_postcode=invoice.customer_postcode,
        recipient_town=invoice.customer_town,
        recipient_country=invoice.customer_country,
        recipient_country_code=invoice.customer_country_code,
        email=invoice.email,
        einvoice_address=invoice.einvoice_address,
        einvoice_operator=invoice.einvoice_operator,
        business_id=invoice.business_id,
        rows=[
            RowForCheck(
                net=Decimal(row["net"]),
                vat_percent=Decimal(row["vat_percent"]),
                vat=Decimal(row["vat"]),
                gross=Decimal(row["gross"]),
            )
            for row in invoice.rows
        ],
        total_net=invoice.net_sum,
        total_vat=invoice.vat_sum,
        total_gross=invoice.gross_sum,
        customer_key=str(invoice.customer_key or ""),
        customer_name=invoice.customer_name,
        other_invoices=others,
        netvisor_error=invoice.sync_error,
        einvoice_problems=tuple(einvoice_problems),
    )


def einvoice_problems(invoice: Invoice) -> list[str]:
    """Why the Finvoice writer would refuse this invoice, in Finnish; [] if it would not.

    Only for an invoice going out as an e-invoice: the same input and preflight the
    dispatch uses (``dispatch.einvoice.finvoice_input``, ``finvoice.refusals_for``), run
    before anyone clicks, so that the queue shows the refusals as a failed check.
    """
    if invoice.delivery_method != DeliveryMethod.einvoice:
        return []
    if invoice.invoice_date is None:
        return ["Laskun päivämäärä puuttuu"]
    try:
        return [refusal.fi for refusal in refusals_for(finvoice_input(invoice))]
    except FinvoiceRefused as refused:
        return [refusal.fi for refusal in refused.refusals]
    except ValueError as exc:  # the writer's input cannot be made at all
        return [str(exc)]


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
