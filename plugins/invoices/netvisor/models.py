"""What the Netvisor client returns: plain frozen values, no XML and no I/O.

Amounts are Decimals read from Netvisor's decimal-comma text; dates are
``datetime.date``. A field Netvisor left out or empty is ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class SalesInvoiceListItem:
    """One row of ``salesinvoicelist.nv``: enough to decide whether to fetch the details."""

    netvisor_key: int
    invoice_number: str
    invoice_date: date | None
    status: str
    substatus: str | None
    customer_code: str | None
    customer_name: str | None
    reference_number: str | None
    invoice_sum: Decimal | None
    open_sum: Decimal | None
    uri: str | None


@dataclass(frozen=True)
class SalesInvoiceRow:
    """One product line of an invoice (``SalesInvoiceProductLine``)."""

    product_name: str | None
    product_code: str | None
    quantity: Decimal | None
    unit: str | None
    unit_price: Decimal | None
    vat_percent: Decimal | None
    vat_code: str | None
    discount_percent: Decimal | None
    free_text: str | None
    net_sum: Decimal | None
    vat_sum: Decimal | None
    gross_sum: Decimal | None


@dataclass(frozen=True)
class ProcessHistoryEntry:
    """One ``ProcessHistoryLine``: what was done with the invoice, when, by whom, how.

    Netvisor documents the five children but not their vocabulary, so the texts are kept
    as Netvisor wrote them (in the interface language) for people to read.
    """

    #: ``ProcessedTimeStamp`` as Netvisor wrote it (``format="ansi"``).
    timestamp: str | None
    #: The same read as Netvisor's local wall time, when it could be read.
    processed_at: datetime | None
    #: ``MaterialTypeName``: what was processed, e.g. the invoice or a reminder.
    material_type: str | None
    #: ``UserName``: who did it in Netvisor.
    user: str | None
    #: ``ProcessChannelName``: the channel, e.g. the print service, email, e-invoice.
    channel: str | None
    #: ``ProcessStatus``: how it went.
    status: str | None


@dataclass(frozen=True)
class SalesInvoice:
    """The details of one invoice from ``getsalesinvoice.nv``."""

    netvisor_key: int | None
    invoice_number: str
    invoice_date: date | None
    delivery_date: date | None
    due_date: date | None
    reference_number: str | None
    status: str | None
    #: Raw text of the Toimitustapa field, e.g. ``Posti``, ``Sähköposti``, ``Verkkolasku``.
    delivery_method: str | None
    #: ``InvoicingCustomerNetvisorKey``: the customer for getcustomer.nv.
    customer_netvisor_key: int | None
    #: ``InvoicingCustomerCode``: the customer number in Netvisor's register.
    customer_code: str | None
    customer_name: str | None
    customer_name_extension: str | None
    customer_address_line: str | None
    customer_additional_address_line: str | None
    customer_post_number: str | None
    customer_town: str | None
    #: The country's name, the text of ``InvoicingCustomerCountryCode`` (e.g. ``Sweden``).
    customer_country: str | None
    #: The ISO 3166 code, its ``ISO-3166`` attribute (e.g. ``SE``); None if not given.
    customer_country_code: str | None
    customer_business_id: str | None
    seller: str | None
    our_reference: str | None
    your_reference: str | None
    #: Gross total, ``SalesInvoiceAmount``.
    amount: Decimal | None
    currency: str | None
    payment_term_net_days: int | None
    free_text_before_lines: str | None
    free_text_after_lines: str | None
    private_comment: str | None
    rows: tuple[SalesInvoiceRow, ...]
    comment_lines: tuple[str, ...]
    process_history: tuple[ProcessHistoryEntry, ...]

    @property
    def rows_net_total(self) -> Decimal:
        """Sum of the rows' net sums (Netvisor's answer has no invoice-level net sum)."""
        return sum((row.net_sum or Decimal(0) for row in self.rows), Decimal(0))

    @property
    def rows_gross_total(self) -> Decimal:
        """Sum of the rows' gross sums, to compare with ``amount``."""
        return sum((row.gross_sum or Decimal(0) for row in self.rows), Decimal(0))

    @property
    def rows_vat_total(self) -> Decimal:
        """Sum of the rows' VAT sums."""
        return sum((row.vat_sum or Decimal(0) for row in self.rows), Decimal(0))


@dataclass(frozen=True)
class Customer:
    """A customer from ``getcustomer.nv``: address, email and e-invoice details."""

    netvisor_key: int | None
    code: str | None
    name: str | None
    name_extension: str | None
    #: ``ExternalIdentifier``: the Y-tunnus of a company customer.
    business_id: str | None
    #: ``OrganizationUnitNumber``: the customer's OVT code, when given.
    organisation_unit_number: str | None
    street_address: str | None
    additional_address: str | None
    post_number: str | None
    city: str | None
    #: ``Country``, an ISO 3166 code (``type="ISO-3166"``).
    country: str | None
    phone: str | None
    email: str | None
    email_invoicing_address: str | None
    finvoice_address: str | None
    finvoice_router_code: str | None

    @property
    def invoice_email(self) -> str | None:
        """Where an emailed invoice goes: ``EmailInvoicingAddress``, else ``Email``."""
        return self.email_invoicing_address or self.email
