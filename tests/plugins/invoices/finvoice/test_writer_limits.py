"""The writer fits data to the schema: split, cut by its rules, or refused with reasons."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from finvoice_samples import SELLER, buyer, invoice, parse, row
from lxml import etree

from plugins.invoices.finvoice import (
    FinvoiceInvalid,
    FinvoiceRefused,
    FinvoiceRow,
    PostalAddress,
    build_finvoice,
    validate_finvoice,
)
from plugins.invoices.finvoice import writer as finvoice_writer

D = Decimal


def _valid(**changes: object) -> etree._Element:
    xml = build_finvoice(invoice(**changes))
    assert validate_finvoice(xml) == []
    return parse(xml)


def _refused(**changes: object) -> FinvoiceRefused:
    with pytest.raises(FinvoiceRefused) as raised:
        build_finvoice(invoice(**changes))
    return raised.value


def _texts(root: etree._Element, path: str) -> list[str]:
    return [element.text or "" for element in root.iterfind(path)]


def test_a_long_name_is_split_over_the_repeated_name_elements() -> None:
    name = "Osakeyhtiö " + " ".join(["Pitkäniminen Rakennus ja Saneeraus"] * 5)
    root = _valid(buyer=buyer(name=name))
    pieces = _texts(root, "BuyerPartyDetails/BuyerOrganisationName")
    assert len(pieces) == 3 and all(2 <= len(piece) <= 70 for piece in pieces)
    assert " ".join(pieces) == name


def test_a_name_too_short_or_missing_is_refused() -> None:
    for name in ("", " ", "A"):
        refused = _refused(buyer=buyer(name=name))
        assert refused.refusals[0].field == "buyer.name"
        assert "Ostajan nimi puuttuu tai on alle 2 merkkiä" in str(refused)
        assert "the buyer's name is missing" in str(refused)


def test_a_long_street_takes_up_to_three_lines() -> None:
    street = "c/o Virtanen, Pohjoisesplanadi 11-13 B 22, sisäpiha, porras C"
    root = _valid(buyer=buyer(address=PostalAddress(street, "00170", "Helsinki")))
    lines = _texts(root, "BuyerPartyDetails/BuyerPostalAddressDetails/BuyerStreetName")
    assert len(lines) == 2 and all(len(line) <= 35 for line in lines)
    refused = _refused(buyer=buyer(address=PostalAddress("Katu " * 25, "00170", "Helsinki")))
    assert "Ostajan katuosoite ei mahdu kolmelle 35 merkin riville" in refused.fi


def test_missing_or_too_long_address_parts_are_refused() -> None:
    refused = _refused(buyer=buyer(address=PostalAddress("", "", "Helsinki")))
    assert "Ostajan osoitteesta puuttuu katuosoite, postinumero" in refused.fi
    assert "the buyer's address lacks its street, postcode" in refused.en
    refused = _refused(buyer=buyer(address=PostalAddress("Katu 1", "00100", "T" * 36)))
    assert "Ostajan postitoimipaikka on yli 35 merkkiä" in refused.fi
    refused = _refused(buyer=buyer(address=PostalAddress("Katu 1", "00100", "Turku", "Sweden")))
    assert "maakoodi 'Sweden' ei ole kaksikirjaiminen" in refused.fi


def test_a_foreign_address_keeps_its_country() -> None:
    address = PostalAddress("Drottninggatan 5", "111 51", "Stockholm", "SE")
    root = _valid(buyer=buyer(address=address, business_id="", einvoice_address=""))
    assert _texts(root, "BuyerPartyDetails/BuyerPostalAddressDetails/CountryCode") == ["SE"]
    assert root.find("MessageTransmissionDetails") is None


def test_the_payee_name_is_cut_to_35_at_a_word() -> None:
    seller = replace(SELLER, name="E-tunnus Oy Kevytyrittäjien Laskutuspalvelu Suomi")
    root = _valid(seller=seller)
    payee = root.findtext(
        "EpiDetails/EpiPartyDetails/EpiBeneficiaryPartyDetails/EpiNameAddressDetails"
    )
    assert payee == "E-tunnus Oy Kevytyrittäjien"
    assert _texts(root, "SellerPartyDetails/SellerOrganisationName") == [seller.name]


def test_a_negative_total_is_a_credit_note() -> None:
    rows = [row("-200.00", quantity="-4", unit_price="50.00")]
    root = _valid(rows=rows, credited_number="100102000", credited_date=date(2026, 11, 1))
    details = root.find("InvoiceDetails")
    assert details is not None
    assert details.findtext("InvoiceTypeCode") == "INV02"
    assert details.findtext("InvoiceTypeCodeUN") == "381"
    assert details.findtext("InvoiceTypeText") == "HYVITYSLASKU"
    assert details.findtext("OriginalInvoiceNumber") == "100102000"
    assert details.findtext("OriginalInvoiceDate") == "20261101"
    assert root.findtext("EpiDetails/EpiPaymentInstructionDetails/EpiInstructedAmount") == "-251,00"
    assert root.find("VirtualBankBarcode") is None  # nothing to pay
    assert root.findtext("InvoiceRow/InvoicedQuantity") == "-4"


def test_unit_prices_keep_their_precision() -> None:
    prices = {"0.125": "0,125", "1.2345": "1,2345", "0.01234": "0,01234", "2.123456": "2,12346"}
    rows = [
        FinvoiceRow("Mittaus", D("1000"), D(price), D("25.5"), D("10.00"), D("2.55"), D("12.55"))
        for price in prices
    ]
    root = _valid(rows=rows)
    assert _texts(root, "InvoiceRow/UnitPriceAmount") == list(prices.values())


@pytest.mark.parametrize(
    ("code", "reason_code"),
    [
        ("Z", None),
        ("E", None),
        ("AE", "VATEX-EU-AE"),
        ("K", "VATEX-EU-IC"),
        ("G", "VATEX-EU-G"),
        ("O", "VATEX-EU-O"),
    ],
)
def test_each_kind_of_zero_vat_has_its_code_and_grounds(code: str, reason_code: str | None) -> None:
    rows = [row("400.00"), row("1000.00", "0", code=code)]
    root = _valid(rows=rows, buyer=buyer(vat_number="SE556703748501" if code == "K" else ""))
    spec = root.find("InvoiceDetails/VatSpecificationDetails[2]")
    assert spec is not None
    assert spec.findtext("VatCode") == code
    assert spec.findtext("VatExemptionReasonCode") == reason_code
    assert spec.findtext("VatFreeText")  # the grounds in words (guideline 10.4)
    assert (spec.find("VatRatePercent") is None) == (code == "O")
    assert root.findtext("InvoiceRow[2]/RowVatCode") == code
    tax_code = root.findtext("BuyerPartyDetails/BuyerOrganisationTaxCode")
    assert tax_code == {"AE": "FI23327487", "K": "SE556703748501"}.get(code)


def test_zero_vat_without_its_kind_is_refused() -> None:
    refused = _refused(rows=[row("100.00", "0")])
    assert refused.refusals[0].field == "rows[1].vat_code"
    assert "Rivin 1 ALV 0 %: verokohtelu puuttuu" in refused.fi
    assert "row 1 at 0 % VAT does not say which 0 % it is" in refused.en


def test_a_vat_code_must_fit_its_rate_and_the_buyer() -> None:
    assert "ei sovi verokantaan 0 %" in _refused(rows=[row("100.00", "0", code="S")]).fi
    assert "ei sovi verokantaan 25,5 %" in _refused(rows=[row("100.00", code="Z")]).fi
    assert "ei ole tuettu" in _refused(rows=[row("100.00", "0", code="ZEG")]).fi
    foreign = buyer(business_id="", vat_number="")
    refused = _refused(rows=[row("100.00", "0", code="K")], buyer=foreign)
    assert "Ostajan ALV-numero puuttuu, mutta laskulla on yhteisömyynti" in refused.fi


def test_rows_that_do_not_add_up_are_refused() -> None:
    bad = replace(row("100.00"), gross=D("125.60"))
    assert "veroton 100.00 + ALV 25.50 ei ole verollinen 125.60" in _refused(rows=[bad]).fi


def test_many_rows_and_long_descriptions() -> None:
    long_text = "Asennustyö " * 60
    rows = [row(f"{n}.00", description=long_text if n == 1 else f"Rivi {n}") for n in range(1, 201)]
    root = _valid(rows=rows)
    assert len(root.findall("InvoiceRow")) == 200
    first = root.find("InvoiceRow")
    assert first is not None
    assert len(first.findtext("ArticleName") or "") <= 100
    assert " ".join(_texts(first, "RowFreeText")) == long_text.strip()


def test_every_refusal_is_reported_at_once() -> None:
    bad_buyer = buyer(name="", email="x" * 71 + "@example.fi")
    refused = _refused(buyer=bad_buyer, rows=[row("1.00", "0")], number="1" * 21)
    fields = [refusal.field for refusal in refused.refusals]
    assert fields == ["number", "buyer.name", "buyer.email", "rows[1].vat_code"]
    assert str(refused).startswith("Verkkolaskua ei voi muodostaa: Laskunumero")


def test_an_invalid_message_is_never_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    # Were the writer wrong (here: a credit note's codes on an invoice), its own check stops it.
    monkeypatch.setattr(finvoice_writer, "INVOICE", finvoice_writer.CREDIT_NOTE)
    with pytest.raises(FinvoiceInvalid, match="always has a negative total"):
        build_finvoice(invoice())
