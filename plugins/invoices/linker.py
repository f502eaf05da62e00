"""Recognising invoices in mail text: invoice numbers and reference numbers we know.

Only invoices stored by the sync are returned, so a number that merely looks right never
links a ticket to something that does not exist. References must carry a valid check
digit (Finnish 7-3-1 or RF); invoice numbers are an e-tunnus prefix plus a running number.
"""

from __future__ import annotations

import re

from sqlmodel import Session, col, select

from helpdesk.plugin_api import FoundLink, find_references, from_rf, invoice_number_parts
from plugins.invoices.models import Invoice

#: An E-tunnus invoice number on its own: 6-digit e-tunnus + a running number (7-19 digits).
_NUMBER = re.compile(r"(?<![\w.,/+-])\d{7,19}(?![\w]|[.,/:-]\d)")
#: E-tunnus references are an invoice number plus a check digit: at least eight digits.
MIN_REFERENCE_LENGTH = 8


def link_text(session: Session, text: str) -> list[FoundLink]:
    """One FoundLink per stored invoice whose number or reference the text mentions."""
    if not text:
        return []
    numbers: dict[str, str] = {}
    for match in _NUMBER.finditer(text):
        if invoice_number_parts(match.group()) is not None:
            numbers.setdefault(match.group(), match.group())
    references: dict[str, str] = {}
    for found in find_references(text, min_length=MIN_REFERENCE_LENGTH):
        finnish = from_rf(found) if found.startswith("RF") else found
        references.setdefault(found, found)
        if finnish:
            references.setdefault(finnish, found)
    if not numbers and not references:
        return []
    invoices = session.exec(
        select(Invoice).where(
            col(Invoice.number).in_(list(numbers)) | col(Invoice.reference).in_(list(references))
        )
    ).all()
    links: dict[int, FoundLink] = {}
    for invoice in sorted(invoices, key=lambda inv: inv.id or 0):
        found_text = numbers.get(invoice.number) or references.get(invoice.reference, "")
        links[invoice.id or 0] = FoundLink(
            kind="invoice",
            target=str(invoice.id),
            label=f"Lasku {invoice.number}",
            found_text=found_text,
            etunnus=invoice.etunnus or None,
            url=f"/invoices/{invoice.id}",
        )
    return list(links.values())
