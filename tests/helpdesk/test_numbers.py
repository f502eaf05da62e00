"""Recognising e-tunnus, invoice and reference numbers in real-looking Finnish mail."""

from helpdesk.numbers import FoundNumber, find_numbers
from helpdesk.references import format_reference, make_reference, to_rf


def kinds(text: str) -> list[tuple[str, str]]:
    return sorted((f.kind, f.etunnus) for f in find_numbers(text))


def test_invoice_and_etunnus_numbers_inside_sentences() -> None:
    mail = (
        "Hei,\n\nlähetin eilen laskun 1001020007 asiakkaalleni, mutta se näkyy yhä "
        "lähettämättömänä. Voisitteko tarkistaa?\n\nTerveisin\nMatti Virtanen\ne-tunnus 100102"
    )
    assert find_numbers(mail) == [
        FoundNumber("invoice", "100102", "1001020007"),
        FoundNumber("etunnus", "100102", "100102"),
    ]


def test_reference_with_spaces_and_in_rf_form() -> None:
    ref = make_reference("100233001")  # invoice 100233001 -> reference with check digit
    printed = format_reference(ref)
    assert " " in printed
    assert kinds(f"Maksoin viitteellä {printed} eilen.") == [("reference", "100233")]
    rf = format_reference(to_rf(make_reference("100345002")))
    assert kinds(f"Viite: {rf}. Kiitos!") == [("reference", "100345")]


def test_wrong_check_digit_never_links() -> None:
    good = make_reference("100102001")
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    assert kinds(f"viitenumero {bad} ei kelpaa pankissa") == []
    assert kinds(f"Viitenumero: {format_reference(bad)}") == []
    assert kinds("maksu viitteellä RF99 1111 2") == []
    # The same digits without a reference word read as an invoice number of 100102.
    assert kinds(f"laskun {bad} tila") == [("invoice", "100102")]


def test_numbers_that_are_something_else() -> None:
    text = (
        "Soita minulle puh. 040 123 4567 tai 0401234567. Henkilötunnus 100102-123A. "
        "Summa 100102 € ja 1001,50 euroa, eräpäivä 1.2.2026 ja 20260112. Klo 10:01. "
        "Y-tunnus 1234567-8, tilinumero FI37 1590 3000 0007 76, postinumero 00100. "
        "Numero 09 100102 on vaihde. Tilaus ABC100102 ja 100102x."
    )
    assert find_numbers(text) == []


def test_ordinary_six_digit_number_is_a_candidate_only() -> None:
    # Whether 123456 is a user is for the database to say; the scanner only proposes it.
    assert kinds("Asiakasnumeroni on 123456.") == [("etunnus", "123456")]
    assert kinds("Tunnukseni (100478) ja lasku 10047800012!") == [
        ("etunnus", "100478"),
        ("invoice", "100478"),
    ]


def test_repeats_are_reported_once() -> None:
    assert len(find_numbers("100102, 100102 ja taas 100102")) == 1
