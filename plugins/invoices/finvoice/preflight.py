"""What an invoice's data must be before it can become a valid Finvoice message.

The writer splits long names and street lines over the elements the XSD lets repeat and
cuts labels at word boundaries; everything else it cannot express is refused here, before
anything is written, with a reason in Finnish and English (:class:`Refusal`). Lengths are
the XSD's (``schema/Finvoice3.0.xsd``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.fi import ytunnus

from helpdesk.plugin_api import normalise_reference
from plugins.invoices.finvoice.format import fits_amount, fits_percent, format_number
from plugins.invoices.finvoice.invoice import (
    FinvoiceBuyer,
    FinvoiceInvoice,
    FinvoiceRow,
    FinvoiceSeller,
    PostalAddress,
)
from plugins.invoices.finvoice.problems import Refusal
from plugins.invoices.finvoice.text import clean, split_text
from plugins.invoices.finvoice.vat import CATEGORIES, NEEDS_BUYER_VAT_NUMBER, ZERO_RATED

# Lengths from the XSD: (minimum, maximum) characters, and how often an element may repeat.
NAME = (2, 70)  # SellerOrganisationName, BuyerOrganisationName: 1..n times
STREET = (2, 35)  # ...StreetName: 1..3 times
STREET_LINES = 3
TOWN = POSTCODE = (2, 35)
ADDRESS_ID = (2, 35)  # FromIdentifier, FromIntermediator, ToIdentifier, ToIntermediator
MESSAGE_ID = (2, 48)
INVOICE_NUMBER = (1, 20)
EMAIL = 70
PARTY_ID = 35  # BuyerPartyIdentifier, ...TaxCode, SellerOrganisationUnitNumber
TERMS = 70  # PaymentTermsFreeText: 0..2 times
TERMS_LINES = 2
VAT_TEXT = 70  # VatFreeText: 0..3 times
VAT_TEXT_LINES = 3
QUANTITY = 14  # InvoicedQuantity (QuantityType0_14)
UNIT_CODE = 14  # QuantityUnitCode
ARTICLE_NAME = 100
ARTICLE_ID = 70
ROW_FREE_TEXT = 512
EPI_NAME = 35  # EpiNameAddressDetails (2..35); the payee's name is cut to fit


def street_lines(street: str) -> list[str]:
    """The street address over the schema's StreetName lines (up to 3, 2..35 each)."""
    return split_text(street, STREET[1], STREET[0])


def _address(who_fi: str, who_en: str, field: str, address: PostalAddress) -> Iterator[Refusal]:
    parts = (
        ("street", "katuosoite", "street", address.street, STREET[1] * STREET_LINES),
        ("postcode", "postinumero", "postcode", address.postcode, POSTCODE[1]),
        ("town", "postitoimipaikka", "town", address.town, TOWN[1]),
    )
    missing = [(fi, en) for _, fi, en, value, _ in parts if len(clean(value)) < STREET[0]]
    too_long = {
        key
        for key, _, _, value, longest in parts
        if len(clean(value)) > longest
        or (key == "street" and len(street_lines(value)) > STREET_LINES)
    }
    if missing:
        yield Refusal(
            f"{field}.address",
            f"{who_fi} osoitteesta puuttuu {', '.join(fi for fi, _ in missing)}"
            " (vähintään 2 merkkiä)",
            f"the {who_en} address lacks its {', '.join(en for _, en in missing)}"
            " (2 characters at least)",
        )
    if "street" in too_long:
        yield Refusal(
            f"{field}.address.street",
            f"{who_fi} katuosoite ei mahdu kolmelle {STREET[1]} merkin riville",
            f"the {who_en} street does not fit three lines of {STREET[1]} characters",
        )
    for key, fi, en, _, longest in parts[1:]:
        if key in too_long:
            yield Refusal(
                f"{field}.address.{key}",
                f"{who_fi} {fi} on yli {longest} merkkiä",
                f"the {who_en} {en} is longer than {longest} characters",
            )
    if not re.fullmatch(r"[A-Z]{2}", address.country_code):
        yield Refusal(
            f"{field}.address.country_code",
            f"{who_fi} maakoodi {address.country_code!r} ei ole kaksikirjaiminen ISO-koodi",
            f"the {who_en} country code {address.country_code!r} is not a two-letter ISO code",
        )


def _name(who_fi: str, who_en: str, field: str, name: str) -> Iterator[Refusal]:
    if not split_text(name, NAME[1], NAME[0]):
        yield Refusal(
            f"{field}.name",
            f"{who_fi} nimi puuttuu tai on alle 2 merkkiä",
            f"the {who_en} name is missing or shorter than 2 characters",
        )


