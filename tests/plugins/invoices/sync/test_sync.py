"""The sync against the Netvisor sandbox as a real HTTP server: idempotent, all or nothing."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from netvisor_sandbox import NetvisorSandbox
from sqlmodel import Session, func, select

from helpdesk.db import new_session, transaction
from plugins.invoices.models import Invoice, InvoiceEvent, InvoiceStatus, SyncState
from plugins.invoices.rules.checks import CHECKS
from plugins.invoices.sandboxes.demo import ensure_demo_users
from plugins.invoices.sandboxes.netvisor.data import (
    DEMO_PROBLEMS,
    SandboxCustomer,
    SandboxRow,
    deleted_customer,
)
from plugins.invoices.sync import SYNC_NAME, fetch_invoice, refresh_invoice, sync_unsent

HELSINKI = ZoneInfo("Europe/Helsinki")
#: Thursday 26.11.2026 10:30 in Helsinki: a business day in service hours.
NOW = datetime(2026, 11, 26, 10, 30, tzinfo=HELSINKI).astimezone(UTC)

#: The check each planted problem must fail.
EXPECTED_FAILURE = {
    "1003450003": "reference",
    "1003450004": "delivery_data",
    "1004780021": "delivery_data",
    "1004780022": "delivery_data",
    "1005120005": "vat_rates",
    "1005120006": "sums",
    "1001020009": "duplicate",
    "9999010001": "etunnus_prefix",
    "1004780023": "einvoice_message",
    "1005120007": "netvisor_data",
}
#: The demo's unsent invoices.
DEMO_UNSENT = 16


def invoices(session: Session) -> dict[str, Invoice]:
    return {i.number: i for i in session.exec(select(Invoice))}


def count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_sync_twice_gives_the_same_rows(session: Session, sandbox: NetvisorSandbox) -> None:
    ensure_demo_users(session)
    first = sync_unsent(session, sandbox.client(), NOW)
    rows = invoices(session)
    events = count(session, InvoiceEvent)
    second = sync_unsent(session, sandbox.client(), NOW + timedelta(minutes=5))

    assert first.ok and second.ok
    assert (first.new, second.new, second.updated, second.left) == (DEMO_UNSENT, 0, 0, 0)
    assert set(rows) == {i.invoice_number for i in sandbox.state.unsent_invoices()}
    assert count(session, Invoice) == DEMO_UNSENT
    assert count(session, InvoiceEvent) == events == DEMO_UNSENT  # one "seen" each, no more
    again = invoices(session)
    for number, row in rows.items():
        assert again[number].id == row.id
        assert again[number].first_seen_at == NOW
        assert again[number].deadline_at == datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
        assert again[number].last_synced_at == NOW + timedelta(minutes=5)


def test_netvisor_is_asked_with_no_transaction_open(
    session: Session, sandbox: NetvisorSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = sandbox.client()
    asked: list[tuple[str, bool]] = []
    for name in ("list_sales_invoices", "get_sales_invoices", "get_customer"):
        real = getattr(client, name)

        def watched(*args, _real=real, _name=name, **kwargs):
            asked.append((_name, session.in_transaction()))
            return _real(*args, **kwargs)

        monkeypatch.setattr(client, name, watched)
    session.exec(select(Invoice)).all()  # a read before the sync, as a page would do
    assert sync_unsent(session, client, NOW).ok
    called = {name for name, _ in asked}
    assert called == {"list_sales_invoices", "get_sales_invoices", "get_customer"}
    assert [call for call in asked if call[1]] == []


def test_sync_stores_the_details(session: Session, sandbox: NetvisorSandbox) -> None:
    ensure_demo_users(session)
    sync_unsent(session, sandbox.client(), NOW)
    rows = invoices(session)

    post = rows["1001020007"]
    assert post.etunnus == "100102" and post.user_id is not None
    assert post.reference == "10010200071"
    assert post.delivery_method == "post" and post.delivery_method_text == "Posti"
    assert post.customer_name == "Rakennus Virtanen & Poika Oy"
    assert (post.customer_postcode, post.customer_town) == ("33100", "Tampere")
    assert post.business_id == "2734561-5"
    assert post.gross_sum == Decimal("765.55") and post.vat_sum == Decimal("155.55")
    assert len(post.rows) == 2 and post.rows[0]["vat_percent"] == "25.5"
    assert post.rows[0]["vat_code"] == "KOMY"  # ProductVatPercentage's vatcode attribute
    assert (post.customer_country, post.customer_country_code) == ("Finland", "FI")
    email = rows["1001020008"]
    assert email.delivery_method == "email" and email.email == "liisa.laaksonen@example.com"
    einvoice = rows["1002330012"]
    assert einvoice.delivery_method == "einvoice"
    assert (einvoice.einvoice_address, einvoice.einvoice_operator) == (
        "003718765431",
        "003721291126",
    )
    assert rows["1005120005"].delivery_method == "email"  # "Email" is recognised too
    swedish = rows["1002330014"]
    assert (swedish.customer_country, swedish.customer_country_code) == ("Sweden", "SE")
    assert swedish.business_id == "SE559912345101" and swedish.checks_ok, swedish.failed_checks
    assert [(row["vat_code"], row["vat_percent"]) for row in swedish.rows] == [("EUPM312", "0")]
    (saved,) = post.netvisor_history
    assert (saved["material_type"], saved["channel"], saved["status"]) == (
        "Myyntilasku",
        "Rajapinta",
        "Tallennettu",
    )
    assert saved["user"] == "E-tunnus" and saved["timestamp"]
    state = session.get(SyncState, SYNC_NAME)
    assert state is not None and state.last_success_at == NOW and state.last_error is None


def test_every_planted_problem_fails_its_check_and_clean_ones_pass(
    session: Session, sandbox: NetvisorSandbox
) -> None:
    ensure_demo_users(session)
    sync_unsent(session, sandbox.client(), NOW)
    rows = invoices(session)

    assert set(EXPECTED_FAILURE) == set(DEMO_PROBLEMS)
    for number, check in EXPECTED_FAILURE.items():
        failed = {c["name"]: c["reason"] for c in rows[number].checks if not c["ok"]}
        assert check in failed, (number, failed)
        assert not rows[number].checks_ok
    clean = ("1001020007", "1001020008", "1002330012", "1002330013", "1002330014", "1003450005")
    for number in clean:
        assert rows[number].checks_ok, rows[number].failed_checks
        assert len(rows[number].checks) == len(CHECKS)
    duplicate = next(c for c in rows["1001020009"].checks if c["name"] == "duplicate")
    assert "1001020007" in duplicate["reason"]


def test_unknown_user_passes_once_the_user_exists(
    session: Session, sandbox: NetvisorSandbox
) -> None:
    sync_unsent(session, sandbox.client(), NOW)
    before = invoices(session)["1001020007"]
    assert before.user_id is None
    assert not next(c for c in before.checks if c["name"] == "etunnus_prefix")["ok"]

    ensure_demo_users(session)
    sync_unsent(session, sandbox.client(), NOW + timedelta(minutes=5))
    after = invoices(session)["1001020007"]

    assert after.user_id is not None and after.checks_ok
    kinds = [
        e.kind
        for e in session.exec(select(InvoiceEvent).where(InvoiceEvent.invoice_id == after.id))
    ]
    assert kinds == ["seen", "checks"]


def test_invoice_opened_in_netvisor_leaves_the_queue(
    session: Session, sandbox: NetvisorSandbox
) -> None:
    sync_unsent(session, sandbox.client(), NOW)
    key = invoices(session)["1002330013"].netvisor_key
    sandbox.state.set_status([key], "open")

    result = sync_unsent(session, sandbox.client(), NOW + timedelta(minutes=5))
    row = invoices(session)["1002330013"]

    assert result.left == 1
    assert row.status == InvoiceStatus.left_netvisor and row.netvisor_status == "open"
    assert row.left_unsent_at == NOW + timedelta(minutes=5)
    last = session.exec(
        select(InvoiceEvent)
        .where(InvoiceEvent.invoice_id == row.id)
        .order_by(InvoiceEvent.id.desc())  # type: ignore[union-attr]
    ).first()
    assert last is not None and last.kind == "left_netvisor"
    assert last.details == {"netvisor_status": "open"}
    # A second sync changes nothing more.
    assert sync_unsent(session, sandbox.client(), NOW + timedelta(minutes=10)).left == 0


def test_new_invoice_at_runtime_appears_with_its_deadline(
    session: Session, sandbox: NetvisorSandbox
) -> None:
    sync_unsent(session, sandbox.client(), NOW)
    added = sandbox.state.add_invoice(
        etunnus_number="100689",
        customer=504,
        delivery_method="Sähköposti",
        rows=[SandboxRow("Käännöstyö", Decimal(3), Decimal("50.00"), Decimal("25.5"))],
    )
    late = datetime(2026, 11, 26, 15, 20, tzinfo=HELSINKI).astimezone(UTC)

    result = sync_unsent(session, sandbox.client(), late)
    row = invoices(session)[added.invoice_number]

    assert result.new == 1
    assert row.first_seen_at == late
    # Seen after 15:00 on Thursday: due Friday 15:00 (13:00 UTC in winter).
    assert row.deadline_at == datetime(2026, 11, 27, 13, 0, tzinfo=UTC)
    assert row.gross_sum == Decimal("188.25")


@pytest.mark.parametrize(
    ("resource", "code"),
    [
        ("salesinvoicelist", "AUTHENTICATION_FAILED"),
        ("getsalesinvoice", "SYSTEM_MAINTENANCE"),
        ("getcustomer", "SERVICE_ACCESS_ERROR"),
        ("getsalesinvoice", "INVALID_DATA_SIZE"),
    ],
)
def test_netvisor_failure_writes_nothing_and_says_why(
    session: Session, sandbox: NetvisorSandbox, resource: str, code: str
) -> None:
    sandbox.state.fail_next(resource, code, "Sandbox sanoo ei", times=5)

    result = sync_unsent(session, sandbox.client(max_attempts=2), NOW)

    assert not result.ok
    assert code in (result.error or "") and "Sandbox sanoo ei" in (result.error or "")
    assert result.detail  # a Finnish hint for the agent
    assert count(session, Invoice) == 0 and count(session, InvoiceEvent) == 0
    state = session.get(SyncState, SYNC_NAME)
    assert state is not None and state.last_error_at == NOW and code in (state.last_error or "")


def test_failure_on_a_later_run_keeps_the_earlier_queue(
    session: Session, sandbox: NetvisorSandbox
) -> None:
    sync_unsent(session, sandbox.client(), NOW)
    before = {n: (i.status, i.last_synced_at) for n, i in invoices(session).items()}
    sandbox.state.set_status([1002], "open")
    sandbox.state.malformed_next("getsalesinvoice")

    result = sync_unsent(session, sandbox.client(max_attempts=1), NOW + timedelta(minutes=5))

    assert not result.ok and "luke" in (result.error or "")
    assert {n: (i.status, i.last_synced_at) for n, i in invoices(session).items()} == before
    # The next good run recovers and clears the error.
    assert sync_unsent(session, sandbox.client(), NOW + timedelta(minutes=10)).left == 1
    state = session.get(SyncState, SYNC_NAME)
    assert state is not None and state.last_error is None


def test_timeout_is_a_clear_error(session: Session, sandbox: NetvisorSandbox) -> None:
    sandbox.state.delay_next("salesinvoicelist", 2.0)
    client = sandbox.client(max_attempts=1, timeout=0.3)

    result = sync_unsent(session, client, NOW)

    assert not result.ok and "ajoissa" in (result.error or "")
    assert count(session, Invoice) == 0


def test_two_syncs_at_once_store_each_invoice_once(
    committed_url: str, sandbox: NetvisorSandbox
) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        session = Session(new_session().get_bind(), expire_on_commit=False)
        try:
            barrier.wait(timeout=10)
            assert sync_unsent(session, sandbox.client(), NOW).ok
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            session.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    with Session(new_session().get_bind()) as check:
        assert count(check, Invoice) == DEMO_UNSENT
        seen = check.exec(
            select(func.count()).select_from(InvoiceEvent).where(InvoiceEvent.kind == "seen")
        ).one()
        assert seen == DEMO_UNSENT


def failed_checks(invoice: Invoice) -> dict[str, str]:
    return {c["name"]: c["reason"] for c in invoice.failed_checks}


def test_a_deleted_customer_marks_its_invoice_and_the_rest_go_on(
    session: Session, sandbox: NetvisorSandbox
) -> None:
    ensure_demo_users(session)
    # Invoice 1005120007's customer was deleted from the register: getcustomer.nv answers
    # FAILED / INVALID_DATA for it, as Netvisor documents.
    result = sync_unsent(session, sandbox.client(), NOW)

    assert result.ok and (result.new, result.failed) == (DEMO_UNSENT, 1)
    rows = invoices(session)
    assert {number for number, row in rows.items() if row.sync_error} == {"1005120007"}
    orphan = rows["1005120007"]
    message = "INVALID_DATA: Virheellinen tieto: asiakasta ei löydy Netvisor-tunnisteella 511"
    assert orphan.sync_error == message
    assert failed_checks(orphan)["netvisor_data"] == (
        f"Netvisor ei antanut kaikkia laskun tietoja: {message}"
    )
    assert orphan.customer_name == "Tmi Kaarina Salo"  # the invoice's own copy
    assert rows["1002330012"].checks_ok and not rows["1002330012"].sync_error
    state = session.get(SyncState, SYNC_NAME)
    assert state is not None and state.last_error is None and state.last_counts["failed"] == 1

    # Once Netvisor gives the customer again, the mark goes.
    sandbox.state.add_customer(deleted_customer())
    assert sync_unsent(session, sandbox.client(), NOW + timedelta(minutes=5)).failed == 0
    session.refresh(orphan)
    assert orphan.sync_error == "" and "netvisor_data" not in failed_checks(orphan)
    assert orphan.email == "kaarina.salo@example.fi"


def test_a_customer_refused_once_marks_each_of_its_invoices(
    session: Session, sandbox: NetvisorSandbox
) -> None:
    ensure_demo_users(session)
    # The first customer asked for (501, of three invoices) is refused as well.
    sandbox.state.fail_next("getcustomer", "INVALID_DATA", "Asiakas 501 on lukittu")

    result = sync_unsent(session, sandbox.client(), NOW)

    assert result.ok and result.failed == 3 + 1
    rows = invoices(session)
    marked = {number for number, row in rows.items() if row.sync_error}
    assert marked == {"1001020007", "1005120006", "1001020009", "1005120007"}
    assert rows["1001020007"].sync_error == "INVALID_DATA: Asiakas 501 on lukittu"
    assert rows["1001020007"].customer_name == "Rakennus Virtanen & Poika Oy"


def test_an_invoice_netvisor_will_not_give_is_queued_from_its_list_row(
    session: Session, sandbox: NetvisorSandbox
) -> None:
    ensure_demo_users(session)
    # The batch of details fails, then the first invoice asked for alone.
    sandbox.state.fail_next("getsalesinvoice", "INVALID_DATA", "Laskua ei voi lukea", times=2)

    result = sync_unsent(session, sandbox.client(max_attempts=1), NOW)

    assert result.ok and (result.new, result.failed) == (DEMO_UNSENT, 1 + 1)
    assert sandbox.state.request_count("getsalesinvoice") == 2 + DEMO_UNSENT - 1
    rows = invoices(session)
    unreadable = rows["1001020007"]
    assert unreadable.sync_error == "INVALID_DATA: Laskua ei voi lukea"
    assert unreadable.status == InvoiceStatus.unsent and unreadable.rows == []
    assert (unreadable.reference, unreadable.gross_sum) == ("10010200071", Decimal("765.55"))
    assert unreadable.customer_name == "Rakennus Virtanen & Poika Oy"
    assert "netvisor_data" in failed_checks(unreadable)
    assert sum(1 for row in rows.values() if row.sync_error) == 1 + 1  # + the deleted customer

    # Read whole on the next run: the same row, now complete.
    sync_unsent(session, sandbox.client(), NOW + timedelta(minutes=5))
    session.refresh(unreadable)
    assert unreadable.sync_error == "" and len(unreadable.rows) == 2
    assert count(session, Invoice) == DEMO_UNSENT


def test_an_einvoice_the_finvoice_writer_would_refuse_fails_a_check_before_dispatch(
    session: Session, sandbox: NetvisorSandbox
) -> None:
    ensure_demo_users(session)
    moved = SandboxCustomer(
        601,
        "A601",
        "Kuljetus Lahtinen Oy",
        "",  # no street address: Finvoice needs one (2 to 35 characters)
        "15100",
        "Lahti",
        business_id="2219870-8",
        finvoice_address="003722198708",
        finvoice_router_code="003721291126",
    )
    added = sandbox.state.add_invoice(
        etunnus_number="100102",
        customer=moved,
        delivery_method="Verkkolasku",
        rows=[SandboxRow("Kuljetus", Decimal(1), Decimal("80.00"), Decimal("25.5"))],
    )

    sync_unsent(session, sandbox.client(), NOW)

    rows = invoices(session)
    refused = failed_checks(rows[added.invoice_number])
    assert set(refused) == {"einvoice_message"}  # no other check knows Finvoice's needs
    assert refused["einvoice_message"].startswith("Verkkolaskua ei voi muodostaa: ")
    assert "katuosoite" in refused["einvoice_message"]
    clean = next(c for c in rows["1002330012"].checks if c["name"] == "einvoice_message")
    assert clean["ok"], clean


def test_refreshing_one_invoice_marks_it_when_its_customer_is_gone(
    session: Session, sandbox: NetvisorSandbox
) -> None:
    # What Korjattava's resolve does: re-read one invoice, then write in a unit of work.
    ensure_demo_users(session)
    sync_unsent(session, sandbox.client(), NOW)
    invoice = invoices(session)["1001020008"]
    sandbox.state.delete_customer(504)

    fetched = fetch_invoice(sandbox.client(), invoice)
    with transaction(session):
        assert refresh_invoice(session, invoice, fetched, NOW + timedelta(minutes=5))

    assert fetched.customer is None and "Netvisor-tunnisteella 504" in fetched.customer_error
    assert invoice.sync_error == fetched.customer_error
    assert "netvisor_data" in failed_checks(invoice)
    assert len(invoice.netvisor_history) == 1  # read with showprocesshistory=1
