from datetime import date
from decimal import Decimal

import pytest

from helpdesk.references import (
    check_digit,
    find_references,
    format_reference,
    from_rf,
    invoice_number_parts,
    is_valid_reference,
    make_reference,
    normalise_reference,
    reference_for_invoice,
    to_rf,
    virtual_barcode,
)


@pytest.mark.parametrize(
    ("base", "reference"),
    [("1111", "11112"), ("234823", "2348236"), ("100102001", "1001020017"), ("123", "1232")],
)
def test_make_reference_matches_published_examples(base: str, reference: str) -> None:
    assert make_reference(base) == reference
    assert check_digit(base) == int(reference[-1])
    assert is_valid_reference(reference)


def test_check_digit_zero_when_sum_is_round() -> None:
    # From the right: 0*7 + 3*3 + 1*1 = 10, so the check digit is (10 - 0) % 10 = 0.
    assert check_digit("130") == 0
    assert make_reference("130") == "1300"


def test_check_digit_rejects_bad_bases() -> None:
    with pytest.raises(ValueError):
        check_digit("13")
    with pytest.raises(ValueError):
        check_digit("12a4")
    with pytest.raises(ValueError):
        check_digit("1" * 20)


@pytest.mark.parametrize(
    "text",
    ["10010 20017", " 1001020017 ", "11112", "00000000000000011112"],
)
def test_valid_references_with_spaces(text: str) -> None:
    assert is_valid_reference(text)


@pytest.mark.parametrize(
    "text",
    ["1001020018", "112", "123456789012345678901", "1111a2", "", "１１１１２"],
)
def test_invalid_references(text: str) -> None:
    assert not is_valid_reference(text)


def test_normalise_and_format() -> None:
    assert normalise_reference(" 10010 20017 ") == "1001020017"
    assert normalise_reference("1001020018") is None
    assert normalise_reference("rf98 1111 2") == "RF9811112"
    assert normalise_reference("RF99 1111 2") is None
    assert format_reference("1001020017") == "10010 20017"
    assert format_reference("11112") == "11112"
    assert format_reference("123456789012") == "12 34567 89012"
    assert format_reference("RF9811112") == "RF98 1111 2"


def test_rf_round_trip() -> None:
    assert to_rf("11112") == "RF9811112"
    assert from_rf("RF9811112") == "11112"
    assert from_rf("RF98 1111 2") == "11112"
    assert from_rf(to_rf("1001020017")) == "1001020017"
    assert from_rf("RF9711112") is None
    with pytest.raises(ValueError):
        to_rf("11113")


def test_find_references_in_free_text() -> None:
    text = (
        "Hei, maksoin laskun viitteellä 10010 20017 ja toisen RF98 1111 2 on myös maksettu. "
        "Väärä viite 1001020018 ei kelpaa. Summa 1 234,56 €, päivä 1.2.2024. "
        "Kolmas: 2348236."
    )
    assert find_references(text) == ["1001020017", "RF9811112", "2348236"]


def test_find_references_rejects_wrong_check_digit_and_glued_text() -> None:
    assert find_references("viite 2348237") == []
    assert find_references("tilaus ABC2348236 ja 2348236x") == []
    assert find_references("RF99 1111 2") == []


def test_find_references_min_length_skips_years() -> None:
    assert find_references("vuonna 2024 viite 1001020017") == ["2024", "1001020017"]
    assert find_references("vuonna 2024 viite 1001020017", min_length=8) == ["1001020017"]


def test_find_references_after_colon() -> None:
    assert find_references("Viite:1001020017, klo 12:30") == ["1001020017"]


def test_find_references_deduplicates() -> None:
    assert find_references("1001020017 / 10010 20017") == ["1001020017"]


def test_invoice_number_parts() -> None:
    assert invoice_number_parts("100102001") == ("100102", "001")
    assert invoice_number_parts("1001021") == ("100102", "1")
    assert invoice_number_parts("100102") is None
    assert invoice_number_parts("10010A001") is None
    assert reference_for_invoice("100102001") == "1001020017"
    with pytest.raises(ValueError):
        reference_for_invoice("100102")


def test_virtual_barcode_v4_reproduces_domain_example() -> None:
    code = virtual_barcode("FI37 1590 3000 0007 76", Decimal("12.25"), "11112", date(2016, 12, 21))
    assert code == "437159030000007760000122500000000000000000011112161221"
    assert len(code) == 54


def test_virtual_barcode_v5_and_edge_cases() -> None:
    code = virtual_barcode("FI3715903000000776", Decimal("12.25"), "RF9811112", date(2016, 12, 21))
    assert code == "5" + "3715903000000776" + "00001225" + "98" + "11112".zfill(21) + "161221"
    assert len(code) == 54
    no_due = virtual_barcode("FI3715903000000776", Decimal("1000000.00"), "11112", None)
    assert no_due[17:25] == "00000000"
    assert no_due.endswith("000000")
    with pytest.raises(ValueError):
        virtual_barcode("SE4550000000058398257466", Decimal("1"), "11112", None)
    with pytest.raises(ValueError):
        virtual_barcode("FI3715903000000776", Decimal("-1"), "11112", None)
    with pytest.raises(ValueError):
        virtual_barcode("FI3715903000000776", Decimal("1"), "11113", None)


def test_find_references_two_rf_in_one_sentence() -> None:
    assert find_references("maksoin RF98 1111 2 ja RF31 1001 0200 17") == [
        "RF9811112",
        "RF311001020017",
    ]
