"""How amounts read in Finnish, wherever they are shown: check reasons, pages, mails."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def eur(amount: Decimal | str | None) -> str:
    """``1234.5`` -> ``1 234,50 €`` (Finnish grouping and decimal comma)."""
    if amount is None:
        return ""
    value = Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
    return f"{value:,.2f}".replace(",", "\u00a0").replace(".", ",") + "\u00a0€"
