"""The invoice pages: queue, alert, search, end of day, invoice page, PDF, Sync now."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from netvisor_sandbox import NetvisorSandbox
from sqlmodel import Session, col, select
from webclient import Client

from plugins.invoices.models import QUEUE_STATUSES, Invoice
from plugins.invoices.sandboxes.demo import ensure_demo_users
from plugins.invoices.sync import sync_unsent

HELSINKI = ZoneInfo("Europe/Helsinki")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=HELSINKI).astimezone(UTC)


@pytest.fixture
def synced(session: Session, netvisor_env: NetvisorSandbox) -> NetvisorSandbox:
    ensure_demo_users(session)
    assert sync_unsent(session, netvisor_env.client(), at("2026-11-26 10:30")).ok
    return netvisor_env


def freeze(monkeypatch: pytest.MonkeyPatch, when: datetime) -> None:
    for module in ("pages", "slots", "notice"):
        monkeypatch.setattr(f"plugins.invoices.web.{module}.utcnow", lambda: when)


def by_number(session: Session, number: str) -> Invoice:
    return session.exec(select(Invoice).where(Invoice.number == number)).one()


def test_pages_need_login(client: Client) -> None:
    for url in ("/invoices", "/invoices/end-of-day", "/invoices/1", "/invoices/1/pdf"):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303 and "/login" in response.headers["location"]


def test_queue_lists_by_deadline_with_time_left_and_failed_checks(
    logged_in: Client, session: Session, synced: NetvisorSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An invoice seen later today is due tomorrow; put an overdue one first.
    late = by_number(session, "1002330013")
    late.deadline_at = at("2026-11-25 15:00")
    session.add(late)
    session.commit()
    freeze(monkeypatch, at("2026-11-26 13:00"))

    page = logged_in.get("/invoices").text

    assert "Lähettämättömät laskut" in page and ">Laskut</a>" in page  # heading, navigation
    order = [page.index(n) for n in ("1002330013", "1001020007")]
    assert order == sorted(order)
    overdue_row = page[page.rindex("<tr", 0, page.index("1002330013")) :]
    assert overdue_row.startswith('<tr class="overdue"')
    assert "myöhässä 22 h 00 min" in page
    assert "2 h 00 min" in page  # today's at 15:00
    assert "Posti" in page and "Sähköposti" in page and "Verkkolasku" in page
    assert "Viitenumeron 10034500030 tarkiste on väärä." in page
    assert "Postinumero 3310 ei ole viisinumeroinen." in page
    assert "Mahdollinen tuplalasku" in page
    assert "e-tunnus 999901 ei ole tunnettu käyttäjä" in page
    assert "invoice-alert" not in page  # 13:00 is before the alert window


def test_alert_from_1430_on_the_queue_and_every_page(
    logged_in: Client, synced: NetvisorSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze(monkeypatch, at("2026-11-26 14:29"))
    assert 'data-testid="invoice-alert"' not in logged_in.get("/tickets").text

    freeze(monkeypatch, at("2026-11-26 14:30"))
    queue = logged_in.get("/invoices").text
    inbox = logged_in.get("/tickets").text

    assert queue.count('data-testid="invoice-alert"') == 2  # banner + the small page notice
    assert "Tänään erääntyviä lähettämättömiä laskuja: 16" in queue
    assert 'class="invoice-alert compact"' in inbox

    freeze(monkeypatch, at("2026-11-26 15:01"))
    assert 'data-testid="invoice-alert"' not in logged_in.get("/tickets").text


def test_the_alert_links_to_exactly_the_invoices_due_today(
    logged_in: Client, session: Session, synced: NetvisorSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = at("2026-11-26 14:30")
    freeze(monkeypatch, now)
    tomorrow = by_number(session, "1001020007")
    tomorrow.deadline_at = at("2026-11-27 15:00")
    session.add(tomorrow)
    session.commit()
    limit = at("2026-11-26 15:00")  # today's cutoff, no margin in the tests' settings
    waiting = session.exec(select(Invoice).where(col(Invoice.status).in_(QUEUE_STATUSES))).all()
    due = {i.id for i in waiting if i.deadline_at <= limit}
    assert 0 < len(due) < len(waiting)  # some are due tomorrow: the filter must drop them
    inbox = logged_in.get("/tickets").text
    assert 'href="/invoices?due=today"' in inbox

    page = logged_in.get("/invoices", params={"due": "today"}).text
    queue = page[page.index('class="tickets invoice-queue"') :]
    queue = queue[: queue.index("</table>")]
    listed = {int(n) for n in re.findall(r'data-invoice="(\d+)"', queue)}
    assert listed == due
    assert f"Lähdettävä tänään, vielä lähettämättä ({len(due)})" in page
    assert 'hx-get="/invoices?due=today"' in page  # the minute refresh keeps the filter
    everything = logged_in.get("/invoices").text
    assert len(re.findall(r'<tr class="[^"]*" data-invoice=', everything)) >= len(waiting)


def test_queue_fragment_for_htmx_refresh(logged_in: Client, synced: NetvisorSandbox) -> None:
    response = logged_in.get(
        "/invoices", headers={"HX-Request": "true", "HX-Target": "invoice-queue"}
    )
    assert response.text.lstrip().startswith('<div id="invoice-queue"')
    assert 'hx-trigger="every 60s"' in response.text
    assert "<html" not in response.text


def test_search_box(logged_in: Client, synced: NetvisorSandbox) -> None:
    page = logged_in.get("/invoices", params={"q": "100102%"}).text
    results = page[page.index('id="invoice-results"') : page.index('id="invoice-queue"')]
    assert all(n in results for n in ("1001020007", "1001020008", "1001020009"))
    assert "1002330012" not in results


def test_invoice_page_shows_details_checks_and_history(
    logged_in: Client, session: Session, synced: NetvisorSandbox
) -> None:
    invoice = by_number(session, "1004780022")
    page = logged_in.get(f"/invoices/{invoice.id}").text

    assert "Metsä-Pirkka Ky" in page and "Toimistosiivous, marraskuu" in page
    assert "välittäjätunnus puuttuu" in page
    assert 'data-check="delivery_data"' in page
    assert "Nähty ensimmäisen kerran Netvisorissa" in page
    assert f"/invoices/{invoice.id}/pdf" in page
    # Netvisor's own process history, line by line in its five parts.
    history = page[page.index('data-testid="netvisor-history"') :]
    history = history[: history.index("</table>")]
    assert "Netvisorin käsittelyhistoria" in page
    assert all(part in history for part in ("Myyntilasku", "E-tunnus", "Rajapinta", "Tallennettu"))


def page_and_detail(client: Client, session: Session, number: str) -> tuple[str, dict[str, Any]]:
    """The invoice's page and its API detail."""
    invoice = by_number(session, number)
    page = client.get(f"/invoices/{invoice.id}").text
    return page, client.get(f"/api/v1/invoices/{invoice.id}").json()


