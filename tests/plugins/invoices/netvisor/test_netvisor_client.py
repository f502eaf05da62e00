"""The Netvisor client against the sandbox over real loopback HTTP."""

from __future__ import annotations

import logging
import threading
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest
from netvisor_sandbox import NetvisorSandbox

from plugins.invoices.netvisor import concerns_one_record
from plugins.invoices.netvisor.auth import build_headers
from plugins.invoices.netvisor.errors import (
    AuthenticationFailed,
    InvalidData,
    NetvisorProtocolError,
    NetvisorTransportError,
    TechnicalError,
)
from plugins.invoices.sandboxes.netvisor.data import DELETED_CUSTOMER_KEY, DEMO_PROBLEMS, SandboxRow

#: The demo's unsent invoices (one more, 1001020006, was sent a month ago).
UNSENT_IN_DEMO = 16


def test_list_unsent_invoices(sandbox: NetvisorSandbox) -> None:
    # The demo is dated from the day the sandbox was made: read it now, not when the
    # module was collected (a run that passes midnight would compare two days).
    today = date.today()
    items = sandbox.client().list_sales_invoices()

    assert len(items) == UNSENT_IN_DEMO
    assert all(item.status == "unsent" for item in items)
    first = next(item for item in items if item.invoice_number == "1001020007")
    assert first.netvisor_key == 1002
    assert first.customer_name == "Rakennus Virtanen & Poika Oy"
    assert first.customer_code == "A501"
    assert first.reference_number == "10010200071"
    assert first.invoice_sum == Decimal("765.55")
    assert first.open_sum == Decimal("765.55")
    assert first.invoice_date == today - timedelta(days=3)
    assert first.uri is not None and first.uri.endswith("getsalesinvoice.nv?netvisorkey=1002")
    # The "100102%" search of the instruction sheet is done on our side.
    assert {i.invoice_number for i in items if i.invoice_number.startswith("100102")} == {
        "1001020007",
        "1001020008",
        "1001020009",
    }


def test_list_filters(sandbox: NetvisorSandbox) -> None:
    today = date.today()
    client = sandbox.client()

    assert [i.netvisor_key for i in client.list_sales_invoices(status=None)][:2] == [1001, 1002]
    assert [i.status for i in client.list_sales_invoices(status="open")] == ["open"]
    above = client.list_sales_invoices(above_netvisor_key=1010)
    assert [i.netvisor_key for i in above] == list(range(1011, 1018))
    one = client.list_sales_invoices(invoice_number="1004780022")
    assert [i.netvisor_key for i in one] == [1009]
    today_only = client.list_sales_invoices(begin_date=today, end_date=today)
    assert {i.invoice_number for i in today_only} == {
        "1005120006",
        "1001020009",
        "9999010001",
        "1004780023",
        "1005120007",
    }
    assert client.list_sales_invoices(last_modified_start=today + timedelta(days=1)) == []
    with pytest.raises(ValueError):
        client.list_sales_invoices(status="lähettämätön")


def test_get_sales_invoice_details(sandbox: NetvisorSandbox) -> None:
    invoice = sandbox.client().get_sales_invoice(1003)

    assert invoice is not None
    assert invoice.netvisor_key == 1003
    assert invoice.invoice_number == "1001020008"
    assert invoice.status == "unsent"
    assert invoice.delivery_method == "Sähköposti"
    assert invoice.customer_name == "Liisa Laaksonen"
    assert invoice.customer_netvisor_key == 504
    assert invoice.customer_address_line == "Kalliokatu 5 B 12"
    assert invoice.customer_post_number == "00530"
    assert invoice.customer_town == "Helsinki"
    assert invoice.customer_business_id is None
    assert invoice.due_date == invoice.invoice_date + timedelta(days=14)  # type: ignore[operator]
    assert invoice.currency == "EUR"
    assert invoice.amount == Decimal("784.00")
    assert invoice.amount == invoice.rows_gross_total
    assert [row.vat_percent for row in invoice.rows] == [
        Decimal("25.5"),
        Decimal("10"),
        Decimal("0"),
    ]
    wedding = invoice.rows[0]
    assert wedding.product_name == "Hääkuvaus"
    assert wedding.quantity == Decimal("5")
    assert wedding.unit_price == Decimal("80.0000")
    assert wedding.net_sum == Decimal("400.00")
    assert wedding.vat_sum == Decimal("102.00")
    assert wedding.gross_sum == Decimal("502.00")
    assert invoice.our_reference == "E-tunnus 100102 / Matti Virtanen"


