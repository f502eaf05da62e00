"""Finvoice 3.0, the Finnish e-invoice message: write one, and judge one.

``invoice`` is the writer's plain input (seller, buyer, rows with their VAT categories),
``preflight`` refuses what the schema cannot express, ``writer`` builds the XML, ``format``,
``text`` and ``vat`` hold Finvoice's number formats, text lengths and VAT categories.
``validate`` judges a message: the official XSD (``xsd``, the file in ``schema/`` with its
source) and the rules beyond it (``bank_rules``: reference, account, barcode;
``invoice_rules``: type, dates, totals, VAT). The writer validates its own
output and never returns an invalid message. The format knows nothing of where an invoice
came from: the dispatch turns a stored invoice into this input (``dispatch/einvoice.py``).

May import: the standard library, lxml, python-stdnum and the core's pure reference-number
helpers (through ``helpdesk.plugin_api``); nothing else of the core or of the rest of the
plugin.
"""

from plugins.invoices.finvoice.format import (
    CENT,
    format_amount,
    format_date,
    format_number,
    format_unit_price,
    parse_amount,
)
from plugins.invoices.finvoice.invoice import (
    MAVENTA_OPERATOR,
    FinvoiceBuyer,
    FinvoiceInvoice,
    FinvoiceRow,
    FinvoiceSeller,
    PostalAddress,
    VatBreakdown,
)
from plugins.invoices.finvoice.preflight import refusals_for
from plugins.invoices.finvoice.problems import (
    FinvoiceInvalid,
    FinvoiceProblem,
    FinvoiceRefused,
    Refusal,
)
from plugins.invoices.finvoice.validate import validate_finvoice
from plugins.invoices.finvoice.vat import CATEGORIES as VAT_CATEGORIES
from plugins.invoices.finvoice.writer import CURRENCY, ENCODING, build_finvoice
from plugins.invoices.finvoice.xsd import SCHEMA_PATH, SCHEMA_SHA256, SCHEMA_VERSION

__all__ = [
    "CENT",
    "CURRENCY",
    "ENCODING",
    "MAVENTA_OPERATOR",
    "SCHEMA_PATH",
    "SCHEMA_SHA256",
    "SCHEMA_VERSION",
    "VAT_CATEGORIES",
    "FinvoiceBuyer",
    "FinvoiceInvalid",
    "FinvoiceInvoice",
    "FinvoiceProblem",
    "FinvoiceRefused",
    "FinvoiceRow",
    "FinvoiceSeller",
    "PostalAddress",
    "Refusal",
    "VatBreakdown",
    "build_finvoice",
    "format_amount",
    "format_date",
    "format_number",
    "format_unit_price",
    "parse_amount",
    "refusals_for",
    "validate_finvoice",
]
