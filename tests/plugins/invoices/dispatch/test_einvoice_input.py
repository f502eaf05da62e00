"""A stored invoice becomes the Finvoice writer's input: Netvisor's VAT codes, the buyer."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from plugins.invoices.dispatch.einvoice import finvoice_for, finvoice_input, vat_category
from plugins.invoices.finvoice import FinvoiceRefused, validate_finvoice
from plugins.invoices.models import Invoice


def _row(net: str, rate: str, vat: str, **extra: str) -> dict[str, Any]:
    gross = str(Decimal(net) + Decimal(vat))
    return {"name": "Työ", "quantity": "1", "unit_price": net, "vat_percent": rate,
            "net": net, "vat": vat, "gross": gross, **extra}  # fmt: skip


def _invoice(rows: list[dict[str, Any]], **changes: Any) -> Invoice:
    values: dict[str, Any] = {
        "netvisor_key": 1,
        "number": "100102001",
        "reference": "1001020017",
        "customer_name": "Rakennus Oy",
        "customer_address": "Työmaantie 3",
        "customer_postcode": "33100",
        "customer_town": "Tampere",
        "customer_country": "Finland",
        "customer_country_code": "FI",
        "business_id": "2332748-7",
        "einvoice_address": "003723327487",
        "einvoice_operator": "003721291126",
        "invoice_date": date(2026, 11, 24),
        "due_date": date(2026, 12, 8),
        "rows": rows,
    }
    values.update(changes)
    return Invoice(**values)


@pytest.mark.parametrize(
    ("code", "rate", "category"),
    [
        ("KOMY", "25.5", "S"),
        ("KOMY", "0", "Z"),
        ("KOMY0", "0", "Z"),
        ("EUMY", "0", "K"),
        ("EUPM312", "0", "K"),
        ("EUUM", "0", "G"),
        ("RAMY", "0", "AE"),
        ("MUUL", "0", "E"),
        ("NONE", "0", "O"),
        ("ae", "0", "AE"),
        ("", "25.5", ""),
    ],
)
def test_netvisor_vat_codes_map_to_un_categories(code: str, rate: str, category: str) -> None:
    assert vat_category(code, Decimal(rate), 1) == category


def test_a_code_without_a_safe_mapping_is_refused() -> None:
    with pytest.raises(FinvoiceRefused, match="Netvisorin ALV-koodille KOOS"):
        vat_category("KOOS", Decimal(0), 2)


def test_reverse_charge_construction_goes_out_with_the_buyer_vat_number() -> None:
    invoice = _invoice([_row("1000.00", "0", "0.00", vat_code="RAMY")])
    root = etree.fromstring(finvoice_for(invoice))
    assert root.findtext("InvoiceDetails/VatSpecificationDetails/VatCode") == "AE"
    assert root.findtext("BuyerPartyDetails/BuyerOrganisationTaxCode") == "FI23327487"


def test_a_foreign_vat_number_in_the_business_id_field() -> None:
    invoice = _invoice(
        [_row("500.00", "0", "0.00", vat_code="EUMY")],
        business_id="SE 556703748501",
        customer_country="Sweden",
        customer_country_code="SE",
        einvoice_address="",
        einvoice_operator="",
    )
    buyer = finvoice_input(invoice).buyer
    assert (buyer.business_id, buyer.vat_number) == ("", "SE556703748501")
    xml = finvoice_for(invoice)
    assert validate_finvoice(xml) == []
    assert b"<BuyerOrganisationTaxCode>SE556703748501<" in xml
    root = etree.fromstring(xml)
    assert root.findtext("BuyerPartyDetails/BuyerPostalAddressDetails/CountryCode") == "SE"


def test_the_country_code_is_the_iso_attribute_never_the_name() -> None:
    # Netvisor's text is the country's name ("Sweden"); only the ISO-3166 attribute is a
    # code. Without one the buyer's country is unknown: refused, never taken for Finland.
    named_only = _invoice(
        [_row("200.00", "25.5", "51.00", vat_code="KOMY")],
        customer_country="Sweden",
        customer_country_code="",
    )
    assert finvoice_input(named_only).buyer.address.country_code == ""
    with pytest.raises(FinvoiceRefused, match="maakoodi"):
        finvoice_for(named_only)


def test_zero_vat_rows_without_a_code_are_refused_with_the_reason() -> None:
    invoice = _invoice([_row("100.00", "0", "0.00")])
    with pytest.raises(ValueError, match="Rivin 1 ALV 0 %: verokohtelu puuttuu"):
        finvoice_for(invoice)


def test_the_stored_invoice_makes_a_valid_message() -> None:
    invoice = _invoice([_row("200.00", "25.5", "51.00", vat_code="KOMY", code="T-1")])
    xml = finvoice_for(invoice, message_id="etunnus-dispatch-7")
    assert validate_finvoice(xml) == []
    root = etree.fromstring(xml)
    assert root.findtext("MessageTransmissionDetails/MessageDetails/MessageIdentifier") == (
        "etunnus-dispatch-7"
    )
    assert root.findtext("InvoiceRow/ArticleIdentifier") == "T-1"