def test_get_company_invoice_and_problem_invoice(sandbox: NetvisorSandbox) -> None:
    client = sandbox.client()
    einvoice = client.get_sales_invoice(1004)
    broken_sum = client.get_sales_invoice(1011)

    assert einvoice is not None and einvoice.delivery_method == "Verkkolasku"
    assert einvoice.customer_name == "Äijälä Öljy Oy"
    assert einvoice.customer_business_id == "1876543-1"
    assert broken_sum is not None
    assert broken_sum.amount == Decimal("2085.00")
    assert broken_sum.rows_gross_total == Decimal("2058.20")


def test_a_missing_invoice_is_none_a_missing_customer_a_failure(sandbox: NetvisorSandbox) -> None:
    client = sandbox.client()
    assert client.get_sales_invoice(99999) is None
    assert client.get_sales_invoice_pdf(99999) is None
    with pytest.raises(InvalidData) as caught:
        client.get_customer(99999)
    assert concerns_one_record(caught.value)
    assert sandbox.state.request_count("getcustomer") == 1  # not retried


def test_a_deleted_customer_still_shows_on_its_invoice(sandbox: NetvisorSandbox) -> None:
    client = sandbox.client()
    invoice = client.get_sales_invoice(1017)
    assert invoice is not None and invoice.customer_netvisor_key == DELETED_CUSTOMER_KEY
    assert invoice.customer_name == "Tmi Kaarina Salo"
    with pytest.raises(InvalidData, match=f"Netvisor-tunnisteella {DELETED_CUSTOMER_KEY}"):
        client.get_customer(DELETED_CUSTOMER_KEY)


def test_get_many_invoices(sandbox: NetvisorSandbox) -> None:
    invoices = sandbox.client().get_sales_invoices([1002, 1013, 99999, 1002])
    assert [i.netvisor_key for i in invoices] == [1002, 1013]
    assert invoices[1].invoice_number == "9999010001"


def test_invoice_pdf(sandbox: NetvisorSandbox) -> None:
    pdf = sandbox.client().get_sales_invoice_pdf(1004)

    assert pdf is not None
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    assert b"LASKU 1002330012" in pdf
    assert "Äijälä Öljy Oy".encode("cp1252") not in pdf  # non-ASCII is escaped...
    assert b"\\304ij\\344l\\344" in pdf  # ...as WinAnsi octal escapes
    assert b"1280,10" in pdf


def test_get_customer(sandbox: NetvisorSandbox) -> None:
    client = sandbox.client()
    company = client.get_customer(506)
    person = client.get_customer(508)
    with_invoicing_email = client.get_customer(501)

    assert company is not None
    assert company.name == "Äijälä Öljy Oy"
    assert company.business_id == "1876543-1"
    assert company.street_address == "Satamatie 40"
    assert company.post_number == "90520"
    assert company.city == "Oulu"
    assert company.country == "FI"
    assert company.finvoice_address == "003718765431"
    assert company.finvoice_router_code == "003721291126"
    assert person is not None and person.email is None and person.invoice_email is None
    assert with_invoicing_email is not None
    assert with_invoicing_email.invoice_email == "laskut.rakennusvirtanen@example.fi"
    assert with_invoicing_email.email == "toimisto.rakennusvirtanen@example.fi"


def test_status_open_removes_invoice_from_unsent_list(sandbox: NetvisorSandbox) -> None:
    client = sandbox.client()
    client.update_sales_invoice_status([1002], "open")
    client.update_sales_invoice_status([1003, 1004], "open")

    unsent = {i.netvisor_key for i in client.list_sales_invoices()}
    assert {1002, 1003, 1004}.isdisjoint(unsent)
    assert len(unsent) == UNSENT_IN_DEMO - 3
    assert sandbox.state.invoices[1002].status == "open"
    assert (1002, "unsent", "open") in sandbox.state.status_changes
    details = client.get_sales_invoice(1002)
    assert details is not None and details.status == "open"
    with pytest.raises(ValueError):
        client.update_sales_invoice_status([1002], "sent")
    with pytest.raises(InvalidData):
        client.update_sales_invoice_status([424242], "open")


