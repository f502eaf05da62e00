"""What one Finvoice invoice carries, as plain frozen values (the writer's input).

E-tunnus is the seller of every invoice it sends on; the buyer is the invoicee. Amounts
are Decimals in euros, VAT percents e.g. ``Decimal("25.5")``. A row's VAT treatment is a
UN/CEFACT 5305 category (:mod:`plugins.invoices.finvoice.vat`): a row above 0 % is standard
rated (S) unless it says otherwise, and a 0 % row must say which kind of 0 % it is.
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
    """The invoicee.

    ``vat_number`` is the buyer's EU VAT number; reverse charge (AE) and intra-EU supply (K)
    need one. Without it a Finnish business ID gives ``FI`` + its digits.
    """

    name: str
    address: PostalAddress
    business_id: str = ""
    einvoice_address: str = ""
    einvoice_operator: str = ""
    email: str = ""
    vat_number: str = ""

    @property
    def tax_code(self) -> str:
        """The buyer's VAT number as given, else derived from a valid business ID, else ''."""
        if self.vat_number.strip():
            return "".join(self.vat_number.split()).upper()
        if ytunnus.is_valid(self.business_id):
            return "FI" + ytunnus.compact(self.business_id).replace("-", "")
        return ""


@dataclass(frozen=True)
class FinvoiceRow:
    """One invoice row; amounts are in euros, the VAT percent e.g. Decimal('25.5').

    ``vat_code`` is the UN/CEFACT 5305 VAT category (S, Z, E, AE, K, G, O); empty means
    standard rated (S) for a rate above 0 % and is refused for 0 %, which has several
    meanings. ``vat_text`` overrides the category's default explanation (VatFreeText).
    """

    description: str
    quantity: Decimal
    unit_price: Decimal
    vat_percent: Decimal
    net: Decimal
    vat: Decimal
    gross: Decimal
    unit: str = "kpl"
    vat_code: str = ""
    vat_text: str = ""
    article_code: str = ""

    @property
    def vat_category(self) -> str:
        """The row's VAT category: the code given, else S above 0 %, else '' (unknown)."""
        code = self.vat_code.strip().upper()
        if code:
            return code
        return "S" if self.vat_percent > 0 else ""


@dataclass(frozen=True)
class VatBreakdown:
    """The VAT base and amount for one VAT category and rate."""

    rate: Decimal
    base: Decimal
    vat: Decimal
    code: str = "S"
    text: str = ""


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
    #: For a credit note: the invoice it credits, if known.
    credited_number: str = ""
    credited_date: date | None = None

    @property
    def is_credit_note(self) -> bool:
        """A negative total is a credit note (Finvoice INV02, UN/CEFACT 381)."""
        return self.total_gross < 0

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
        """VAT base and amount per VAT category and rate, highest rate first.

        Rows of one category and rate with different explanations keep the first one's.
        """
        groups: dict[tuple[Decimal, str], tuple[Decimal, Decimal, str]] = {}
        for row in self.rows:
            key = (row.vat_percent, row.vat_category)
            base, vat, text = groups.get(key, (Decimal(0), Decimal(0), row.vat_text))
            groups[key] = (base + row.net, vat + row.vat, text)
        return [
            VatBreakdown(rate, base, vat, code, text)
            for (rate, code), (base, vat, text) in sorted(
                groups.items(), key=lambda item: (item[0][0], item[0][1]), reverse=True
            )
        ]
