"""Search (incl. the team's ``100102%`` habit, with LIKE characters taken literally) and the API."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from netvisor_sandbox import NetvisorSandbox
from sqlmodel import Session
from webclient import Client

from helpdesk.references import format_reference, to_rf
from plugins.invoices.sandboxes.demo import ensure_demo_users
from plugins.invoices.sandboxes.netvisor.data import SandboxCustomer, SandboxRow
from plugins.invoices.search import escape_like, parse_amount, search_invoices
from plugins.invoices.sync import sync_unsent

NOW = datetime(2026, 11, 26, 8, 30, tzinfo=UTC)


@pytest.fixture
def synced(session: Session, sandbox: NetvisorSandbox) -> NetvisorSandbox:
    """The demo invoices plus two customers whose names hold LIKE's special characters."""
    ensure_demo_users(session)
    for key, name in ((701, "Ale 50% Oy"), (702, "Tmi_Testi")):
        sandbox.state.add_invoice(
            etunnus_number="100689",
            customer=SandboxCustomer(key, f"A{key}", name, "Katu 1", "00100", "Helsinki"),
            delivery_method="Posti",
            rows=[SandboxRow("Työ", Decimal(1), Decimal("10.00"), Decimal("25.5"))],
        )
    assert sync_unsent(session, sandbox.client(), NOW).ok
    return sandbox


def numbers(session: Session, q: str, **filters: str) -> set[str]:
    return {i.number for i in search_invoices(session, q=q, **filters)}


def test_prefix_search_lists_all_invoices_of_a_user(
    session: Session, synced: NetvisorSandbox
) -> None:
    assert numbers(session, "100102%") == {"1001020007", "1001020008", "1001020009"}
    assert numbers(session, "100102") == {"1001020007", "1001020008", "1001020009"}
    assert numbers(session, "1001020%") == {"1001020007", "1001020008", "1001020009"}
    assert numbers(session, "100689%") == {"1006890001", "1006890002"}


def test_like_characters_in_input_are_literal(session: Session, synced: NetvisorSandbox) -> None:
    # As wildcards these would match 1001020007 and the rest.
    assert numbers(session, "1_01") == set()
    assert numbers(session, "0%1") == set()
    assert numbers(session, "10_102%") == set()
    # Literally, they find the names that contain them.
    assert numbers(session, "50% oy") == {"1006890001"}
    assert numbers(session, "i_t") == {"1006890002"}
    assert numbers(session, "_") == {"1006890002"}
    assert numbers(session, "\\") == set()
    assert escape_like("a%b_c\\") == "a\\%b\\_c\\\\"


def test_search_by_number_reference_name_and_sum(session: Session, synced: NetvisorSandbox) -> None:
    assert numbers(session, "1002330012") == {"1002330012"}
    assert numbers(session, "00233001") == {"1002330012", "1002330013", "1002330014"}  # a part
    real = next(i for i in search_invoices(session, q="1002330012")).reference
    assert numbers(session, real) == {"1002330012"}
    assert numbers(session, format_reference(real)) == {"1002330012"}  # with spaces
    assert numbers(session, to_rf(real)) == {"1002330012"}  # RF form
    assert numbers(session, "kultainen kuppi") == {"1002330013"}
    assert numbers(session, "ÄIJÄLÄ") == {"1002330012"}  # case-insensitive, also on SQLite
    # Typed without ä and ö, as on a foreign keyboard or a phone.
    assert numbers(session, "aijala") == {"1002330012"}
    assert numbers(session, "Aijala%") == numbers(session, "Äijälä%") != set()
    assert numbers(session, "765,55") == {"1001020007", "1001020009"}
    assert numbers(session, "765.55") == {"1001020007", "1001020009"}
    assert parse_amount("1 244,5 €") == Decimal("1244.5")
    assert parse_amount("12.3.2026") is None


def test_filters_by_status_and_user(session: Session, synced: NetvisorSandbox) -> None:
    assert numbers(session, "", user="100233") == {"1002330012", "1002330013", "1002330014"}
    assert numbers(session, "", status="left_netvisor") == set()
    assert len(numbers(session, "", status="unsent")) == 18


def test_api_list_and_detail(logged_in: Client, session: Session, synced: NetvisorSandbox) -> None:
    listed = logged_in.get("/api/v1/invoices", params={"q": "100102%"})
    assert listed.status_code == 200
    body = listed.json()
    assert body["count"] == 3
    item = next(i for i in body["items"] if i["number"] == "1001020009")
    assert item["user"] == "100102"
    assert item["sum"] == "765.55"
    assert item["delivery_method"] == "post"
    assert item["status"] == "unsent"
    assert datetime.fromisoformat(item["deadline"]) == datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
    assert isinstance(item["netvisor_key"], int) and item["reference"] == "10010200097"
    duplicate = next(c for c in item["checks"] if c["name"] == "duplicate")
    assert duplicate == {"name": "duplicate", "ok": False, "reason": duplicate["reason"]}
    assert "tuplalasku" in duplicate["reason"]

    detail = logged_in.get(f"/api/v1/invoices/{item['id']}").json()
    assert detail["customer_name"] == "Rakennus Virtanen & Poika Oy"
    assert detail["rows"][0]["name"] == "Työmaan valokuvaus"
    assert [h["kind"] for h in detail["history"]] == ["seen"]
    assert detail["email"] == "laskut.rakennusvirtanen@example.fi"

    by_user = logged_in.get("/api/v1/invoices", params={"user": "100233", "status": "unsent"})
    assert {i["number"] for i in by_user.json()["items"]} == {
        "1002330012",
        "1002330013",
        "1002330014",
    }
    assert logged_in.get("/api/v1/invoices/999999").status_code == 404


def test_api_needs_login(client: Client) -> None:
    assert client.get("/api/v1/invoices").status_code == 401


def test_every_check_is_in_the_api(
    logged_in: Client, session: Session, synced: NetvisorSandbox
) -> None:
    items = logged_in.get("/api/v1/invoices", params={"status": "unsent"}).json()["items"]
    failed = {(i["number"], c["name"]) for i in items for c in i["checks"] if not c["ok"]}
    for expected in [
        ("1003450003", "reference"),
        ("1003450004", "delivery_data"),
        ("1004780021", "delivery_data"),
        ("1004780022", "delivery_data"),
        ("1005120005", "vat_rates"),
        ("1005120006", "sums"),
        ("1001020009", "duplicate"),
        ("9999010001", "etunnus_prefix"),
    ]:
        assert expected in failed
