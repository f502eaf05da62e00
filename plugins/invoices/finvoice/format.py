"""Finvoice 3.0 number and date formats: decimal-comma amounts, CCYYMMDD dates."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def format_amount(amount: Decimal) -> str:
    """Finvoice amount: two decimals with a decimal comma, no grouping (1116,00)."""
    return f"{amount.quantize(CENT, rounding=ROUND_HALF_UP):f}".replace(".", ",")


def format_number(value: Decimal) -> str:
    """Finvoice quantity or percent: as few decimals as needed, decimal comma (25,5)."""
    text = f"{value.normalize():f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def format_date(value: date) -> str:
    """Finvoice date in the CCYYMMDD format."""
    return value.strftime("%Y%m%d")


def parse_amount(text: str) -> Decimal:
    """Read a Finvoice amount (decimal comma) back into a Decimal."""
    return Decimal(text.strip().replace(" ", "").replace(",", "."))