def _routing(
    who_fi: str, who_en: str, field: str, address: str, operator: str
) -> Iterator[Refusal]:
    for key, fi, en, value in (
        ("einvoice_address", "verkkolaskuosoite", "e-invoice address", address),
        ("einvoice_operator", "välittäjätunnus", "operator", operator),
    ):
        if not ADDRESS_ID[0] <= len(clean(value)) <= ADDRESS_ID[1]:
            yield Refusal(
                f"{field}.{key}",
                f"{who_fi} {fi} {value!r} ei ole 2–35 merkkiä",
                f"the {who_en} {en} {value!r} is not 2 to 35 characters",
            )


def _email(who_fi: str, who_en: str, field: str, email: str) -> Iterator[Refusal]:
    if len(clean(email)) > EMAIL:
        yield Refusal(
            f"{field}.email",
            f"{who_fi} sähköpostiosoite on yli {EMAIL} merkkiä",
            f"the {who_en} email is longer than {EMAIL} characters",
        )


def _seller(seller: FinvoiceSeller) -> Iterator[Refusal]:
    yield from _name("Myyjän", "seller's", "seller", seller.name)
    yield from _address("Myyjän", "seller's", "seller", seller.address)
    if not ytunnus.is_valid(seller.business_id):
        yield Refusal(
            "seller.business_id",
            f"Myyjän Y-tunnus {seller.business_id} ei ole kelvollinen",
            f"the seller's business ID {seller.business_id} is not valid",
        )
    if not stdnum_iban.is_valid(seller.iban):
        yield Refusal(
            "seller.iban",
            f"Myyjän tilinumero {seller.iban} ei ole kelvollinen IBAN",
            f"the seller's account {seller.iban} is not a valid IBAN",
        )
    if not stdnum_bic.is_valid(seller.bic):
        yield Refusal(
            "seller.bic",
            f"Myyjän pankin BIC {seller.bic} ei ole kelvollinen",
            f"the seller's BIC {seller.bic} is not valid",
        )
    yield from _routing("Myyjän", "seller's", "seller", seller.ovt, seller.intermediator)
    yield from _email("Myyjän", "seller's", "seller", seller.email)


def _buyer(buyer: FinvoiceBuyer, categories: set[str]) -> Iterator[Refusal]:
    yield from _name("Ostajan", "buyer's", "buyer", buyer.name)
    yield from _address("Ostajan", "buyer's", "buyer", buyer.address)
    # Only a complete pair is written (see the writer's MessageTransmissionDetails).
    if clean(buyer.einvoice_address) and clean(buyer.einvoice_operator):
        yield from _routing(
            "Ostajan", "buyer's", "buyer", buyer.einvoice_address, buyer.einvoice_operator
        )
    yield from _email("Ostajan", "buyer's", "buyer", buyer.email)
    if len(clean(buyer.business_id)) > PARTY_ID or len(buyer.tax_code) > PARTY_ID:
        yield Refusal(
            "buyer.business_id",
            f"Ostajan Y-tunnus tai ALV-numero on yli {PARTY_ID} merkkiä",
            f"the buyer's business ID or VAT number is longer than {PARTY_ID} characters",
        )
    needing = sorted(categories & NEEDS_BUYER_VAT_NUMBER)
    if needing and not buyer.tax_code:
        names = ", ".join(CATEGORIES[code].name_fi for code in needing)
        yield Refusal(
            "buyer.vat_number",
            f"Ostajan ALV-numero puuttuu, mutta laskulla on {names}",
            f"the buyer's VAT number is missing but the invoice has {', '.join(needing)} rows",
        )


