"""Numbers in mail text that point to an E-tunnus user: e-tunnus, invoice and reference numbers.

E-tunnus numbers are six digits; an invoice number is the e-tunnus number followed by a
running number; a reference (viitenumero) is the invoice number plus a 7-3-1 check digit,
printed in groups of five or in RF form. Only whole numbers count, and numbers that are
obviously something else are skipped: dates, amounts, phone numbers, personal identity
codes, parts of longer spaced numbers (IBANs, phone numbers). A number written as a
reference ("viite", "viitenumero", "RF...") links only when its check digit is right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from helpdesk.references import find_references, from_rf

ETUNNUS_DIGITS = 6
MAX_INVOICE_DIGITS = 19

# A run of digits not glued to words, decimals, dates, times or identity codes.
_TOKEN = re.compile(r"(?<![\w.,/+:-])\d+(?![\w]|[.,/:-]\d|-[A-Za-z0-9])")
# Amount units right after a number: "100102 €", "1500 euroa".
_AMOUNT_AFTER = re.compile(r"^[ \u00a0]?(?:€|e\b|eur\b|euro|snt\b|%)", re.IGNORECASE)
# Words that make the next number a reference, or a phone number.
_REFERENCE_BEFORE = re.compile(
    r"(?:viit\w*|ref\w*|rf)[\s:.#-]*(?:nro|numero|no)?[\s:.#-]*$", re.IGNORECASE
)
_PHONE_BEFORE = re.compile(
    r"(?:puh\w*|p\.|tel\w*|gsm|mob\w*|soita\w*|phone)[\s:.#-]*(?:nro|numero)?[\s:.#-]*$",
    re.IGNORECASE,
)
_CONTEXT = 30


@dataclass(frozen=True)
class FoundNumber:
    """A number in text that names an e-tunnus: ``kind`` etunnus, invoice or reference."""

    kind: str
    etunnus: str
    text: str


def _looks_like_date(digits: str) -> bool:
    # yyyymmdd and ddmmyyyy with a plausible year; six-digit ddmmyy cannot be told from an
    # e-tunnus number, so those are left to the user table (only real numbers link).
    for year, month, day in (
        (digits[:4], digits[4:6], digits[6:]),
        (digits[4:], digits[2:4], digits[:2]),
    ):
        try:
            if 1990 <= int(year) <= 2099:
                date(int(year), int(month), int(day))
                return True
        except ValueError:
            continue
    return False


def _looks_like_phone(digits: str) -> bool:
    # Finnish numbers in national form start with 0, international with 358 (or 00358).
    return digits.startswith(("0", "358")) and 7 <= len(digits) <= 13


def _neighbours_digit_group(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - 2) : start]
    after = text[end : end + 2]
    return bool(re.fullmatch(r"\d[ \u00a0]", before) or re.fullmatch(r"[ \u00a0]\d", after))


def _references(text: str) -> list[FoundNumber]:
    found: list[FoundNumber] = []
    for ref in find_references(text, min_length=ETUNNUS_DIGITS + 2):
        digits = from_rf(ref) if ref.startswith("RF") else ref
        if (
            digits is None
            or len(digits) < ETUNNUS_DIGITS + 2
            or _looks_like_phone(digits)
            or _looks_like_date(digits)
        ):
            continue
        found.append(FoundNumber(kind="reference", etunnus=digits[:ETUNNUS_DIGITS], text=ref))
    return found


def find_numbers(text: str) -> list[FoundNumber]:
    """E-tunnus, invoice and valid reference numbers in text, without repeats.

    Which of them belong to a real user is for the caller to check.
    """
    found = _references(text)
    reference_digits = {f.text for f in found}
    for match in _TOKEN.finditer(text):
        digits = match.group()
        if not ETUNNUS_DIGITS <= len(digits) <= MAX_INVOICE_DIGITS or digits in reference_digits:
            continue
        before = text[max(0, match.start() - _CONTEXT) : match.start()]
        after = text[match.end() : match.end() + 8]
        if (
            _neighbours_digit_group(text, match.start(), match.end())
            or _AMOUNT_AFTER.match(after)
            or _PHONE_BEFORE.search(before)
        ):
            continue
        if len(digits) == ETUNNUS_DIGITS:
            found.append(FoundNumber(kind="etunnus", etunnus=digits, text=digits))
            continue
        if _REFERENCE_BEFORE.search(before):
            # Written as a reference but its check digit is wrong (valid ones were found
            # above): a typo, never a guess.
            continue
        if _looks_like_phone(digits) or _looks_like_date(digits):
            continue
        found.append(FoundNumber(kind="invoice", etunnus=digits[:ETUNNUS_DIGITS], text=digits))
    unique: dict[tuple[str, str], FoundNumber] = {}
    for item in found:
        unique.setdefault((item.kind, item.text), item)
    return list(unique.values())
