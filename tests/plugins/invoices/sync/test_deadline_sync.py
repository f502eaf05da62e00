"""The same-day deadline as the sync stores it: weekends, holidays, DST, the 15:00 boundary."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from netvisor_sandbox import NetvisorSandbox, serve_netvisor
from sqlmodel import Session, select

from plugins.invoices.models import Invoice
from plugins.invoices.sandboxes.netvisor.data import SandboxCustomer, SandboxRow
from plugins.invoices.sandboxes.netvisor.state import SandboxState
from plugins.invoices.settings import invoice_settings
from plugins.invoices.sync import sync_unsent

HELSINKI = ZoneInfo("Europe/Helsinki")


def helsinki(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=HELSINKI)


@pytest.fixture
def empty_sandbox() -> Iterator[NetvisorSandbox]:
    customer = SandboxCustomer(601, "A601", "Testi Oy", "Katu 1", "00100", "Helsinki")
    with serve_netvisor(SandboxState(customers=[customer], invoices=[], demo=False)) as server:
        yield server


def first_seen(session: Session, sandbox: NetvisorSandbox, seen: datetime) -> Invoice:
    """Add one invoice to Netvisor, sync at ``seen`` and return the stored row."""
    added = sandbox.state.add_invoice(
        etunnus_number="100102",
        customer=601,
        delivery_method="Posti",
        rows=[SandboxRow("Työ", Decimal(1), Decimal("10.00"), Decimal("25.5"))],
    )
    assert sync_unsent(session, sandbox.client(), seen.astimezone(UTC)).ok
    return session.exec(select(Invoice).where(Invoice.number == added.invoice_number)).one()


@pytest.mark.parametrize(
    ("seen", "due"),
    [
        # Friday after the cutoff -> Monday 15:00.
        ("2026-11-27 16:00", "2026-11-30 15:00"),
        # 15:00:00 exactly is still in time; one second later is not.
        ("2026-11-26 15:00:00", "2026-11-26 15:00"),
        ("2026-11-26 15:00:01", "2026-11-27 15:00"),
        # Juhannusaatto (Midsummer Eve, Fri 19.6.2026) is closed -> Monday 22.6.
        ("2026-06-19 10:00", "2026-06-22 15:00"),
        # The day before it (Thursday) after the cutoff -> also Monday.
        ("2026-06-18 15:30", "2026-06-22 15:00"),
        # Christmas: Thu 24.12. (Jouluaatto), Fri 25.12., Sat, Sun -> Monday 28.12.
        ("2026-12-23 15:01", "2026-12-28 15:00"),
        # DST starts Sun 29.3.2026: seen Sunday -> Monday 15:00 EEST (12:00 UTC).
        ("2026-03-29 03:30", "2026-03-30 15:00"),
        # DST ends Sun 25.10.2026: seen Friday evening -> Monday 15:00 EET (13:00 UTC).
        ("2026-10-23 18:00", "2026-10-26 15:00"),
    ],
)
def test_deadline_stored_on_first_sight(
    session: Session, empty_sandbox: NetvisorSandbox, seen: str, due: str
) -> None:
    row = first_seen(session, empty_sandbox, helsinki(seen))

    assert row.deadline_at == helsinki(due).astimezone(UTC)
    assert row.deadline_at.astimezone(HELSINKI).strftime("%H:%M") == "15:00"


def test_dst_deadlines_in_utc(session: Session, empty_sandbox: NetvisorSandbox) -> None:
    spring = first_seen(session, empty_sandbox, helsinki("2026-03-29 12:00"))
    autumn = first_seen(session, empty_sandbox, helsinki("2026-10-24 12:00"))

    assert spring.deadline_at == datetime(2026, 3, 30, 12, 0, tzinfo=UTC)
    assert autumn.deadline_at == datetime(2026, 10, 26, 13, 0, tzinfo=UTC)


def test_deadline_is_set_once_and_includes_the_margin(
    session: Session, empty_sandbox: NetvisorSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(invoice_settings(), "processing_margin_minutes", 30)
    row = first_seen(session, empty_sandbox, helsinki("2026-11-26 09:00"))
    assert row.deadline_at == helsinki("2026-11-26 15:30").astimezone(UTC)

    # A later sync (even after the cutoff) never moves it.
    assert sync_unsent(session, empty_sandbox.client(), helsinki("2026-11-26 16:00")).ok
    session.refresh(row)
    assert row.deadline_at == helsinki("2026-11-26 15:30").astimezone(UTC)
    assert row.first_seen_at == helsinki("2026-11-26 09:00").astimezone(UTC)
