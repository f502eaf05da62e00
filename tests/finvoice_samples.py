"""Finvoice writer inputs for the tests: one ordinary invoice and rows to vary it with."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree

from plugins.invoices.finvoice import (
    FinvoiceBuyer,
    FinvoiceInvoice,
    FinvoiceRow,
    FinvoiceSeller,
    PostalAddress,
)

D = Decimal
CENT = D("0.01")

SELLER = FinvoiceSeller(
    name="E-tunnus Oy",
    business_id="2129112-6",
    address=PostalAddress("Länsituulentie 1", "02100", "Espoo"),
    iban="FI37 1590 3000 0007 76",
    bic="NDEAFIHH",
    ovt="003721291126",
    email="laskut@e-tunnus.fi",
)
BUYER = FinvoiceBuyer(
    name="Äijälän Sähkö ja Öljy Oy",
    address=PostalAddress("Mäkikatu 1 A 2", "00100", "Helsinki"),
    business_id="2332748-7",
    einvoice_address="003723327487",
    einvoice_operator="003723327487",
)


def row(
    net: str,
    rate: str = "25.5",
    *,
    quantity: str = "1",
    unit_price: str | None = None,
    code: str = "",
    description: str = "Sähkötyöt",
    unit: str = "kpl",
) -> FinvoiceRow:
    """A row whose VAT and gross follow from its net and rate (to the cent)."""
    net_value = D(net)
    vat = (net_value * D(rate) / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    return FinvoiceRow(
        description=description,
        quantity=D(quantity),
        unit_price=D(unit_price) if unit_price is not None else net_value / D(quantity),
        vat_percent=D(rate),
        net=net_value,
        vat=vat,
        gross=net_value + vat,
        unit=unit,
        vat_code=code,
    )


ROWS = (
    FinvoiceRow(
        description="Sähkötyöt, 4 h à 50 €",
        quantity=D("4"),
        unit_price=D("50.00"),
        vat_percent=D("25.5"),
        net=D("200.00"),
        vat=D("51.00"),
        gross=D("251.00"),
        unit="h",
    ),
    FinvoiceRow(
        description="Kirja „Öljyt“",
        quantity=D("1.5"),
        unit_price=D("20.00"),
        vat_percent=D("13.5"),
        net=D("30.00"),
        vat=D("4.05"),
        gross=D("34.05"),
    ),
)


def invoice(**changes: Any) -> FinvoiceInvoice:
    """The ordinary invoice (two rows, a buyer with an e-invoice address), changed."""
    base = FinvoiceInvoice(
        seller=SELLER,
        buyer=BUYER,
        number="100102001",
        invoice_date=date(2026, 11, 24),
        due_date=date(2026, 12, 8),
        reference="1001020017",
        rows=ROWS,
        timestamp=datetime(2026, 11, 24, 14, 5, 0, tzinfo=ZoneInfo("Europe/Helsinki")),
    )
    return replace(base, **changes)


def buyer(**changes: Any) -> FinvoiceBuyer:
    """The ordinary buyer, changed."""
    return replace(BUYER, **changes)


def parse(xml: bytes) -> etree._Element:
    """The message's root element."""
    return etree.fromstring(xml)
