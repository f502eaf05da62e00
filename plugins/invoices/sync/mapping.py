"""From Netvisor's answers to our columns, and from our rows to the checks' input."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from helpdesk.plugin_api import invoice_number_parts
from plugins.invoices.models import DeliveryMethod, Invoice
from plugins.invoices.netvisor import Customer, SalesInvoice
from plugins.invoices.rules.checks import InvoiceForCheck, OtherInvoice, RowForCheck
from plugins.invoices.rules.validators import parse_delivery_method


def for_check(invoice: Invoice, etunnus_known: bool, others: list[OtherInvoice]) -> InvoiceForCheck:
    """The checks' view of a stored invoice."""
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
    )


def _text(value: str | None) -> str:
    return (value or "").strip()


def _cents(value: Decimal | None) -> Decimal:
    return (value or Decimal(0)).quantize(Decimal("0.01"))


def invoice_values(detail: SalesInvoice, customer: Customer | None) -> dict[str, Any]:
    """The columns of an Invoice as Netvisor's details and the customer register give them."""
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
            "net": str(_cents(row.net_sum)),
            "vat": str(_cents(row.vat_sum)),
            "gross": str(_cents(row.gross_sum)),
            "text": _text(row.free_text),
        }
        for row in detail.rows
    ]
    net = detail.net_sum
    if net is None:
        net = sum((row.net_sum or Decimal(0) for row in detail.rows), Decimal(0))
    vat = detail.vat_sum if detail.vat_sum is not None else detail.rows_vat_total
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
        "customer_name_search": _text(detail.customer_name).casefold(),
        "customer_address": _text(detail.customer_address_line),
        "customer_postcode": _text(detail.customer_post_number),
        "customer_town": _text(detail.customer_town),
        "customer_country": _text(detail.customer_country),
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
        "net_sum": _cents(net),
        "vat_sum": _cents(vat),
        "gross_sum": _cents(gross),
        "rows": rows,
        "netvisor_status": detail.status or "unsent",
    }


def plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