def test_a_foreign_recipient_shows_the_country_and_its_code(
    logged_in: Client, session: Session, synced: NetvisorSandbox
) -> None:
    page, detail = page_and_detail(logged_in, session, "1002330014")
    assert "Sweden (SE)" in page
    assert (detail["customer_country"], detail["customer_country_code"]) == ("Sweden", "SE")
    assert detail["netvisor_history"][0]["status"] == "Tallennettu"
    assert detail["sync_error"] == ""


def test_a_deleted_customer_is_a_failed_check_with_netvisors_words(
    logged_in: Client, session: Session, synced: NetvisorSandbox
) -> None:
    page, detail = page_and_detail(logged_in, session, "1005120007")
    assert 'data-check="netvisor_data"' in page
    assert "asiakasta ei löydy Netvisor-tunnisteella 511" in page
    assert detail["sync_error"].startswith("INVALID_DATA: ")
    # The queue shows it, and the e-invoice Finvoice would refuse, before anyone clicks.
    queue = logged_in.get("/invoices").text
    assert "<strong>Netvisorin tiedot</strong>: Netvisor ei antanut" in queue
    assert "<strong>Verkkolaskusanoma</strong>: Verkkolaskua ei voi muodostaa" in queue


def test_pdf_streams_from_netvisor(
    logged_in: Client, session: Session, synced: NetvisorSandbox
) -> None:
    invoice = by_number(session, "1002330012")
    response = logged_in.get(f"/invoices/{invoice.id}/pdf")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"] == 'inline; filename="lasku-1002330012.pdf"'
    assert response.content.startswith(b"%PDF") and b"LASKU 1002330012" in response.content


def test_sync_now_button(
    logged_in: Client, session: Session, netvisor_env: NetvisorSandbox
) -> None:
    assert logged_in.post("/invoices/sync").status_code == 403  # no CSRF token

    response = logged_in.form("/invoices/sync", {}, follow_redirects=False)

    assert response.status_code == 303  # type: ignore[attr-defined]
    assert len(session.exec(select(Invoice)).all()) == 16
    htmx = logged_in.post(
        "/invoices/sync", headers={"HX-Request": "true", "X-CSRF-Token": logged_in.csrf}
    )
    assert "Synkronoitu: 0 uutta" in htmx.text


def test_sync_error_is_shown(
    logged_in: Client, session: Session, netvisor_env: NetvisorSandbox
) -> None:
    netvisor_env.state.fail_next("salesinvoicelist", "AUTHENTICATION_FAILED", "Väärä avain")
    htmx = logged_in.post(
        "/invoices/sync", headers={"HX-Request": "true", "X-CSRF-Token": logged_in.csrf}
    )
    assert "Netvisor hylkäsi tunnistautumisen" in htmx.text and "Väärä avain" in htmx.text
    page = logged_in.get("/invoices").text
    assert "Viimeisin synkronointi epäonnistui" in page
    assert "sandbox-customer-key" not in page


def test_end_of_day(
    logged_in: Client, session: Session, synced: NetvisorSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = by_number(session, "1002330013")
    synced.state.set_status([sent.netvisor_key], "open")
    assert sync_unsent(session, synced.client(), at("2026-11-26 14:00")).left == 1
    freeze(monkeypatch, at("2026-11-26 15:30"))

    page = logged_in.get("/invoices/end-of-day", params={"day": "2026-11-26"}).text

    gone = page[page.index('data-testid="eod-gone"') :]
    waiting = page[page.index('data-testid="eod-waiting"') : page.index('data-testid="eod-gone"')]
    assert "1002330013" in gone and "1002330013" not in waiting
    assert "1001020007" in waiting
    assert "Ennen katkaisuaikaa saapuneita" in page