def test_comment_round_trip_in_iso_8859_15(sandbox: NetvisorSandbox) -> None:
    client = sandbox.client()
    text = "Äijälä Öljy Oy € – tarkistettu"
    client.add_sales_invoice_comment(1004, text)

    assert sandbox.state.comments(1004) == [text]
    invoice = client.get_sales_invoice(1004, process_history=True)
    assert invoice is not None
    saved, comment = invoice.process_history
    assert (saved.channel, saved.status) == ("Rajapinta", "Tallennettu")
    assert (comment.material_type, comment.status) == ("Kommentti", text)
    assert comment.processed_at is not None
    # The same through a Latin-9 answer: parsed by what it declares.
    sandbox.state.response_encoding = "ISO-8859-15"
    again = client.get_sales_invoice(1004, process_history=True)
    assert again is not None and again.process_history[-1].status == text
    assert again.customer_name == "Äijälä Öljy Oy"
    state = httpx.get(f"{sandbox.url}/_sandbox/state").json()
    assert next(i for i in state["invoices"] if i["netvisor_key"] == 1004)["comments"] == [text]


def test_comment_is_validated_before_sending(sandbox: NetvisorSandbox) -> None:
    client = sandbox.client()
    with pytest.raises(ValueError):
        client.add_sales_invoice_comment(1004, "x" * 501)
    with pytest.raises(ValueError):
        client.add_sales_invoice_comment(1004, "   ")
    assert sandbox.state.request_count("salesinvoicecomment") == 0


def test_wrong_key_is_authentication_failed(sandbox: NetvisorSandbox) -> None:
    client = sandbox.client(customer_key="not-the-key")
    with pytest.raises(AuthenticationFailed) as caught:
        client.list_sales_invoices()

    assert caught.value.code == "AUTHENTICATION_FAILED"
    assert "MAC" in caught.value.message
    assert "not-the-key" not in str(caught.value)
    assert caught.value.detail  # a hint in Finnish for the agent
    assert sandbox.state.request_count("salesinvoicelist") == 1  # never retried


def test_injected_failure_is_typed_and_not_retried(sandbox: NetvisorSandbox) -> None:
    sandbox.state.fail_next("getcustomer", "INVALID_DATA", "Asiakasta ei voitu hakea")
    with pytest.raises(InvalidData) as caught:
        sandbox.client().get_customer(501)

    assert caught.value.message == "Asiakasta ei voitu hakea"
    assert str(caught.value).startswith("Netvisor hylkäsi tiedot virheellisinä (INVALID_DATA)")
    assert sandbox.state.request_count("getcustomer") == 1


def test_technical_error_on_get_is_retried(sandbox: NetvisorSandbox) -> None:
    sandbox.state.fail_next("salesinvoicelist", "TECHNICAL_ERROR")
    assert len(sandbox.client().list_sales_invoices()) == UNSENT_IN_DEMO
    assert sandbox.state.request_count("salesinvoicelist") == 2

    sandbox.state.fail_next("salesinvoicelist", "TECHNICAL_ERROR", times=3)
    with pytest.raises(TechnicalError):
        sandbox.client().list_sales_invoices()
    assert sandbox.state.request_count("salesinvoicelist") == 5


def test_technical_error_on_comment_is_not_retried(sandbox: NetvisorSandbox) -> None:
    sandbox.state.fail_next("salesinvoicecomment", "TECHNICAL_ERROR")
    with pytest.raises(TechnicalError):
        sandbox.client().add_sales_invoice_comment(1002, "Tarkistettu")
    assert sandbox.state.request_count("salesinvoicecomment") == 1


def test_timeout_on_get_is_retried_then_transport_error(sandbox: NetvisorSandbox) -> None:
    sandbox.state.delay_next("getsalesinvoice", 0.8, times=3)
    client = sandbox.client(timeout=0.25)
    with pytest.raises(NetvisorTransportError) as caught:
        client.get_sales_invoice(1002)

    assert caught.value.code == "TIMEOUT"
    sandbox.wait_for(lambda: sandbox.state.request_count("getsalesinvoice") == 3)


def test_timeout_on_comment_is_not_retried(sandbox: NetvisorSandbox) -> None:
    sandbox.state.delay_next("salesinvoicecomment", 0.8)
    client = sandbox.client(timeout=0.25)
    with pytest.raises(NetvisorTransportError):
        client.add_sales_invoice_comment(1002, "Lähetetty postitse")

    # Netvisor carried the comment out after the client gave up: exactly once.
    sandbox.wait_for(lambda: sandbox.state.request_count("salesinvoicecomment") == 1)
    assert sandbox.state.comments(1002) == ["Lähetetty postitse"]


