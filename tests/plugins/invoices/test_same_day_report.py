"""The same-day promise report against hand-computed invoices, and the 14:30 banner.

The week of 2.-9.12.2024 (Helsinki, cutoff 15:00, no margin): Friday 6.12. is
Itsenäisyyspäivä and 7.-8.12. a weekend, so Monday 9.12. is due everything seen after
Thursday's cutoff.

| invoice | first seen           | due      | what happened                | outcome    |
| I1      | Mon 2.12. 09:00      | Mon 2.12 | left the queue Mon 14:00     | same day   |
| I2      | Mon 2.12. 15:00:00   | Mon 2.12 | left Mon 15:20               | late       |
| I3      | Mon 2.12. 15:01      | Tue 3.12 | left Tue 10:00               | same day   |
| I4      | Tue 3.12. 11:00      | Tue 3.12 | Korjattava Tue 13:00         | Korjattava |
| I8      | Wed 4.12. 10:00      | Wed 4.12 | left Wed 14:59               | same day   |
| I5      | Thu 5.12. 16:00      | Mon 9.12 | left Mon 11:00               | same day   |
| I6      | Fri 6.12. 10:00 (holiday) | Mon 9.12 | still unsent            | late (waiting before 15:00) |
| I7      | Sat 7.12. 12:00      | Mon 9.12 | left Tue 10.12. 09:00        | late (waiting before 15:00) |
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session
from webclient import Client

from helpdesk.plugin_api import ReportPeriod
from plugins.invoices.models import Correction, Invoice, InvoiceStatus
from plugins.invoices.reports import promise_day, promise_report
from plugins.invoices.rules.deadline import InvoiceDeadline

HKI = ZoneInfo("Europe/Helsinki")
RULES = InvoiceDeadline()
PERIOD = ReportPeriod(date(2024, 12, 2), date(2024, 12, 9))
AFTER = datetime(2024, 12, 10, 12, 0, tzinfo=HKI)


def hki(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2024, 12, day, hour, minute, second, tzinfo=HKI).astimezone(UTC)


def add_invoice(
    session: Session,
    n: int,
    seen: datetime,
    *,
    left: datetime | None = None,
    status: InvoiceStatus = InvoiceStatus.sent,
) -> Invoice:
    row = Invoice(
        netvisor_key=90_000 + n,
        number=f"10010200{n:02d}",
        customer_name=f"Asiakas {n}",
        first_seen_at=seen,
        deadline_at=RULES.deadline_for(seen),
        last_synced_at=seen,
        left_unsent_at=left,
        status=status if left or status != InvoiceStatus.sent else InvoiceStatus.unsent,
    )
    session.add(row)
    session.flush()
    return row


@pytest.fixture
def invoices(session: Session) -> dict[str, Invoice]:
    made = {
        "I1": add_invoice(session, 1, hki(2, 9), left=hki(2, 14)),
        "I2": add_invoice(session, 2, hki(2, 15), left=hki(2, 15, 20)),
        "I3": add_invoice(session, 3, hki(2, 15, 1), left=hki(3, 10)),
        "I4": add_invoice(session, 4, hki(3, 11), status=InvoiceStatus.korjattava),
        "I8": add_invoice(session, 8, hki(4, 10), left=hki(4, 14, 59)),
        "I5": add_invoice(session, 5, hki(5, 16), left=hki(9, 11)),
        "I6": add_invoice(session, 6, hki(6, 10), status=InvoiceStatus.unsent),
        "I7": add_invoice(session, 7, hki(7, 12), left=datetime(2024, 12, 10, 9, tzinfo=HKI)),
    }
    session.add(Correction(invoice_id=made["I4"].id or 0, marked_at=hki(3, 13), reasons=[]))
    session.commit()
    return made


def figures(report_days: list) -> list[tuple]:  # type: ignore[type-arg]
    return [
        (d.day.day, d.promised, d.same_day, d.korjattava, d.late, d.waiting, d.kept_percent)
        for d in report_days
    ]


def test_every_business_day_with_its_outcomes(session: Session, invoices: dict) -> None:  # type: ignore[type-arg]
    report = promise_report(session, PERIOD, AFTER, RULES)
    assert figures(report.days) == [
        (2, 2, 1, 0, 1, 0, 50.0),  # I1 same day, I2 (seen 15:00:00) sent 15:20: late
        (3, 2, 1, 1, 0, 0, 100.0),  # I3 seen Monday 15:01, I4 Korjattava
        (4, 1, 1, 0, 0, 0, 100.0),
        (5, 0, 0, 0, 0, 0, None),  # nothing due on Thursday; Friday is a holiday
        (9, 3, 1, 0, 2, 0, 33.3),  # I5 (Thursday 16:00), I6 (holiday), I7 (Saturday)
    ]


def test_before_the_deadline_unsent_ones_are_waiting(session: Session, invoices: dict) -> None:  # type: ignore[type-arg]
    monday_noon = datetime(2024, 12, 9, 12, 0, tzinfo=HKI)
    last = promise_report(session, PERIOD, monday_noon, RULES).days[-1]
    assert (last.same_day, last.late, last.waiting, last.kept_percent) == (1, 0, 2, 100.0)


def test_a_day_lists_its_invoices(session: Session, invoices: dict) -> None:  # type: ignore[type-arg]
    detail = promise_day(session, date(2024, 12, 9), AFTER, RULES)
    assert detail is not None
    assert [(i.number, i.outcome) for i in detail.invoices] == [
        ("1001020005", "same_day"),
        ("1001020006", "late"),
        ("1001020007", "late"),
    ]
    tuesday = promise_day(session, date(2024, 12, 3), AFTER, RULES)
    assert tuesday is not None
    assert [(i.number, i.outcome) for i in tuesday.invoices] == [
        ("1001020003", "same_day"),
        ("1001020004", "korjattava"),
    ]
    assert tuesday.invoices[1].korjattava_at == hki(3, 13)
    assert promise_day(session, date(2024, 12, 6), AFTER, RULES) is None  # the holiday


def test_reports_page_api_csv_and_day_page(logged_in: Client, invoices: dict) -> None:  # type: ignore[type-arg]
    params = {"from": "2024-12-02", "to": "2024-12-09"}
    page = logged_in.get("/reports", params=params).text
    assert 'id="chart-same-day"' in page and 'data-testid="same-day"' in page
    assert '<a href="/reports/same-day/2024-12-09">09.12.2024</a></td><td>3</td><td>1</td>' in page
    assert "Lupaus samana päivänä" in page

    body = logged_in.get("/api/v1/reports/same-day", params=params).json()
    assert [(d["day"], d["promised"], d["kept_percent"]) for d in body["days"]][:2] == [
        ("2024-12-02", 2, 50.0),
        ("2024-12-03", 2, 100.0),
    ]
    spec = logged_in.get("/api/v1/openapi.json").json()
    assert "/api/v1/reports/same-day" in spec["paths"]

    rows = list(
        csv.reader(io.StringIO(logged_in.get("/reports/same-day/days.csv", params=params).text[1:]))
    )
    assert rows[0][:3] == ["Päivä", "Erääntyviä", "Lähti samana päivänä"]
    assert rows[5] == ["2024-12-09", "3", "1", "0", "2", "0", "33.3"]

    day = logged_in.get("/reports/same-day/2024-12-03").text
    assert "1001020003" in day and "1001020004" in day and 'data-outcome="korjattava"' in day
    assert logged_in.get("/reports/same-day/2024-12-06").status_code == 404
    assert logged_in.get("/api/v1/reports/same-day/2024-12-07").status_code == 404
    detail = logged_in.get("/api/v1/reports/same-day/2024-12-02").json()
    assert [i["outcome"] for i in detail["invoices"]] == ["same_day", "late"]


def freeze(monkeypatch: pytest.MonkeyPatch, when: datetime) -> None:
    for module in ("pages", "slots", "notice"):
        monkeypatch.setattr(f"plugins.invoices.web.{module}.utcnow", lambda: when)


def test_banner_from_1430_while_an_invoice_due_today_is_unsent(
    logged_in: Client, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    due = add_invoice(session, 11, hki(9, 9), status=InvoiceStatus.unsent)
    add_invoice(session, 12, hki(9, 15, 1), status=InvoiceStatus.unsent)  # due tomorrow
    session.commit()

    freeze(monkeypatch, hki(9, 14, 29))
    assert 'data-testid="invoice-alert"' not in logged_in.get("/reports").text

    freeze(monkeypatch, hki(9, 14, 30))
    page = logged_in.get("/reports").text
    assert "Tänään erääntyviä lähettämättömiä laskuja: 1" in page
    assert 'href="/invoices?due=today"' in page  # the link lists exactly those

    due.status = InvoiceStatus.sent
    due.left_unsent_at = hki(9, 14, 40)
    session.add(due)
    session.commit()
    freeze(monkeypatch, hki(9, 14, 45))
    assert 'data-testid="invoice-alert"' not in logged_in.get("/reports").text


def test_a_sighting_after_local_midnight_is_due_that_day(session: Session) -> None:
    # Tuesday 01:30 Helsinki is Monday 23:30 UTC: still due Tuesday, as Monday 23:30 is.
    add_invoice(session, 21, hki(3, 1, 30), left=hki(3, 10))
    add_invoice(session, 22, hki(2, 23, 30), left=hki(3, 16))
    session.commit()
    days = promise_report(session, ReportPeriod(date(2024, 12, 2), date(2024, 12, 3)), AFTER).days
    assert figures(days) == [(2, 0, 0, 0, 0, 0, None), (3, 2, 1, 0, 1, 0, 50.0)]


def test_the_banner_count_follows_an_action_without_a_reload(
    logged_in: Client, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    due = add_invoice(session, 13, hki(9, 9), status=InvoiceStatus.unsent)
    due.delivery_method = "post"
    due.customer_address, due.customer_postcode, due.customer_town = "Katu 1", "00100", "Helsinki"
    session.add(due)
    session.commit()
    freeze(monkeypatch, hki(9, 14, 40))
    assert "erääntyviä lähettämättömiä laskuja: 1" in logged_in.get("/tickets").text

    # Sent from the queue row (htmx): the answer carries the page's notice, now empty.
    answer = logged_in.post(
        f"/invoices/{due.id}/dispatch?compact=1",
        data={"override_reason": "Tarkistettu puhelimessa", "key": "k1"},
        headers={"HX-Request": "true", "X-CSRF-Token": logged_in.csrf},
    )
    assert answer.status_code == 200, answer.text
    assert '<div id="invoice-page-alert" hx-swap-oob="true"></div>' in answer.text
