"""A stored invoice as a Finvoice 3.0 message (seller E-tunnus, buyer from Netvisor's data)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from plugins.invoices.finvoice import (
    FinvoiceBuyer,
    FinvoiceInvoice,
    FinvoiceRow,
    PostalAddress,
    build_finvoice,
)
from plugins.invoices.models import Invoice
from plugins.invoices.settings import SellerSettings


def finvoice_input(invoice: Invoice, *, message_id: str = "") -> FinvoiceInvoice:
    """The writer's input for this invoice; ValueError when something required is missing."""
    if invoice.invoice_date is None:
        raise ValueError("the invoice has no invoice date")
    rows = [
        FinvoiceRow(
            description=(row.get("name") or row.get("text") or "Palvelu")[:512],
            quantity=Decimal(row.get("quantity") or "1"),
            unit_price=Decimal(row.get("unit_price") or "0"),
            vat_percent=Decimal(row.get("vat_percent") or "0"),
            net=Decimal(row["net"]),
            vat=Decimal(row["vat"]),
            gross=Decimal(row["gross"]),
            unit=row.get("unit") or "kpl",
        )
        for row in invoice.rows
    ]
    buyer = FinvoiceBuyer(
        name=invoice.customer_name,
        address=PostalAddress(
            street=invoice.customer_address,
            postcode=invoice.customer_postcode,
            town=invoice.customer_town,
            country_code=_country(invoice.customer_country),
        ),
        business_id=invoice.business_id,
        einvoice_address=invoice.einvoice_address,
        einvoice_operator=invoice.einvoice_operator,
        email=invoice.email,
    )
    return FinvoiceInvoice(
        seller=SellerSettings().seller(),
        buyer=buyer,
        number=invoice.number,
        invoice_date=invoice.invoice_date,
        due_date=invoice.due_date or invoice.invoice_date or date.today(),
        reference=invoice.reference,
        rows=rows,
        message_id=message_id or f"etunnus-{invoice.number}",
    )


def finvoice_for(invoice: Invoice, *, message_id: str = "") -> bytes:
    """The Finvoice 3.0 XML of the invoice (ISO-8859-15)."""
    return build_finvoice(finvoice_input(invoice, message_id=message_id))


def _country(value: str) -> str:
    text = value.strip().upper()
    if len(text) == 2 and text.isalpha():
        return text
    return "FI"
