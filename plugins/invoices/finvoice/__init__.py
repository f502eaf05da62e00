"""Finvoice 3.0, the Finnish e-invoice message: write one, and check one.

``invoice`` is the writer's plain input (seller, buyer, rows), ``writer`` builds the XML,
``format`` holds Finvoice's number and date formats and ``validate`` checks a message's
structure and bank details. The format knows nothing of where an invoice came from: the
dispatch turns a stored invoice into this input (``dispatch/einvoice.py``).

May import: the standard library, lxml, python-stdnum and the core's pure reference-number
helpers (through ``helpdesk.plugin_api``); nothing else of the core or of the rest of the
plugin.
"""

from plugins.invoices.finvoice.format import (
    CENT,
    format_amount,
    format_date,
    format_number,
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
from plugins.invoices.finvoice.validate import (
    REQUIRED_PATHS,
    REQUIRED_TOP_LEVEL,
    TOP_LEVEL_ORDER,
    validate_finvoice,
)
from plugins.invoices.finvoice.writer import CURRENCY, ENCODING, build_finvoice

__all__ = [
    "CENT",
    "CURRENCY",
    "ENCODING",
    "MAVENTA_OPERATOR",
    "REQUIRED_PATHS",
    "REQUIRED_TOP_LEVEL",
    "TOP_LEVEL_ORDER",
    "FinvoiceBuyer",
    "FinvoiceInvoice",
    "FinvoiceRow",
    "FinvoiceSeller",
    "PostalAddress",
    "VatBreakdown",
    "build_finvoice",
    "format_amount",
    "format_date",
    "format_number",
    "parse_amount",
    "validate_finvoice",
]
