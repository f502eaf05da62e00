from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from plugins.invoices.rules.checks import InvoiceForCheck, OtherInvoice, RowForCheck, run_checks
from plugins.invoices.rules.validators import (
    VAT_RATES,
    is_valid_einvoice_address,
    is_valid_email,
    is_valid_operator,
    parse_delivery_method,
    valid_vat_rates,
)

D = Decimal


def good_invoice(**changes: object) -> InvoiceForCheck:
    invoice = InvoiceForCheck(
        number="100102001",
        reference="10010 20017",
        etunnus_known=True,
        delivery_method_text="Posti",
        invoice_date=date(2026, 11, 24),
        due_date=date(2026, 12, 8),
        recipient_name="Äijälä Oy",
        recipient_street="Mäkikatu 1 A 2",
        recipient_postcode="00100",
        recipient_town="Helsinki",
        recipient_country="Finland",
        recipient_country_code="FI",
        email="laskut@esimerkki.fi",
        business_id="2129112-6",
        rows=[
            RowForCheck(net=D("100.00"), vat_percent=D("25.5"), vat=D("25.50"), gross=D("125.50")),
            RowForCheck(net=D("33.33"), vat_percent=D("13.5"), vat=D("4.50"), gross=D("37.83")),
        ],
        total_net=D("133.33"),
        total_vat=D("30.00"),
        total_gross=D("163.33"),
        customer_key="42",
        customer_name="Äijälä Oy",
    )
    return replace(invoice, **changes)  # type: ignore[arg-type]


def results(invoice: InvoiceForCheck) -> dict[str, tuple[bool, str]]:
    return {r.name: (r.ok, r.reason) for r in run_checks(invoice)}


def test_all_checks_pass_with_finnish_reasons() -> None:
    got = results(good_invoice())
    assert list(got) == [
        "reference",
        "etunnus_prefix",
        "delivery_method",
        "delivery_data",
        "sums",
        "vat_rates",
        "due_date",
        "business_id",
        "duplicate",
        "netvisor_data",
        "einvoice_message",
    ]
    assert all(ok for ok, _ in got.values()), got
    assert got["reference"][1] == "Viitenumero on oikein."
    assert got["delivery_method"][1] == "Toimitustapa on posti."


