"""What one Finvoice invoice carries, as plain frozen values (the writer's input).

E-tunnus is the seller of every invoice it sends on; the buyer is the invoicee. Amounts
are Decimals in euros, VAT percents e.g. ``Decimal("25.5")``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from stdnum.fi import ytunnus

#: Maventa's operator code: the intermediator our messages go out through.
MAVENTA_OPERATOR = "003721291126"


@dataclass(frozen=True)
class PostalAddress:
    """A street address."""

    street: str
    postcode: str
    town: str
    country_code: str = "FI"


@dataclass(frozen=True)
class FinvoiceSeller:
    """The invoicing party: E-tunnus itself, which invoices in its own name."""

    name: str
    business_id: str
    address: PostalAddress
    iban: str
    bic: str
    ovt: str
    intermediator: str = MAVENTA_OPERATOR
    email: str = ""

    @property
    def vat_number(self) -> str:
        """The EU VAT number derived from the business ID (FI + 8 digits)."""
        return "FI" + ytunnus.compact(self.business_id).replace("-", "")


@dataclass(frozen=True)
class FinvoiceBuyer:
    """The invoicee."""

    name: str
    address: PostalAddress
    business_id: str = ""
    einvoice_address: str = ""
    einvoice_operator: str = ""
    email: str = ""


@dataclass(frozen=True)
class FinvoiceRow:
    """One invoice row; amounts are in euros, the VAT percent e.g. Decimal('25.5')."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    vat_percent: Decimal
    net: Decimal
    vat: Decimal
    gross: Decimal
    unit: str = "kpl"


@dataclass(frozen=True)
class VatBreakdown:
    """The VAT base and amount for one rate."""

    rate: Decimal
    base: Decimal
    vat: Decimal


@dataclass(frozen=True)
class FinvoiceInvoice:
    """Everything one Finvoice invoice carries."""

    seller: FinvoiceSeller
    buyer: FinvoiceBuyer
    number: str
    invoice_date: date
    due_date: date
    reference: str
    rows: Sequence[FinvoiceRow]
    message_id: str = ""
    timestamp: datetime | None = None
    payment_terms: str = ""

    @property
    def total_net(self) -> Decimal:
        """Sum of the rows without VAT."""
        return sum((row.net for row in self.rows), Decimal(0))

    @property
    def total_vat(self) -> Decimal:
        """Sum of the rows' VAT."""
        return sum((row.vat for row in self.rows), Decimal(0))

    @property
    def total_gross(self) -> Decimal:
        """Sum of the rows with VAT: the amount to pay."""
        return sum((row.gross for row in self.rows), Decimal(0))

    def vat_breakdown(self) -> list[VatBreakdown]:
        """VAT base and amount per rate, highest rate first."""
        by_rate: dict[Decimal, tuple[Decimal, Decimal]] = {}
        for row in self.rows:
            base, vat = by_rate.get(row.vat_percent, (Decimal(0), Decimal(0)))
            by_rate[row.vat_percent] = (base + row.net, vat + row.vat)
        return [
            VatBreakdown(rate, base, vat)
            for rate, (base, vat) in sorted(by_rate.items(), reverse=True)
        ]
