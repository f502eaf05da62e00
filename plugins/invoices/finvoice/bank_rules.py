"""The bank rules of a Finvoice message's payment details, which the XSD cannot express.

The reference (the Finnish 7-3-1 check digit, or ISO 11649 RF), the account (ISO 13616
IBAN) and its bank (ISO 9362 BIC), the payee's name, and the banks' virtual barcode
(versions 4 and 5), which must agree with the account, amount, reference and due date.
Finance Finland's implementation guideline (GL) and data list (DL) are cited by section.
Each rule reads a parsed message and returns :class:`FinvoiceProblem` values; a value the
schema already rejects (a malformed amount, a missing element) is skipped here rather than
reported twice. The invoice's own rules (type, dates, totals, VAT) are in ``invoice_rules``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from typing import cast

from lxml import etree
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban

from helpdesk.plugin_api import is_valid_reference, is_valid_rf, normalise_reference
from plugins.invoices.finvoice.format import parse_amount
from plugins.invoices.finvoice.problems import FinvoiceProblem

Rule = Callable[[etree._Element], Iterator[FinvoiceProblem]]

EPI = "EpiDetails/EpiPartyDetails"
EPI_ACCOUNT = f"{EPI}/EpiBeneficiaryPartyDetails/EpiAccountID"
EPI_BIC = f"{EPI}/EpiBfiPartyDetails/EpiBfiIdentifier"
EPI_NAME = f"{EPI}/EpiBeneficiaryPartyDetails/EpiNameAddressDetails"
INSTRUCTION = "EpiDetails/EpiPaymentInstructionDetails"


def element_path(element: etree._Element) -> str:
    """The element's path in its document, as the XSD's messages give it."""
    return str(element.getroottree().getpath(element))


def problem(element: etree._Element, message: str) -> FinvoiceProblem:
    """A rule's problem with an element."""
    line = cast("int | None", element.sourceline)  # lxml-stubs type it loosely
    return FinvoiceProblem(element_path(element), message, source="rules", line=line)


def text_of(element: etree._Element | None) -> str:
    """The element's text without surrounding space; '' when it is absent."""
    return "" if element is None else (element.text or "").strip()


def number_of(element: etree._Element | None) -> Decimal | None:
    """The element's number (decimal comma), or None when absent or malformed."""
    text = text_of(element)
    if not re.fullmatch(r"-?\d+(,\d+)?", text):
        return None
    try:
        return parse_amount(text)
    except InvalidOperation:
        return None


def reference_rule(root: etree._Element) -> Iterator[FinvoiceProblem]:
    """The reference has a valid check digit, in the form its scheme names (GL 13)."""
    for element in root.iterfind(f"{INSTRUCTION}/EpiRemittanceInfoIdentifier"):
        value = text_of(element)
        scheme = element.get("IdentificationSchemeName")
        is_rf = value.upper().startswith("RF")
        if scheme == "SPY" and is_rf:
            yield problem(element, f"{value} is an RF reference; its scheme is ISO, not SPY")
        elif scheme == "ISO" and not is_rf:
            yield problem(element, f"{value} is a Finnish reference; its scheme is SPY, not ISO")
        elif is_rf and not is_valid_rf(value):
            yield problem(element, f"{value} is not a valid RF reference (ISO 11649 check)")
        elif not is_rf and not 4 <= len(value) <= 20:
            yield problem(element, f"{value} is not a Finnish reference: it has 4 to 20 digits")
        elif not is_rf and not is_valid_reference(value):
            yield problem(
                element, f"{value} is not a valid Finnish reference: the 7-3-1 check digit differs"
            )


def _iban_problems(element: etree._Element) -> Iterator[FinvoiceProblem]:
    value = text_of(element)
    if element.get("IdentificationSchemeName") == "IBAN" and not stdnum_iban.is_valid(value):
        yield problem(element, f"{value} is not a valid IBAN (country, length or check digits)")


def _bic_problems(bic: etree._Element, account: etree._Element | None) -> Iterator[FinvoiceProblem]:
    value = text_of(bic)
    if not stdnum_bic.is_valid(value):
        yield problem(bic, f"{value} is not a valid BIC (ISO 9362: 8 or 11 characters)")
        return
    iban = text_of(account)
    if (
        account is not None
        and account.get("IdentificationSchemeName") == "IBAN"
        and stdnum_iban.is_valid(iban)
        and stdnum_bic.compact(value)[4:6] != stdnum_iban.compact(iban)[:2]
    ):
        yield problem(bic, f"BIC {value} is of another country than the account {iban}")


