"""Finvoice 3.0 number and date formats, as the XSD's simple types define them.

- ``amount`` (totals, row sums, VAT): ``-?[0-9]{1,15}(,[0-9]{2,5})?``; we write two decimals.
- ``epiAmount`` (EpiInstructedAmount): ``-?[0-9]{1,15},[0-9]{2}``, exactly two decimals.
- ``unitAmount`` (unit prices): the amount pattern, so 2 to 5 decimals; prices keep theirs.
- ``percentage``: ``[1-9]?[0-9]{1,2}(,[0-9]{1,3})?``, at most three decimals, never negative.
- ``date``: eight digits ``CCYYMMDD`` with ``Format="CCYYMMDD"``.

The decimal separator is always a comma and there is no grouping (guideline 9.4).
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
#: Integer digits an amount may have (``[0-9]{1,15}``).
AMOUNT_DIGITS = 15
#: A unit price has at least two and at most five decimals.
UNIT_PRICE_MIN_DECIMALS = 2
UNIT_PRICE_MAX_DECIMALS = 5
#: A percentage has at most three decimals and three integer digits.
PERCENT_MAX_DECIMALS = 3


def _comma(value: Decimal) -> str:
    return f"{value:f}".replace(".", ",")


def fits_amount(amount: Decimal) -> bool:
    """Tell whether an amount's integer part fits the schema's fifteen digits."""
    return abs(amount) < Decimal(10) ** AMOUNT_DIGITS


def format_amount(amount: Decimal) -> str:
    """Finvoice amount: two decimals with a decimal comma, no grouping (1116,00)."""
    return _comma(amount.quantize(CENT, rounding=ROUND_HALF_UP))


def format_unit_price(price: Decimal) -> str:
    """Finvoice unit price: its own precision, at least two and at most five decimals.

    ``50`` is ``50,00``, ``0.12345`` stays ``0,12345``; a sixth decimal is rounded away
    because the schema allows no more.
    """
    exponent = price.normalize().as_tuple().exponent
    decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    decimals = min(max(decimals, UNIT_PRICE_MIN_DECIMALS), UNIT_PRICE_MAX_DECIMALS)
    return _comma(price.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def format_number(value: Decimal) -> str:
    """Finvoice quantity or percent: as few decimals as needed, decimal comma (25,5)."""
    text = f"{value.normalize():f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def fits_percent(value: Decimal) -> bool:
    """Tell whether a percent can be written as the schema's ``percentage``."""
    exponent = value.normalize().as_tuple().exponent
    decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return Decimal(0) <= value < Decimal(1000) and decimals <= PERCENT_MAX_DECIMALS


def format_date(value: date) -> str:
    """Finvoice date in the CCYYMMDD format."""
    return value.strftime("%Y%m%d")


def parse_amount(text: str) -> Decimal:
    """Read a Finvoice amount (decimal comma) back into a Decimal."""
    return Decimal(text.strip().replace(" ", "").replace(",", "."))