def _row(index: int, row: FinvoiceRow) -> Iterator[Refusal]:
    field = f"rows[{index}]"
    code = row.vat_category
    percent = f"{format_number(row.vat_percent)} %"
    if not code:
        yield Refusal(
            f"{field}.vat_code",
            f"Rivin {index} ALV 0 %: verokohtelu puuttuu (nollaverokanta Z, veroton E,"
            " käännetty verovelvollisuus AE, yhteisömyynti K, vienti G tai ei"
            " arvonlisäveron piirissä O)",
            f"row {index} at 0 % VAT does not say which 0 % it is (Z, E, AE, K, G or O)",
        )
    elif code not in CATEGORIES:
        yield Refusal(
            f"{field}.vat_code",
            f"Rivin {index} verokoodi {code} ei ole tuettu (S, Z, E, AE, K, G, O)",
            f"row {index} has the unsupported VAT category {code} (S, Z, E, AE, K, G, O)",
        )
    elif (code == "S" and row.vat_percent <= 0) or (
        code in ZERO_RATED | {"O"} and (row.vat_percent != 0 or row.vat != 0)
    ):
        yield Refusal(
            f"{field}.vat_code",
            f"Rivin {index} verokohtelu ({CATEGORIES[code].name_fi}) ei sovi verokantaan {percent}",
            f"row {index}: VAT category {code} does not fit the rate {percent}",
        )
    if not fits_percent(row.vat_percent):
        yield Refusal(
            f"{field}.vat_percent",
            f"Rivin {index} verokanta {percent} ei ole 0–999 ja enintään 3 desimaalia",
            f"row {index}: the VAT rate {percent} is not 0 to 999 with at most 3 decimals",
        )
    if row.net + row.vat != row.gross:
        yield Refusal(
            f"{field}.amounts",
            f"Rivin {index} veroton {row.net} + ALV {row.vat} ei ole verollinen {row.gross}",
            f"row {index}: net {row.net} + VAT {row.vat} is not gross {row.gross}",
        )
    if not all(fits_amount(value) for value in (row.unit_price, row.net, row.vat, row.gross)):
        yield Refusal(
            f"{field}.amounts",
            f"Rivin {index} summat ovat liian suuria (enintään 15 numeroa)",
            f"row {index}: an amount has more than 15 integer digits",
        )
    if len(format_number(row.quantity)) > QUANTITY:
        yield Refusal(
            f"{field}.quantity",
            f"Rivin {index} määrä {row.quantity} on yli {QUANTITY} merkkiä",
            f"row {index}: the quantity {row.quantity} is longer than {QUANTITY} characters",
        )
    if len(split_text(row.vat_text, VAT_TEXT)) > VAT_TEXT_LINES:
        yield Refusal(
            f"{field}.vat_text",
            f"Rivin {index} verottomuuden peruste on yli {VAT_TEXT * VAT_TEXT_LINES} merkkiä",
            f"row {index}: the VAT grounds are longer than {VAT_TEXT * VAT_TEXT_LINES} characters",
        )


def _invoice(inv: FinvoiceInvoice) -> Iterator[Refusal]:
    if not inv.rows:
        yield Refusal("rows", "Laskulla ei ole rivejä", "the invoice has no rows")
    number = clean(inv.number)
    if not INVOICE_NUMBER[0] <= len(number) <= INVOICE_NUMBER[1]:
        yield Refusal(
            "number",
            f"Laskunumero {number!r} ei ole 1–20 merkkiä",
            f"the invoice number {number!r} is not 1 to 20 characters",
        )
    if len(clean(inv.credited_number)) > INVOICE_NUMBER[1]:
        yield Refusal(
            "credited_number",
            "Hyvitettävän laskun numero on yli 20 merkkiä",
            "the credited invoice's number is longer than 20 characters",
        )
    if normalise_reference(inv.reference) is None:
        yield Refusal(
            "reference",
            f"Viitenumero {inv.reference!r} ei ole kelvollinen",
            f"the reference {inv.reference!r} is not valid",
        )
    if inv.message_id and not MESSAGE_ID[0] <= len(clean(inv.message_id)) <= MESSAGE_ID[1]:
        yield Refusal(
            "message_id",
            "Sanoman tunniste ei ole 2–48 merkkiä",
            "the message identifier is not 2 to 48 characters",
        )
    if len(split_text(inv.payment_terms, TERMS)) > TERMS_LINES:
        yield Refusal(
            "payment_terms",
            f"Maksuehto on yli {TERMS * TERMS_LINES} merkkiä",
            f"the payment terms are longer than {TERMS * TERMS_LINES} characters",
        )
    if not all(fits_amount(total) for total in (inv.total_net, inv.total_vat, inv.total_gross)):
        yield Refusal(
            "total",
            "Laskun summa on liian suuri (enintään 15 numeroa)",
            "a total has more than 15 integer digits",
        )


def refusals_for(inv: FinvoiceInvoice) -> list[Refusal]:
    """Every reason the invoice cannot be written as Finvoice; [] when it can."""
    categories = {row.vat_category for row in inv.rows}
    refusals = [*_invoice(inv), *_seller(inv.seller), *_buyer(inv.buyer, categories)]
    for index, row in enumerate(inv.rows, start=1):
        refusals.extend(_row(index, row))
    return refusals
