"""The plugin in the rest of the product: linker, ticket sidebar, user page, jobs, CLI, demo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import factories
import pytest
from netvisor_sandbox import NetvisorSandbox
from sqlmodel import Session, select
from starlette.requests import Request
from typer.testing import CliRunner
from webclient import Client

from helpdesk.models import EtunnusUser, Message, TicketLink
from helpdesk.plugins import collect, get_plugin_manager, hook
from helpdesk.references import format_reference, to_rf
from plugins.invoices.jobs import JOB_NAME, sync_due
from plugins.invoices.models import Invoice
from plugins.invoices.sandboxes.demo import seed
from plugins.invoices.sandboxes.netvisor.data import DEMO_USERS
from plugins.invoices.settings import maventa_settings, netvisor_settings
from plugins.invoices.sync import sync_unsent

HELSINKI = ZoneInfo("Europe/Helsinki")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=HELSINKI).astimezone(UTC)


@pytest.fixture
def synced(session: Session, netvisor_env: NetvisorSandbox) -> NetvisorSandbox:
    seed(session)  # the demo hook: users, then a sync from the (reachable) sandbox
    return netvisor_env


def invoice(session: Session, number: str) -> Invoice:
    return session.exec(select(Invoice).where(Invoice.number == number)).one()


def links(session: Session, text: str) -> list[tuple[str, str, str | None]]:
    found = collect(hook().helpdesk_link_text(session=session, text=text))
    return [(f.label, f.found_text, f.etunnus) for f in found if f.kind == "invoice"]


def test_linker_finds_numbers_and_references(session: Session, synced: NetvisorSandbox) -> None:
    first = invoice(session, "1001020007")
    ref = invoice(session, "1002330012").reference

    assert links(session, "Hei, laskuni 1001020007 ei ole lähtenyt.") == [
        ("Lasku 1001020007", "1001020007", "100102")
    ]
    assert links(session, f"Viite {format_reference(ref)}, kiitos") == [
        ("Lasku 1002330012", ref, "100233")
    ]
    assert [label for label, *_ in links(session, f"RF-viite {to_rf(ref)}")] == ["Lasku 1002330012"]
    found = collect(hook().helpdesk_link_text(session=session, text="lasku 1001020007"))
    assert found[0].target == str(first.id) and found[0].url == f"/invoices/{first.id}"
    # A wrong check digit, an unknown invoice and a stray number link nothing.
    assert links(session, "viite 10023300121") == []
    assert links(session, "lasku 1001029999 ja puhelin 0401234567") == []


def test_ticket_sidebar_shows_linked_invoices(
    logged_in: Client, session: Session, synced: NetvisorSandbox
) -> None:
    ticket = factories.ticket(session)
    plain = logged_in.get(f"/tickets/{ticket.id}").text
    assert 'data-testid="ticket-invoices"' not in plain

    problem = invoice(session, "1004780021")
    session.add(TicketLink(ticket_id=ticket.id or 0, kind="invoice", target=str(problem.id)))
    session.commit()
    page = logged_in.get(f"/tickets/{ticket.id}").text

    sidebar = page[page.index('data-testid="ticket-invoices"') :]
    assert "1004780021" in sidebar and "Lähettämätön" in sidebar
    assert "Postinumero 3310 ei ole viisinumeroinen." in sidebar
    assert "Määräaika" in sidebar


def test_user_page_slot_lists_the_users_invoices(
    logged_in: Client, session: Session, synced: NetvisorSandbox
) -> None:
    user = session.exec(select(EtunnusUser).where(EtunnusUser.etunnus == "100102")).one()
    request = Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/users/100102",
            "headers": [],
            "query_string": b"",
            "session": {},
            "scheme": "http",
            "server": ("testserver", 80),
        }
    )
    agent = factories.agent(session)
    slots = [
        s
        for s in hook().helpdesk_user_page(request=request, session=session, user=user, agent=agent)
        if s
    ]
    html = "".join(str(s) for s in slots)

    assert 'data-testid="user-invoices"' in html
    for number in ("1001020007", "1001020008", "1001020009"):
        assert number in html
    assert "1002330012" not in html
    assert "/invoices?q=100102%25" in html


def test_scheduled_job_is_registered() -> None:
    jobs = collect(hook().helpdesk_scheduled_jobs())
    assert [j.name for j in jobs if j.name == JOB_NAME] == [JOB_NAME]


@pytest.mark.parametrize(
    ("now", "last", "due"),
    [
        ("2026-11-26 09:59", None, False),  # before opening
        ("2026-11-26 10:00", None, True),
        ("2026-11-26 10:04", "2026-11-26 10:00", False),
        ("2026-11-26 10:05", "2026-11-26 10:00", True),
        ("2026-11-26 14:59", "2026-11-26 14:57", False),
        ("2026-11-26 15:00", "2026-11-26 14:59", True),  # the last check, on the dot
        ("2026-11-26 15:00", "2026-11-26 15:00", False),
        ("2026-11-26 15:30", "2026-11-26 15:00", False),  # done for the day
        ("2026-11-26 18:00", "2026-11-26 14:58", True),  # worker was down at 15:00
        ("2026-11-28 15:10", "2026-11-27 15:00", False),  # Saturday
        ("2026-06-19 15:10", "2026-06-18 15:00", False),  # Juhannusaatto
    ],
)
def test_sync_due(now: str, last: str | None, due: bool) -> None:
    assert sync_due(at(now), at(last) if last else None) is due


def test_cli_sync(session: Session, netvisor_env: NetvisorSandbox) -> None:
    from helpdesk.cli import app

    result = CliRunner().invoke(app, ["invoices", "sync"])
    assert result.exit_code == 0, result.output
    assert '"new": 16' in result.output

    netvisor_env.state.fail_next("salesinvoicelist", "AUTHENTICATION_FAILED", "Väärä avain")
    failed = CliRunner().invoke(app, ["invoices", "sync"])
    assert failed.exit_code == 1 and "Väärä avain" in failed.output


def test_make_run_starts_the_sandboxes_in_development(monkeypatch: pytest.MonkeyPatch) -> None:
    from helpdesk.cli import app, devserver
    from helpdesk.settings import get_settings

    assert "netvisor-sandbox" in [c.name for c in app.registered_commands]
    core = [s.name for s in devserver.CORE_SERVICES]
    # The test environment is not development: nothing of the plugin's to start.
    assert [s.name for s in devserver.background()] == core

    monkeypatch.setattr(get_settings(), "environment", "development")
    for name in ("HELPDESK_NETVISOR_URL", "HELPDESK_MAVENTA_URL"):
        monkeypatch.setenv(name, "")  # restored after the test
        monkeypatch.delenv(name)
    # Unset URLs: each sandbox on a port chosen free at start.
    assert [s.args for s in devserver.background()] == [
        *(s.args for s in devserver.CORE_SERVICES),
        ("netvisor-sandbox", "--port", "0", "--sync"),
        ("maventa-sandbox", "--port", "0"),
    ]
    services, env = devserver.plan(devserver.background())
    port = {s.name: devserver.port_of(s) for s in services}
    assert port["netvisor-sandbox"] != port["maventa-sandbox"]
    assert env["HELPDESK_NETVISOR_URL"] == f"http://127.0.0.1:{port['netvisor-sandbox']}"
    assert env["HELPDESK_MAVENTA_URL"] == f"http://127.0.0.1:{port['maventa-sandbox']}"
    # What the web app and the worker then see: the sandboxes on those ports.
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert netvisor_settings().url == env["HELPDESK_NETVISOR_URL"]
    maventa = maventa_settings()
    assert maventa.configured and maventa.url == env["HELPDESK_MAVENTA_URL"]
    # A URL given on this machine: that port; a URL elsewhere: no sandbox.
    monkeypatch.setenv("HELPDESK_NETVISOR_URL", "http://localhost:9123")
    monkeypatch.setenv("HELPDESK_MAVENTA_URL", "https://ax.maventa.com")
    assert [s.args for s in devserver.background()][len(devserver.CORE_SERVICES) :] == [
        ("netvisor-sandbox", "--port", "9123", "--sync")
    ]


def test_the_sandboxes_are_a_development_plugin_of_their_own() -> None:
    pm = get_plugin_manager()
    sandboxes = pm.get_plugin("invoices-sandboxes")
    assert sandboxes is not None and sandboxes.__name__ == "plugins.invoices.sandboxes.hooks"
    # The invoice plugin itself has no development hooks: it never imports the sandboxes.
    assert not hasattr(pm.get_plugin("invoices"), "helpdesk_demo_data")
    assert not hasattr(pm.get_plugin("invoices"), "helpdesk_dev_services")


def test_demo_creates_the_sandbox_users_and_survives_a_silent_sandbox(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELPDESK_NETVISOR_URL", "http://127.0.0.1:9")  # nothing listens
    seed(session)
    seed(session)

    numbers = {u.etunnus for u in session.exec(select(EtunnusUser))}
    assert {u.number for u in DEMO_USERS} <= numbers
    assert session.exec(select(Invoice)).first() is None


def test_demo_syncs_from_a_running_sandbox(session: Session, synced: NetvisorSandbox) -> None:
    assert len(session.exec(select(Invoice)).all()) == 16
    assert sync_unsent(session, synced.client(), datetime.now(UTC) + timedelta(1)).new == 0


def test_korjattava_from_the_ticket_sidebar_stays_in_the_sidebar(
    logged_in: Client, session: Session, synced: NetvisorSandbox
) -> None:
    ticket = factories.ticket(session, mailbox=factories.mailbox(session))
    problem = invoice(session, "1004780021")
    session.add(TicketLink(ticket_id=ticket.id or 0, kind="invoice", target=str(problem.id)))
    session.commit()
    page = logged_in.get(f"/tickets/{ticket.id}").text
    sidebar = page[page.index('data-testid="ticket-invoices"') :]
    # The sidebar offers Korjattava, and its form answers with the sidebar's compact panel.
    assert 'data-testid="korjattava-open"' in sidebar
    assert f'hx-post="/invoices/{problem.id}/korjattava?compact=1&amp;ticket=1"' in sidebar

    answer = logged_in.form(
        f"/invoices/{problem.id}/korjattava?compact=1&ticket=1",
        {"checks": "delivery_data", "message": "Tarkistatko asiakkaan postinumeron?"},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200, answer.text
    session.refresh(problem)
    assert problem.status == "korjattava"
    assert 'data-testid="resolve-button"' in answer.text
    assert 'data-testid="actions-status"' not in answer.text  # still the compact panel
    # The question went out in this very ticket.
    texts = [m.text for m in session.exec(select(Message).where(Message.ticket_id == ticket.id))]
    assert any("Tarkistatko asiakkaan postinumeron?" in t for t in texts)


def test_merging_tickets_moves_the_korjattava_round_and_the_notice_ticket(
    session: Session, synced: NetvisorSandbox
) -> None:
    from helpdesk.services import merging
    from plugins.invoices.models import Correction, Dispatch

    agent = factories.agent(session)
    target, source = factories.ticket(session), factories.ticket(session)
    bill = invoice(session, "1001020007")
    session.add(Correction(invoice_id=bill.id, ticket_id=source.id))
    session.add(
        Dispatch(invoice_id=bill.id, method="email", mode="email", notice_ticket_id=source.id)
    )
    session.commit()

    merging.merge_tickets(session, target_id=target.id, source_ids=[source.id], agent=agent)

    correction = session.exec(select(Correction).where(Correction.invoice_id == bill.id)).one()
    dispatch = session.exec(select(Dispatch).where(Dispatch.invoice_id == bill.id)).one()
    assert correction.ticket_id == target.id
    assert dispatch.notice_ticket_id == target.id
