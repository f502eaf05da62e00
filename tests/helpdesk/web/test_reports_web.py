"""The Reports page, its CSV downloads and /api/v1/reports, on the hand-computed week."""

from __future__ import annotations

import csv
import io

import pytest
from report_fixtures import Week, build_week
from sqlmodel import Session
from webclient import Client

from helpdesk.web.downloads import safe_cell

PERIOD = {"from": "2024-12-02", "to": "2024-12-09"}


@pytest.fixture
def week(session: Session) -> Week:
    return build_week(session)


def _csv(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_page_shows_every_report_with_tables_and_links(logged_in: Client, week: Week) -> None:
    page = logged_in.get("/reports", params=PERIOD)
    assert page.status_code == 200
    html = page.text
    assert '<a href="/reports" class="active" aria-current="page">Raportit</a>' in html
    for name in ("times", "mailboxes", "calls", "backlog", "agents"):
        assert f'id="chart-{name}"' in html and "data-chart=" in html
    assert "/static/vendor/chart-4.6.1.umd.min.js" in html
    assert (
        "<td>2024-W49</td><td>5</td><td>0.50</td><td>2.00</td><td>3</td><td>3.00</td><td>6.00</td>"
        in html
    )
    assert 'data-testid="heatmap-mail"' in html and 'data-testid="heatmap-calls"' in html
    assert "<td>Xenia Agentti</td><td>4</td><td>3</td><td>1</td>" in html
    assert "/reports/backlog.csv?from=2024-12-02&amp;to=2024-12-09" in html
    assert "/api/v1/reports/times?from=2024-12-02&amp;to=2024-12-09" in html


def test_page_in_english_and_for_one_mailbox(logged_in: Client, week: Week, admin) -> None:
    logged_in.form("/language", {"language": "en", "next": "/reports"})
    html = logged_in.get("/reports", params={**PERIOD, "mailbox": week.box_b.id}).text
    assert ">Reports</a>" in html and "First response and resolution time by week" in html
    assert f'<option value="{week.box_b.id}" selected>info@e-tunnus.fi</option>' in html
    assert "<td>Yrjö Agentti</td><td>2</td><td>3</td><td>0</td>" in html
    assert "Xenia Agentti" not in html


def test_csv_downloads(logged_in: Client, week: Week) -> None:
    response = logged_in.get("/reports/backlog.csv", params=PERIOD)
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = _csv(response.text)
    assert rows[0] == ["Päivä", "Avoimet"]
    assert rows[1:] == [
        [f"2024-12-0{d}", str(n)]
        for d, n in zip(range(2, 10), (1, 3, 2, 3, 3, 4, 4, 4), strict=True)
    ]
    heat = _csv(logged_in.get("/reports/volume-mail.csv", params=PERIOD).text)
    assert heat[0][0] == "Tunti" and len(heat) == 25
    assert heat[1 + 14][1 + 3] == "1"  # Thursday 14-15
    times = _csv(logged_in.get("/reports/times-mailbox.csv", params=PERIOD).text)
    assert times[1][0] == "Ei postilaatikkoa" and times[3][:4] == [
        "info@e-tunnus.fi",
        "2",
        "0.88",
        "1.5",
    ]
    assert logged_in.get("/reports/nothing.csv", params=PERIOD).status_code == 404


def test_csv_cells_cannot_be_formulas(session: Session, logged_in: Client, week: Week) -> None:
    assert [safe_cell(v) for v in ("=1+1", "+358", "-2", "@SUM", "Matti", -2, 1.5, None)] == [
        "'=1+1",
        "'+358",
        "'-2",
        "'@SUM",
        "Matti",
        "-2",
        "1.5",
        "",
    ]
    week.x.name = '=HYPERLINK("http://evil")'
    session.add(week.x)
    session.commit()
    rows = _csv(logged_in.get("/reports/agents.csv", params=PERIOD).text)
    assert rows[1][0] == '\'=HYPERLINK("http://evil")'


def test_api_json(logged_in: Client, week: Week) -> None:
    times = logged_in.get("/api/v1/reports/times", params=PERIOD).json()
    assert times["period"] == {"from": "2024-12-02", "to": "2024-12-09", "mailbox": None}
    assert times["by_week"][0]["first_response"] == {
        "count": 5,
        "median_hours": 0.5,
        "p90_hours": 2.0,
    }
    volume = logged_in.get("/api/v1/reports/volume", params=PERIOD).json()
    assert volume["mail"]["total"] == 7 and volume["calls"]["cells"][0][10] == 2
    calls = logged_in.get("/api/v1/reports/calls", params=PERIOD).json()
    assert calls["hours"][14] == {"hour": 14, "incoming": 0, "outgoing": 1}
    backlog = logged_in.get("/api/v1/reports/backlog", params=PERIOD).json()
    assert [d["open"] for d in backlog["days"]] == [1, 3, 2, 3, 3, 4, 4, 4]
    agents = logged_in.get(
        "/api/v1/reports/agents", params={**PERIOD, "mailbox": week.box_b.id}
    ).json()
    assert agents["period"]["mailbox"] == "info@e-tunnus.fi"
    assert [(a["agent"], a["tickets"]) for a in agents["agents"]] == [("Yrjö Agentti", 2)]


def test_api_is_documented(logged_in: Client) -> None:
    spec = logged_in.get("/api/v1/openapi.json").json()
    for name in ("times", "volume", "calls", "backlog", "agents"):
        operation = spec["paths"][f"/api/v1/reports/{name}"]["get"]
        params = {p["name"] for p in operation["parameters"]}
        assert {"from", "to", "mailbox"} <= params, name


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"from": "2024-12-09", "to": "2024-12-02"}, 400),
        ({"from": "2023-01-01", "to": "2024-12-02"}, 400),
        ({"from": "0001-01-01"}, 400),
        ({"to": "9999-12-31"}, 400),
        ({"from": "eilen"}, 422),
        ({"mailbox": "x"}, 422),
        ({"mailbox": "0"}, 422),
    ],
)
def test_bad_periods_are_refused_not_500(
    logged_in: Client, params: dict[str, str], status: int
) -> None:
    assert logged_in.get("/api/v1/reports/times", params=params).status_code == status
    assert logged_in.get("/reports", params=params).status_code in (400, 422)


def test_reports_need_a_login(client: Client) -> None:
    assert client.get("/api/v1/reports/times").status_code == 401
    assert client.get("/reports", follow_redirects=False).status_code in (303, 401)