def account_rule(root: etree._Element) -> Iterator[FinvoiceProblem]:
    """Accounts are valid IBANs with a BIC of the same country; the payee is named (GL 13)."""
    account = root.find(EPI_ACCOUNT)
    if account is not None:
        yield from _iban_problems(account)
        bic = root.find(EPI_BIC)
        if bic is not None:
            yield from _bic_problems(bic, account)
        elif account.get("IdentificationSchemeName") == "IBAN":
            yield problem(account, "an IBAN needs the bank's BIC in EpiBfiIdentifier (GL 13)")
        if not text_of(root.find(EPI_NAME)):
            beneficiary = account.getparent()
            assert beneficiary is not None
            yield problem(
                beneficiary, "EpiNameAddressDetails (the payee's name) is mandatory (GL 13)"
            )
    for details in root.iterfind("SellerInformationDetails/SellerAccountDetails"):
        seller_account = details.find("SellerAccountID")
        if seller_account is not None:
            yield from _iban_problems(seller_account)
        seller_bic = details.find("SellerBic")
        if seller_bic is not None:
            yield from _bic_problems(seller_bic, seller_account)


def barcode_rule(root: etree._Element) -> Iterator[FinvoiceProblem]:
    """The virtual barcode agrees with the account, amount, reference and due date."""
    barcode = root.find("VirtualBankBarcode")
    if barcode is None:
        return
    code = text_of(barcode)
    if not re.fullmatch(r"[45]\d{53}", code):
        yield problem(barcode, "a virtual barcode is 54 digits, the first its version 4 or 5")
        return
    account = stdnum_iban.compact(text_of(root.find(EPI_ACCOUNT)))
    if not (stdnum_iban.is_valid(account) and account.startswith("FI")):
        yield problem(barcode, "a virtual barcode needs a Finnish IBAN in EpiAccountID")
    elif code[1:17] != account[2:]:
        yield problem(barcode, f"the barcode's account {code[1:17]} is not EpiAccountID {account}")
    yield from _barcode_amount(root, barcode, code)
    yield from _barcode_reference(root, barcode, code)
    due = text_of(root.find(f"{INSTRUCTION}/EpiDateOptionDate"))
    if len(due) == 8 and code[48:] != due[2:]:
        yield problem(barcode, f"the barcode's due date {code[48:]} is not EpiDateOptionDate {due}")


def _barcode_amount(
    root: etree._Element, barcode: etree._Element, code: str
) -> Iterator[FinvoiceProblem]:
    amount = number_of(root.find(f"{INSTRUCTION}/EpiInstructedAmount"))
    if amount is None:
        return
    if amount < 0:
        yield problem(barcode, "a negative amount (credit note) cannot be paid: no barcode")
        return
    cents = int((amount * 100).to_integral_value())
    # Amounts past 999 999,99 do not fit the barcode's eight digits: zeros, the payer types it.
    expected = f"{cents:08d}" if cents <= 99_999_999 else "0" * 8
    if code[17:25] != expected:
        yield problem(
            barcode, f"the barcode's amount {code[17:25]} is not EpiInstructedAmount {amount}"
        )


def _barcode_reference(
    root: etree._Element, barcode: etree._Element, code: str
) -> Iterator[FinvoiceProblem]:
    reference = normalise_reference(
        text_of(root.find(f"{INSTRUCTION}/EpiRemittanceInfoIdentifier"))
    )
    if reference is None:
        yield problem(barcode, "a virtual barcode needs a valid reference")
    elif code[0] == "4" and reference.startswith("RF"):
        yield problem(barcode, "an RF reference goes in a version 5 barcode, not version 4")
    elif code[0] == "5" and not reference.startswith("RF"):
        yield problem(barcode, "a Finnish reference goes in a version 4 barcode, not version 5")
    else:
        expected = (
            "000" + reference.zfill(20)
            if code[0] == "4"
            else reference[2:4] + reference[4:].zfill(21)
        )
        if code[25:48] != expected:
            yield problem(barcode, f"the barcode's reference is not {reference}")


PAYMENT_RULES: tuple[Rule, ...] = (reference_rule, account_rule, barcode_rule)
