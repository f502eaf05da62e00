"""Pure validators of invoice values: delivery-method words, VAT rates, address syntax.

The invoice checks (:mod:`plugins.invoices.rules.checks`) build their Finnish reasons on these;
they know nothing of invoices themselves, so other code may use them on any value.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.fi import ytunnus

DeliveryMethod = Literal["post", "email", "einvoice"]


# --- delivery method -----------------------------------------------------------------


def fold(text: str) -> str:
    """Text folded for comparing names: lower case, no accents, letters and digits only."""
    # Lower-case, drop accents (ä -> a) and everything but letters and digits, so
    # "E-mail", "Sähköposti" and "sahkoposti " compare equal to their plain forms.
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if char.isalnum() and char.isascii())


def _words(listed: str) -> frozenset[str]:
    return frozenset(fold(word) for word in listed.split("|"))


# Variants seen in Finnish, English and Swedish; compared after fold.
_DELIVERY_WORDS: dict[DeliveryMethod, frozenset[str]] = {
    "post": _words(
        "Posti|Kirje|Paperilasku|Paperi|Postilasku|Tuloste|Tulostus|PDF eKirje|eKirje|Post|"
        "Letter|Mail letter|Paper|Paper invoice|Print|Brev|Pappersfaktura|Postal"
    ),
    "email": _words(
        "Sähköposti|Sähköpostilasku|S-posti|Sposti|Email|E-mail|Email invoice|"
        "E-mail invoice|E-post|E-postfaktura"
    ),
    "einvoice": _words(
        "Verkkolasku|Verkkolaskutus|E-lasku|Finvoice|E-invoice|E-invoicing|"
        "Electronic invoice|E-faktura|Nätfaktura|Peppol"
    ),
}

METHOD_NAMES_FI: dict[DeliveryMethod, str] = {
    "post": "Posti",
    "email": "Sähköposti",
    "einvoice": "Verkkolasku",
}


def parse_delivery_method(text: str | None) -> DeliveryMethod | None:
    """Recognise a delivery method from Netvisor's Toimitustapa text, in any case or language."""
    if not text:
        return None
    folded = fold(text)
    for method, words in _DELIVERY_WORDS.items():
        if folded in words:
            return method
    return None


# --- VAT rates -------------------------------------------------------------------------


@dataclass(frozen=True)
class VatRatePeriod:
    """A Finnish VAT rate and the invoice dates it applies to (inclusive, open-ended)."""

    rate: Decimal
    valid_from: date | None
    valid_to: date | None
    name: str

    def applies_on(self, day: date) -> bool:
        """Tell whether the rate is in force on day."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


VAT_RATES: tuple[VatRatePeriod, ...] = (
    VatRatePeriod(Decimal("24"), None, date(2024, 8, 31), "yleinen verokanta"),
    VatRatePeriod(Decimal("25.5"), date(2024, 9, 1), None, "yleinen verokanta"),
    VatRatePeriod(Decimal("14"), None, date(2025, 12, 31), "alennettu verokanta"),
    VatRatePeriod(Decimal("13.5"), date(2026, 1, 1), None, "alennettu verokanta"),
    VatRatePeriod(Decimal("10"), None, None, "alin verokanta"),
    VatRatePeriod(Decimal("0"), None, None, "nollaverokanta"),
)


def valid_vat_rates(day: date, table: Sequence[VatRatePeriod] = VAT_RATES) -> frozenset[Decimal]:
    """Return the VAT rates in force on day."""
    return frozenset(period.rate for period in table if period.applies_on(day))


# --- address syntax --------------------------------------------------------------------

_LOCAL_ATOM = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+$")
_DOMAIN_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_TLD = re.compile(r"^(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$")


def is_valid_email(address: str) -> bool:
    """Tell whether address is a syntactically sound mailbox (dot-atom local part, DNS domain).

    Deliberately stricter than RFC 5322: no quoted local parts, comments or IP literals,
    which never belong in an invoice recipient's details.
    """
    if address != address.strip() or address.count("@") != 1:
        return False
    local, domain = address.split("@")
    if not local or len(local) > 64 or not domain:
        return False
    if any(not _LOCAL_ATOM.match(atom) for atom in local.split(".")):
        return False
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    if len(ascii_domain) > 253 or len(address) > 254:
        return False
    labels = ascii_domain.split(".")
    if len(labels) < 2 or any(not _DOMAIN_LABEL.match(label) for label in labels):
        return False
    return bool(_TLD.match(labels[-1]))


_OVT = re.compile(r"^0037(\d{8})([0-9A-Za-z]{0,5})$")


def _ytunnus_from_digits(digits: str) -> str:
    return f"{digits[:7]}-{digits[7]}"


def is_valid_ovt(code: str) -> bool:
    """Tell whether code is an OVT code: 0037 + a valid Y-tunnus's 8 digits + up to 5 chars."""
    match = _OVT.match(code.replace(" ", ""))
    if match is None:
        return False
    return bool(ytunnus.is_valid(_ytunnus_from_digits(match.group(1))))


def is_valid_einvoice_address(address: str) -> bool:
    """Tell whether address is an e-invoice address: an OVT code or an IBAN."""
    return is_valid_ovt(address) or bool(stdnum_iban.is_valid(address))


def is_valid_operator(code: str) -> bool:
    """Tell whether code identifies an e-invoice operator: its 12-digit OVT or a bank BIC."""
    compact = code.replace(" ", "")
    if re.fullmatch(r"0037\d{8}", compact):
        return is_valid_ovt(compact)
    return bool(stdnum_bic.is_valid(compact))
