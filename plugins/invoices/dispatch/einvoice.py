"""A stored invoice as a Finvoice 3.0 message (seller E-tunnus, buyer from Netvisor's data).

Netvisor names each row's VAT treatment with its own VAT code (the ``vatcode`` attribute
of ``ProductVatPercentage``; support.netvisor.fi article 77000557878 "VAT classes and VAT
codes"). Finvoice wants the UN/CEFACT 5305 category, so the sales codes are mapped below;
a row that carries no code is standard rated above 0 % and refused at 0 %, where the
category cannot be guessed. The writer refuses, with reasons, whatever else it cannot
express, and never returns a message that fails the XSD or the bank rules.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from stdnum.eu import vat as eu_vat
from stdnum.fi import ytunnus

from plugins.invoices.finvoice import (
    VAT_CATEGORIES,
    FinvoiceBuyer,
    FinvoiceInvoice,
    FinvoiceRefused,
    FinvoiceRow,
    PostalAddress,
    Refusal,
    build_finvoice,
)
from plugins.invoices.models import Invoice
from plugins.invoices.settings import SellerSettings

#: Netvisor's sales VAT codes and their UN/CEFACT 5305 categories (at 0 %; KOMY above 0 %
#: is S). Purchase codes (KOOS, EUOS, ...) and EUPM309 have no safe mapping: refused.
NETVISOR_VAT_CODES: dict[str, str] = {
    "KOMY": "Z",  # domestic sales; at 0 % a zero-rated sale
    "KOMY0": "Z",  # "KOMY 0 %"
    "EUMY": "K",  # EU sales (goods): intra-community supply
    "EUPM312": "K",  # EU sales of services (VAT return field 312)
    "EUUM": "G",  # sales outside the EU: export
    "RAMY": "AE",  # sale of construction services: reverse charge
    "MUUL": "E",  # other turnover without VAT (field 310): exempt
    "NONE": "O",  # no VAT processing: outside the scope of VAT
}


def vat_category(code: str, rate: Decimal, row_number: int) -> str:
    """The UN/CEFACT 5305 category of a row's VAT code (Netvisor's or already UN/CEFACT)."""
    code = code.strip().upper()
    if not code:
        return ""
    if code in VAT_CATEGORIES:
        return code
    if code == "KOMY" and rate > 0:
        return "S"
    if code in NETVISOR_VAT_CODES:
        return NETVISOR_VAT_CODES[code]
    raise FinvoiceRefused(
        [
            Refusal(
                f"rows[{row_number}].vat_code",
                f"Rivin {row_number} Netvisorin ALV-koodille {code} ei ole verkkolaskun verokoodia",
                f"row {row_number}: Netvisor's VAT code {code} has no Finvoice VAT category",
            )
        ]
    )


def _row(row: dict[str, Any], number: int) -> FinvoiceRow:
    rate = Decimal(row.get("vat_percent") or "0")
    return FinvoiceRow(
        description=row.get("name") or row.get("text") or "Palvelu",
        quantity=Decimal(row.get("quantity") or "1"),
        unit_price=Decimal(row.get("unit_price") or "0"),
        vat_percent=rate,
        net=Decimal(row["net"]),
        vat=Decimal(row["vat"]),
        gross=Decimal(row["gross"]),
        unit=row.get("unit") or "kpl",
        vat_code=vat_category(row.get("vat_code") or "", rate, number),
        vat_text=row.get("vat_text") or "",
        article_code=row.get("code") or "",
    )


def _buyer(invoice: Invoice) -> FinvoiceBuyer:
    identifier = invoice.business_id.strip()
    # Netvisor's one identifier field holds a Finnish business ID or, for a foreign
    # customer, often the EU VAT number that reverse charge and intra-EU supply need.
    foreign_vat = not ytunnus.is_valid(identifier) and eu_vat.is_valid(identifier)
    return FinvoiceBuyer(
        name=invoice.customer_name,
        address=PostalAddress(
            street=invoice.customer_address,
            postcode=invoice.customer_postcode,
            town=invoice.customer_town,
            country_code=_country(invoice),
        ),
        business_id="" if foreign_vat else identifier,
        einvoice_address=invoice.einvoice_address,
        einvoice_operator=invoice.einvoice_operator,
        email=invoice.email,
        vat_number=eu_vat.compact(identifier) if foreign_vat else "",
    )


def finvoice_input(invoice: Invoice, *, message_id: str = "") -> FinvoiceInvoice:
    """The writer's input for this invoice; ValueError when something required is missing."""
    if invoice.invoice_date is None:
        raise ValueError("the invoice has no invoice date")
    return FinvoiceInvoice(
        seller=SellerSettings().seller(),
        buyer=_buyer(invoice),
        number=invoice.number,
        invoice_date=invoice.invoice_date,
        due_date=invoice.due_date or invoice.invoice_date or date.today(),
        reference=invoice.reference,
        rows=[_row(row, number) for number, row in enumerate(invoice.rows, start=1)],
        message_id=message_id or f"etunnus-{invoice.number}",
    )


def finvoice_for(invoice: Invoice, *, message_id: str = "") -> bytes:
    """The Finvoice 3.0 XML of the invoice (ISO-8859-15), valid against the XSD.

    Raises FinvoiceRefused (a ValueError, reasons in Finnish and English) when the
    invoice's data cannot make a valid message.
    """
    return build_finvoice(finvoice_input(invoice, message_id=message_id))


def _country(invoice: Invoice) -> str:
    """The buyer's ISO 3166 code, as Netvisor's ``ISO-3166`` attribute gave it.

    Never guessed from the country's name: with no code, the writer's preflight refuses
    the invoice (a two-letter code is required) and the queue shows why.
    """
    return invoice.customer_country_code.strip().upper()
