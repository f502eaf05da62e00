"""The sync against the Netvisor sandbox as a real HTTP server: idempotent, all or nothing."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, func, select

from helpdesk.db import new_session
from plugins.invoices.models import Invoice, InvoiceEvent, InvoiceStatus, SyncState
from plugins.invoices.sandboxes.demo import ensure_demo_users
from plugins.invoices.sandboxes.netvisor.data import DEMO_PROBLEMS, SandboxRow
from plugins.invoices.sandboxes.netvisor.server import SandboxServer
from plugins.invoices.sync import SYNC_NAME, sync_unsent

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
}


def invoices(session: Session) -> dict[str, Invoice]:
    return {i.number: i for i in session.exec(select(Invoice))}


def count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_sync_twice_gives_the_same_rows(session: Session, sandbox: SandboxServer) -> None:
    ensure_demo_users(session)
    first = sync_unsent(session, sandbox.client(), NOW)
    rows = invoices(session)
    events = count(session, InvoiceEvent)
    second = sync_unsent(session, sandbox.client(), NOW + timedelta(minutes=5))

    assert first.ok and second.ok
    assert (first.new, second.new, second.updated, second.left) == (12, 0, 0, 0)
    assert set(rows) == {i.invoice_number for i in sandbox.state.unsent_invoices()}
    assert count(session, Invoice) == 12
    assert count(session, InvoiceEvent) == events == 12  # one "seen" each, nothing since
    again = invoices(session)
    for number, row in rows.items():
        assert again[number].id == row.id
        assert again[number].first_seen_at == NOW
        assert again[number].deadline_at == datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
        assert again[number].last_synced_at == NOW + timedelta(minutes=5)


def test_netvisor_is_asked_with_no_transaction_open(
    session: Session, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
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


def test_sync_stores_the_details(session: Session, sandbox: SandboxServer) -> None:
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
    email = rows["1001020008"]
    assert email.delivery_method == "email" and email.email == "liisa.laaksonen@example.com"
    einvoice = rows["1002330012"]
    assert einvoice.delivery_method == "einvoice"
    assert (einvoice.einvoice_address, einvoice.einvoice_operator) == (
        "003718765431",
        "003721291126",
    )
    assert rows["1005120005"].delivery_method == "email"  # "Email" is recognised too
    state = session.get(SyncState, SYNC_NAME)
    assert state is not None and state.last_success_at == NOW and state.last_error is None


def test_every_planted_problem_fails_its_check_and_clean_ones_pass(
    session: Session, sandbox: SandboxServer
) -> None:
    ensure_demo_users(session)
    sync_unsent(session, sandbox.client(), NOW)
    rows = invoices(session)

    assert set(EXPECTED_FAILURE) == set(DEMO_PROBLEMS)
    for number, check in EXPECTED_FAILURE.items():
        failed = {c["name"]: c["reason"] for c in rows[number].checks if not c["ok"]}
        assert check in failed, (number, failed)
        assert not rows[number].checks_ok
    for number in ("1001020007", "1001020008", "1002330012", "1002330013"):
        assert rows[number].checks_ok, rows[number].failed_checks
        assert len(rows[number].checks) == 9
    duplicate = next(c for c in rows["1001020009"].checks if c["name"] == "duplicate")
    assert "1001020007" in duplicate["reason"]


def test_unknown_user_passes_once_the_user_exists(session: Session, sandbox: SandboxServer) -> None:
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
    session: Session, sandbox: SandboxServer
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
    session: Session, sandbox: SandboxServer
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
        ("getsalesinvoice", "INVALID_DATA"),
        ("getcustomer", "SERVICE_ACCESS_ERROR"),
    ],
)
def test_netvisor_failure_writes_nothing_and_says_why(
    session: Session, sandbox: SandboxServer, resource: str, code: str
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
    session: Session, sandbox: SandboxServer
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


def test_timeout_is_a_clear_error(session: Session, sandbox: SandboxServer) -> None:
    sandbox.state.delay_next("salesinvoicelist", 2.0)
    client = sandbox.client(max_attempts=1, timeout=0.3)

    result = sync_unsent(session, client, NOW)

    assert not result.ok and "ajoissa" in (result.error or "")
    assert count(session, Invoice) == 0


def test_two_syncs_at_once_store_each_invoice_once(
    committed_url: str, sandbox: SandboxServer
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
        assert count(check, Invoice) == 12
        seen = check.exec(
            select(func.count()).select_from(InvoiceEvent).where(InvoiceEvent.kind == "seen")
        ).one()
        assert seen == 12