@pytest.mark.parametrize(
    ("text", "method"),
    [
        ("Posti", "post"),
        ("KIRJE", "post"),
        ("paperilasku", "post"),
        ("Letter", "post"),
        ("PDF eKirje", "post"),
        ("Sähköposti", "email"),
        ("sähköpostilasku ", "email"),
        ("E-mail", "email"),
        ("email", "email"),
        ("e-post", "email"),
        ("Verkkolasku", "einvoice"),
        ("E-lasku", "einvoice"),
        ("Finvoice", "einvoice"),
        ("e-invoice", "einvoice"),
        ("E-faktura", "einvoice"),
        ("Kyyhkynen", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_delivery_method(text: str | None, method: str | None) -> None:
    assert parse_delivery_method(text) == method


def test_reference_must_match_invoice_number() -> None:
    assert results(good_invoice(reference="RF31 1001 0200 17"))["reference"][0] is True
    wrong_digit = results(good_invoice(reference="1001020018"))["reference"]
    assert wrong_digit == (False, "Viitenumeron 1001020018 tarkiste on väärä.")
    other = results(good_invoice(reference="2348236"))["reference"]
    assert other[0] is False
    assert "1001020017" in other[1]
    assert results(good_invoice(reference=""))["reference"] == (False, "Viitenumero puuttuu.")


def test_etunnus_prefix() -> None:
    assert results(good_invoice(etunnus_known=False))["etunnus_prefix"][0] is False
    bad = results(good_invoice(number="12345"))["etunnus_prefix"]
    assert bad[0] is False
    assert "e-tunnus" in bad[1]


def test_unknown_delivery_method_fails_both_checks() -> None:
    got = results(good_invoice(delivery_method_text="Kirjekyyhky"))
    assert got["delivery_method"] == (False, "Toimitustapaa ”Kirjekyyhky” ei tunnistettu.")
    assert got["delivery_data"][0] is False
    assert results(good_invoice(delivery_method_text=""))["delivery_method"][0] is False


def test_post_delivery_data() -> None:
    missing = results(good_invoice(recipient_street="", recipient_town=" "))["delivery_data"]
    assert missing == (False, "Postiosoitteesta puuttuu: katuosoite, postitoimipaikka.")
    assert results(good_invoice(recipient_postcode="0010"))["delivery_data"][0] is False
    foreign = good_invoice(
        recipient_postcode="111 22", recipient_country="Sweden", recipient_country_code="SE"
    )
    assert results(foreign)["delivery_data"][0] is True


def test_the_iso_code_not_the_name_says_which_country() -> None:
    # Netvisor's text is the country's name: "Finland" with code SE is Sweden.
    odd = good_invoice(recipient_postcode="111 22", recipient_country="Finland")
    assert results(replace(odd, recipient_country_code="SE"))["delivery_data"][0] is True
    assert results(replace(odd, recipient_country_code="FI"))["delivery_data"][0] is False
    # Without a code the name decides, and an empty one is Netvisor's default, Finland.
    assert results(replace(odd, recipient_country_code=""))["delivery_data"][0] is False
    nameless = replace(odd, recipient_country="", recipient_country_code="")
    assert results(nameless)["delivery_data"][0] is False


@pytest.mark.parametrize(
    ("address", "ok"),
    [
        ("laskut@e-tunnus.fi", True),
        ("matti.meikalainen+laskut@example.co.uk", True),
        ("info@äänekoski.fi", True),
        ("no-at-sign.fi", False),
        ("two@@example.fi", False),
        ("a@b@example.fi", False),
        (".dot@example.fi", False),
        ("dot.@example.fi", False),
        ("do..t@example.fi", False),
        ("user@localhost", False),
        ("user@-bad.fi", False),
        ("user@example.f", False),
        ("user @example.fi", False),
        (" user@example.fi", False),
        ("user@exa_mple.fi", False),
        ("ä@example.fi", False),
    ],
)
def test_email_syntax(address: str, ok: bool) -> None:
    assert is_valid_email(address) is ok


def test_email_delivery_data() -> None:
    invoice = good_invoice(delivery_method_text="Sähköposti")
    assert results(invoice)["delivery_data"][0] is True
    assert results(replace(invoice, email=""))["delivery_data"][0] is False
    assert results(replace(invoice, email="ei-osoite"))["delivery_data"][0] is False


def test_einvoice_addresses_and_operators() -> None:
    assert is_valid_einvoice_address("003721291126")
    assert is_valid_einvoice_address("003721291126AB12")
    assert is_valid_einvoice_address("FI3715903000000776")
    assert not is_valid_einvoice_address("003712345678")  # 1234567-8 is not a valid Y-tunnus
    assert not is_valid_einvoice_address("0037212911261234567")
    assert is_valid_operator("003721291126")  # Maventa
    assert is_valid_operator("003723327487")  # Apix
    assert is_valid_operator("NDEAFIHH")
    assert not is_valid_operator("XXXX")


def test_einvoice_delivery_data() -> None:
    invoice = good_invoice(
        delivery_method_text="Verkkolasku",
        einvoice_address="003721291126",
        einvoice_operator="003721291126",
    )
    assert results(invoice)["delivery_data"][0] is True
    bad = results(replace(invoice, einvoice_address="12345", einvoice_operator=""))
    ok, reason = bad["delivery_data"]
    assert not ok
    assert "verkkolaskuosoite 12345" in reason
    assert "välittäjätunnus puuttuu" in reason


def test_sums() -> None:
    off_by_cent = good_invoice(total_gross=D("163.34"), total_net=D("133.34"))
    assert results(off_by_cent)["sums"][0] is True
    wrong_total = results(good_invoice(total_gross=D("170.00")))["sums"]
    assert wrong_total[0] is False
    assert "verollinen summa" in wrong_total[1]
    bad_row = RowForCheck(net=D("100.00"), vat_percent=D("25.5"), vat=D("24.00"), gross=D("124.00"))
    got = results(
        good_invoice(
            rows=[bad_row], total_net=D("100.00"), total_vat=D("24.00"), total_gross=D("124.00")
        )
    )["sums"]
    assert got[0] is False
    assert "rivi 1" in got[1]
    assert "25,5\u00a0%" in got[1]
    assert results(good_invoice(rows=[]))["sums"] == (False, "Laskulla ei ole rivejä.")


def test_vat_rates_by_invoice_date() -> None:
    assert valid_vat_rates(date(2024, 8, 31)) == {D("24"), D("14"), D("10"), D("0")}
    assert valid_vat_rates(date(2024, 9, 1)) == {D("25.5"), D("14"), D("10"), D("0")}
    assert valid_vat_rates(date(2026, 1, 1)) == {D("25.5"), D("13.5"), D("10"), D("0")}
    assert len(VAT_RATES) == 6
    old = results(good_invoice(invoice_date=date(2025, 12, 31), due_date=date(2026, 1, 14)))
    assert old["vat_rates"][0] is False
    assert "13,5" in old["vat_rates"][1]
    assert results(good_invoice(invoice_date=None))["vat_rates"][0] is False


def test_due_date() -> None:
    assert results(good_invoice(due_date=date(2026, 11, 24)))["due_date"][0] is True
    early = results(good_invoice(due_date=date(2026, 11, 23)))["due_date"]
    assert early == (False, "Eräpäivä 23.11.2026 on ennen laskun päivämäärää 24.11.2026.")
    assert results(good_invoice(due_date=None))["due_date"] == (False, "Eräpäivä puuttuu.")


def test_business_id() -> None:
    assert results(good_invoice(business_id=""))["business_id"][0] is True
    assert results(good_invoice(business_id="2129112-7"))["business_id"][0] is False


def test_a_foreign_customer_may_have_an_eu_vat_number() -> None:
    swedish = good_invoice(
        business_id="SE559912345101", recipient_country="Sweden", recipient_country_code="SE"
    )
    assert results(swedish)["business_id"] == (True, "ALV-numero SE559912345101 on kelvollinen.")
    wrong = replace(swedish, business_id="SE559912345201")
    assert results(wrong)["business_id"] == (
        False,
        "Tunnus SE559912345201 ei ole kelvollinen Y-tunnus eikä EU-ALV-numero.",
    )
    # A Finnish customer's identifier is a Y-tunnus.
    assert results(replace(swedish, recipient_country_code="FI"))["business_id"][0] is False


def test_netvisor_data() -> None:
    assert results(good_invoice())["netvisor_data"] == (
        True,
        "Laskun ja asiakkaan tiedot luettiin Netvisorista.",
    )
    refused = good_invoice(netvisor_error="INVALID_DATA: Asiakasta ei löydy")
    assert results(refused)["netvisor_data"] == (
        False,
        "Netvisor ei antanut kaikkia laskun tietoja: INVALID_DATA: Asiakasta ei löydy",
    )


def test_einvoice_message() -> None:
    # Not an e-invoice: whatever the writer would say does not matter.
    post = good_invoice(einvoice_problems=("Ostajan nimi puuttuu",))
    assert results(post)["einvoice_message"][0] is True
    einvoice = good_invoice(
        delivery_method_text="Verkkolasku",
        einvoice_address="003721291126",
        einvoice_operator="003721291126",
    )
    assert results(einvoice)["einvoice_message"] == (
        True,
        "Verkkolaskusta voi muodostaa kelvollisen Finvoice-sanoman.",
    )
    refused = replace(
        einvoice,
        einvoice_problems=("Ostajan osoitteesta puuttuu katuosoite", "Rivin 1 ALV 0 %: x."),
    )
    assert results(refused)["einvoice_message"] == (
        False,
        "Verkkolaskua ei voi muodostaa: Ostajan osoitteesta puuttuu katuosoite; "
        "Rivin 1 ALV 0 %: x.",
    )


def test_duplicate() -> None:
    same = OtherInvoice("100102002", "ÄIJÄLÄ  oy", D("163.33"), date(2026, 11, 20))
    got = results(good_invoice(other_invoices=[same]))["duplicate"]
    assert got[0] is False
    assert "100102002" in got[1]
    far = replace(same, invoice_date=date(2026, 11, 16))
    other_sum = replace(same, gross=D("163.00"))
    other_customer = replace(same, customer_name="Toinen Oy")
    itself = replace(same, number="100102001")
    ok = good_invoice(other_invoices=[far, other_sum, other_customer, itself])
    assert results(ok)["duplicate"][0] is True


def test_explicit_method_wins_over_text() -> None:
    invoice = good_invoice(delivery_method="email", delivery_method_text="ihan mitä vain")
    assert invoice.resolved_delivery_method == "email"
    assert good_invoice(delivery_method_text="E-lasku").resolved_delivery_method == "einvoice"