def test_timeout_on_status_update_is_retried(sandbox: NetvisorSandbox) -> None:
    sandbox.state.delay_next("updatesalesinvoicestatus", 0.6)
    client = sandbox.client(timeout=0.25)
    client.update_sales_invoice_status([1005], "open")

    assert sandbox.state.invoices[1005].status == "open"
    sandbox.wait_for(lambda: sandbox.state.request_count("updatesalesinvoicestatus") == 2)
    assert [c for c in sandbox.state.status_changes if c[0] == 1005] == [(1005, "unsent", "open")]


def test_malformed_xml_is_protocol_error(sandbox: NetvisorSandbox) -> None:
    sandbox.state.malformed_next("salesinvoicelist")
    with pytest.raises(NetvisorProtocolError) as caught:
        sandbox.client().list_sales_invoices()
    assert caught.value.code == "MALFORMED_XML"
    assert sandbox.state.request_count("salesinvoicelist") == 1


def test_calls_to_one_environment_are_serialised(sandbox: NetvisorSandbox) -> None:
    sandbox.state.delay_next("salesinvoicelist", 0.15, times=6)
    clients = [sandbox.client(), sandbox.client()]
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            for _ in range(3):
                clients[index].list_sales_invoices()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert errors == []
    assert sandbox.state.request_count("salesinvoicelist") == 6
    assert sandbox.state.max_concurrency == 1


def test_sandbox_would_notice_concurrent_calls(sandbox: NetvisorSandbox) -> None:
    """Control for the test above: unserialised requests do overlap in the sandbox."""
    sandbox.state.delay_next("getcustomer", 0.3, times=2)
    config = sandbox.config()
    url = f"{sandbox.url}/getcustomer.nv?id=501"

    def call() -> None:
        httpx.get(url, headers=build_headers(config, url), timeout=5)

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sandbox.state.max_concurrency == 2


def test_new_invoice_appears_in_unsent_list(sandbox: NetvisorSandbox) -> None:
    client = sandbox.client()
    added = sandbox.state.add_invoice(
        etunnus_number="100233",
        customer=502,
        delivery_method="Posti",
        rows=[SandboxRow("Julisteen taitto", Decimal(2), Decimal("60.00"), Decimal("25.5"))],
    )
    response = httpx.post(
        f"{sandbox.url}/_sandbox/invoices",
        json={
            "etunnus_number": "100102",
            "customer": {
                "name": "Tuomas Salo",
                "street_address": "Rinnekatu 1",
                "post_number": "96100",
                "city": "Rovaniemi",
                "email": "tuomas.salo@example.com",
            },
            "delivery_method": "Sähköposti",
            "rows": [{"product_name": "Hääkuvaus", "quantity": "3", "unit_price": "80,00"}],
        },
    )

    assert response.status_code == 201
    assert added.invoice_number == "1002330015"
    assert added.reference_number == "10023300159"
    assert response.json()["invoice_number"] == "1001020010"
    assert response.json()["amount"] == "301.20"
    new = client.list_sales_invoices(above_netvisor_key=1017)
    assert [i.invoice_number for i in new] == ["1002330015", "1001020010"]
    # A new customer's key was never anyone's, not even the deleted customer's.
    customer = client.get_customer(515)
    assert customer is not None and customer.email == "tuomas.salo@example.com"


def test_no_keys_in_logs(sandbox: NetvisorSandbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sandbox.state.fail_next("getcustomer", "TECHNICAL_ERROR")
    client = sandbox.client()
    client.get_customer(501)

    assert "sandbox-customer-key" not in caplog.text
    assert "sandbox-partner-key" not in caplog.text
    assert "sandbox-customer-key" not in repr(client)
    assert "getcustomer" in caplog.text  # the retry was logged


def test_problem_invoices_are_all_in_the_unsent_list(sandbox: NetvisorSandbox) -> None:
    numbers = {i.invoice_number for i in sandbox.client().list_sales_invoices()}
    assert set(DEMO_PROBLEMS) <= numbers


def test_a_scandinavian_sender_passes_the_mac_check(sandbox: NetvisorSandbox) -> None:
    client = sandbox.client(sender="E-tunnus asiakaspalvelu, Vähäkyrö")
    assert len(client.list_sales_invoices()) == UNSENT_IN_DEMO
