"""Chromium draws the Reports page: every chart on a canvas, on a desktop and on a phone,
under the CSP, and a click on a day of the same-day chart opens that day's invoices."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import factories
import pytest
from browser import browser_login
from playwright.sync_api import expect
from report_fixtures import build_week

from helpdesk.db import new_session
from plugins.invoices.models import Invoice, InvoiceStatus
from plugins.invoices.rules.deadline import InvoiceDeadline

pytestmark = pytest.mark.browser

URL = "/reports?from=2024-12-02&to=2024-12-09"
CHARTS = ("times", "mailboxes", "calls", "backlog", "agents", "same-day")
SCREENSHOT = "/tmp/helpdesk-reports.png"


def _seed() -> object:
    seen = datetime(2024, 12, 3, 11, 0, tzinfo=ZoneInfo("Europe/Helsinki")).astimezone(UTC)
    with new_session() as session:
        build_week(session)
        agent = factories.agent(session, name="Raportin Lukija")
        session.add(
            Invoice(
                netvisor_key=91_001,
                number="1001020099",
                customer_name="Piirturi Oy",
                first_seen_at=seen,
                deadline_at=InvoiceDeadline().deadline_for(seen),
                last_synced_at=seen,
                left_unsent_at=seen,
                status=InvoiceStatus.sent,
            )
        )
        session.commit()
        return agent


def test_the_page_draws_every_chart(live_server, page) -> None:
    agent = _seed()
    errors: list[str] = []
    # Console errors (a CSP refusal, a script error) and failed requests, but the browser's
    # own favicon guess.
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    browser_login(page, live_server, agent)

    page.goto(live_server.url + URL)
    for name in CHARTS:
        canvas = page.locator(f"#chart-{name}")
        expect(canvas).to_have_attribute("data-drawn", "true")
        box = canvas.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 100, name
    # Chart.js really painted: the canvas holds non-blank pixels.
    painted = page.evaluate(
        """() => { const c = document.getElementById('chart-backlog');
                   const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                   let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }"""
    )
    assert painted > 1000
    page.screenshot(path=SCREENSHOT, full_page=True)
    assert [u for u in failed if not u.endswith("/favicon.ico")] == []
    # The browser's own /favicon.ico guess logs a 404 that no response event shows.
    assert [e for e in errors if "status of 404" not in e] == [], errors

    # A click on Tuesday's bar of the same-day chart lists that day's invoices.
    page.locator("#chart-same-day").scroll_into_view_if_needed()
    point = page.evaluate(
        """() => { const chart = Chart.getChart(document.getElementById('chart-same-day'));
                   const bar = chart.getDatasetMeta(1).data[1];
                   const r = chart.canvas.getBoundingClientRect();
                   return {x: r.left + bar.x, y: r.top + (bar.y + bar.base) / 2}; }"""
    )
    page.mouse.click(point["x"], point["y"])
    page.wait_for_url("**/reports/same-day/2024-12-03")
    expect(page.locator('[data-testid="day-invoices"]')).to_contain_text("1001020099")


def test_the_page_on_a_phone_and_in_print(live_server, page) -> None:
    agent = _seed()
    browser_login(page, live_server, agent)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + URL)
    canvas = page.locator("#chart-times")
    expect(canvas).to_have_attribute("data-drawn", "true")
    box = canvas.bounding_box()
    assert box and box["width"] <= 390 and box["height"] > 100
    # The table sits under the chart on a phone, not beside it.
    table = page.locator('[data-testid="times-week"]').bounding_box()
    assert table and table["y"] >= box["y"] + box["height"]
    page.screenshot(path="/tmp/helpdesk-reports-phone.png", full_page=True)

    page.emulate_media(media="print")
    expect(page.locator("form[data-testid=report-filters]")).to_be_hidden()
    expect(page.locator("#chart-times")).to_be_visible()
