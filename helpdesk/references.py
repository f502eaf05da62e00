"""Finnish reference numbers (viitenumero), their RF form and the bank virtual barcode.

A Finnish reference is 4-20 digits: a base of 3-19 digits and a check digit computed
with the weights 7, 3, 1 repeating from the right. E-tunnus derives the reference from
the invoice number: invoice number + check digit. The RF form (ISO 11649) wraps the same
digits as ``RF`` + two check digits + reference.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from stdnum import iban as stdnum_iban
from stdnum import iso11649

MIN_LENGTH = 4
MAX_LENGTH = 20
ETUNNUS_DIGITS = 6

_WEIGHTS = (7, 3, 1)
# Spaces people type between groups, including the no-break space that PDFs carry.
_SEPARATORS = re.compile(r"[ \u00a0\t]+")


def _compact(text: str) -> str:
    return _SEPARATORS.sub("", text.strip())


def check_digit(base: str) -> int:
    """Return the check digit for the base part (3-19 digits) of a Finnish reference."""
    digits = _compact(base)
    if not digits.isdecimal() or not digits.isascii():
        raise ValueError(f"reference base must be digits: {base!r}")
    if not MIN_LENGTH - 1 <= len(digits) <= MAX_LENGTH - 1:
        raise ValueError(f"reference base must be 3-19 digits: {base!r}")
    total = sum(int(digit) * _WEIGHTS[index % 3] for index, digit in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def make_reference(base: str) -> str:
    """Return the Finnish reference for a base: the base followed by its check digit."""
    digits = _compact(base)
    return f"{digits}{check_digit(digits)}"


def is_valid_reference(text: str) -> bool:
    """Tell whether text is a valid Finnish reference (spaces between groups allowed)."""
    digits = _compact(text)
    if not (digits.isascii() and digits.isdecimal()):
        return False
    if not MIN_LENGTH <= len(digits) <= MAX_LENGTH:
        return False
    return check_digit(digits[:-1]) == int(digits[-1])


def is_valid_rf(text: str) -> bool:
    """Tell whether text is a valid ISO 11649 (RF) creditor reference."""
    return bool(iso11649.is_valid(text))


def normalise_reference(text: str) -> str | None:
    """Return a valid reference without separators, or None.

    Finnish references come back as digits; RF references as upper-case ``RF...``.
    """
    if text.strip().upper().startswith("RF"):
        return iso11649.compact(text) if is_valid_rf(text) else None
    digits = _compact(text)
    return digits if is_valid_reference(digits) else None


def format_reference(ref: str) -> str:
    """Return a reference in its printed form.

    Finnish references are grouped by five from the right (``10010 20017``); RF references
    by four from the left (``RF98 1111 2``).
    """
    compact = _compact(ref)
    if compact.upper().startswith("RF"):
        return str(iso11649.format(compact))
    groups: list[str] = []
    while compact:
        groups.insert(0, compact[-5:])
        compact = compact[:-5]
    return " ".join(groups)


def _rf_check_digits(body: str) -> str:
    # ISO 11649: move "RF00" to the end, letters to numbers (A=10 ... Z=35), mod 97.
    rearranged = f"{body}RF00"
    numeric = "".join(str(int(char, 36)) for char in rearranged)
    return f"{98 - int(numeric) % 97:02d}"


def to_rf(ref: str) -> str:
    """Return the RF form of a valid Finnish reference (11112 -> RF9811112)."""
    digits = _compact(ref)
    if not is_valid_reference(digits):
        raise ValueError(f"not a valid Finnish reference: {ref!r}")
    return f"RF{_rf_check_digits(digits)}{digits}"


def from_rf(rf: str) -> str | None:
    """Return the Finnish reference inside a valid RF reference, or None."""
    if not is_valid_rf(rf):
        return None
    body = iso11649.compact(rf)[4:].lstrip("0")
    return body if is_valid_reference(body) else None


# A run of digit groups separated by single spaces, not glued to words, decimals, dates
# or amounts (1.2.2024, 1 234,56): those are not references even when the digits happen
# to carry a valid check digit.
_DIGIT_RUN = re.compile(
    r"(?<![\w.,/+-])\d+(?:[ \u00a0]\d+)*(?![\w]|[.,/:-]\d)",
)
_RF_CANDIDATE = re.compile(r"(?<!\w)RF\d{2}(?:[ \u00a0]?[0-9A-Z])+", re.IGNORECASE)


def _rf_in(candidate: str) -> tuple[str, int] | None:
    """Return the RF reference at the start of candidate and how many characters it used."""
    # The greedy match may swallow the following words ("RF98 1111 2 on ..."), so take the
    # longest run of whole groups that validates.
    tokens = list(re.finditer(r"\S+", candidate))
    for end in range(len(tokens), 0, -1):
        compact = "".join(token.group() for token in tokens[:end])
        if is_valid_rf(compact):
            return iso11649.compact(compact), tokens[end - 1].end()
    return None


def _finnish_in(run: str, min_length: int) -> list[str]:
    groups = _SEPARATORS.split(run)
    found: list[str] = []
    start = 0
    while start < len(groups):
        for end in range(len(groups), start, -1):
            span = groups[start:end]
            # Several groups only count in the printed layout: groups of five from the right.
            if len(span) > 1 and (any(len(group) != 5 for group in span[1:]) or len(span[0]) > 5):
                continue
            compact = "".join(span)
            if len(compact) >= min_length and is_valid_reference(compact):
                found.append(compact)
                start = end
                break
        else:
            start += 1
    return found


def find_references(text: str, *, min_length: int = MIN_LENGTH) -> list[str]:
    """Find valid Finnish and RF references in free text, normalised, in order of appearance.

    Any number with a matching check digit is a valid reference, so a lone year such as
    2024 is found too; E-tunnus references are at least eight digits long, and callers
    that only look for those pass ``min_length=8``.
    """
    found: list[tuple[int, str]] = []
    masked = list(text)
    position = 0
    while (match := _RF_CANDIDATE.search(text, position)) is not None:
        hit = _rf_in(match.group())
        if hit is None:
            position = match.start() + 2
            continue
        # The candidate may run on into a second RF reference ("RF98 1111 2 ja RF31 ..."),
        # so scanning resumes right after the part that validated.
        rf, length = hit
        found.append((match.start(), rf))
        masked[match.start() : match.start() + length] = "#" * length
        position = match.start() + length
    for match in _DIGIT_RUN.finditer("".join(masked)):
        found.extend((match.start(), ref) for ref in _finnish_in(match.group(), min_length))
    unique: dict[str, None] = {}
    for _, ref in sorted(found, key=lambda item: item[0]):
        unique.setdefault(ref, None)
    return list(unique)


def invoice_number_parts(number: str) -> tuple[str, str] | None:
    """Split an invoice number into (e-tunnus number, running number), or None.

    The first six digits are the user's e-tunnus number, the rest (at least one digit) a
    running number.
    """
    digits = number.strip()
    if not (digits.isascii() and digits.isdecimal()) or len(digits) <= ETUNNUS_DIGITS:
        return None
    return digits[:ETUNNUS_DIGITS], digits[ETUNNUS_DIGITS:]


def reference_for_invoice(number: str) -> str:
    """Return the reference E-tunnus uses for an invoice: invoice number + check digit."""
    if invoice_number_parts(number) is None:
        raise ValueError(f"not an E-tunnus invoice number: {number!r}")
    return make_reference(number)


def virtual_barcode(iban: str, amount: Decimal, reference: str, due: date | None) -> str:
    """Return the 54-digit bank virtual barcode (virtuaaliviivakoodi).

    Version 4 for a Finnish reference, version 5 for an RF reference. Amounts that do not
    fit six euro digits are written as zeros, as is a missing due date: the payer then
    types them in.
    """
    account = stdnum_iban.compact(iban)
    if not stdnum_iban.is_valid(account) or not account.startswith("FI"):
        raise ValueError(f"virtual barcode needs a valid Finnish IBAN: {iban!r}")
    if amount < 0:
        raise ValueError("amount must not be negative")
    cents = int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    amount_digits = f"{cents:08d}" if cents <= 99_999_999 else "0" * 8
    due_digits = due.strftime("%y%m%d") if due is not None else "000000"
    normalised = normalise_reference(reference)
    if normalised is None:
        raise ValueError(f"not a valid reference: {reference!r}")
    if normalised.startswith("RF"):
        body = normalised[4:]
        if not body.isdecimal() or len(body) > 21:
            raise ValueError("virtual barcode v5 needs a numeric RF reference of up to 21 digits")
        return f"5{account[2:]}{amount_digits}{normalised[2:4]}{body.zfill(21)}{due_digits}"
    return f"4{account[2:]}{amount_digits}000{normalised.zfill(20)}{due_digits}"
