"""Reports (Raportit): charts with their tables, period and mailbox filters, CSV downloads.

Each chart is a ``<canvas data-chart=...>`` that ``static/reports.js`` draws with the
vendored Chart.js; the table beside it holds the same numbers, so the page reads without
JavaScript, in print and to a screen reader. The plugins add sections through the
``helpdesk_report_sections`` hook (the invoice plugin: the same-day promise).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlmodel import Session, col, select

from helpdesk.hookspecs import ReportPeriod
from helpdesk.i18n import N_, gettext
from helpdesk.models import Mailbox
from helpdesk.models.reports import DurationStats, TimesRow
from helpdesk.plugins import hook
from helpdesk.services import report_times, reports
from helpdesk.services.errors import NotFound
from helpdesk.web.deps import CurrentAgent, ReportPeriodQuery, SessionDep
from helpdesk.web.downloads import csv_response
from helpdesk.web.templating import render

router = APIRouter()

WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
#: Shades of a heatmap cell (CSS classes heat-0 .. heat-5; the CSP forbids inline styles).
SHADES = 5


def period_query(period: ReportPeriod) -> str:
    """The period as a query string, for links to CSV, JSON and the plugins' pages."""
    values: dict[str, Any] = {"from": period.start.isoformat(), "to": period.end.isoformat()}
    if period.mailbox_id:
        values["mailbox"] = period.mailbox_id
    return urlencode(values)


def times_chart(rows: Sequence[TimesRow]) -> dict[str, Any]:
    """Weekly medians and 90th percentiles as lines (hours)."""
    series = (
        (gettext("First response, median"), attrgetter("first_response.median_hours")),
        (gettext("First response, 90th percentile"), attrgetter("first_response.p90_hours")),
        (gettext("Resolution, median"), attrgetter("resolution.median_hours")),
        (gettext("Resolution, 90th percentile"), attrgetter("resolution.p90_hours")),
    )
    return {
        "type": "line",
        "labels": [r.week for r in rows],
        "datasets": [{"label": label, "data": [pick(r) for r in rows]} for label, pick in series],
        "y": gettext("Business hours"),
    }


def heat_levels(cells: list[list[int]]) -> list[list[int]]:
    """Each cell's shade 0..SHADES, relative to the busiest cell (0 only for none)."""
    top = max((n for row in cells for n in row), default=0)
    return [[0 if not n else max(1, round(SHADES * n / top)) for n in row] for row in cells]


def _mailboxes(session: Session) -> list[Mailbox]:
    return list(session.exec(select(Mailbox).order_by(col(Mailbox.address))))


def report_context(session: Session, period: ReportPeriod) -> dict[str, Any]:
    """Every core report of the period, and the charts drawn from them."""
    times = report_times.response_times(session, period)
    volume = reports.volume(session, period)
    calls = reports.calls_by_hour(session, period)
    backlog = reports.backlog(session, period)
    agents = reports.agents(session, period)
    return {
        "period": period,
        "query": period_query(period),
        "mailboxes": _mailboxes(session),
        "times": times,
        "volume": volume,
        "heat": {"mail": heat_levels(volume.mail.cells), "calls": heat_levels(volume.calls.cells)},
        "weekdays": WEEKDAYS,
        "calls": calls,
        "backlog": backlog,
        "agents": agents,
        "charts": {
            "times": times_chart(times.by_week),
            "mailboxes": {
                "type": "bar",
                "labels": [r.mailbox or gettext("No mailbox") for r in times.by_mailbox],
                "datasets": [
                    {
                        "label": gettext("First response, median"),
                        "data": [r.first_response.median_hours for r in times.by_mailbox],
                    },
                    {
                        "label": gettext("Resolution, median"),
                        "data": [r.resolution.median_hours for r in times.by_mailbox],
                    },
                ],
                "y": gettext("Business hours"),
            },
            "calls": {
                "type": "bar",
                "stacked": True,
                "labels": [f"{h.hour:02d}" for h in calls.hours],
                "datasets": [
                    {"label": gettext("Incoming"), "data": [h.incoming for h in calls.hours]},
                    {"label": gettext("Outgoing"), "data": [h.outgoing for h in calls.hours]},
                ],
                "y": gettext("Calls"),
            },
            "backlog": {
                "type": "line",
                "labels": [d.day.strftime("%d.%m.") for d in backlog.days],
                "datasets": [{"label": gettext("Open"), "data": [d.open for d in backlog.days]}],
                "y": gettext("Tickets"),
            },
            "agents": {
                "type": "bar",
                "horizontal": True,
                "labels": [a.agent for a in agents.agents],
                "datasets": [
                    {"label": gettext("Tickets"), "data": [a.tickets for a in agents.agents]},
                ],
                "y": gettext("Tickets"),
            },
        },
    }


@router.get("/reports", include_in_schema=False)
def reports_page(
    request: Request, session: SessionDep, agent: CurrentAgent, period: ReportPeriodQuery
) -> Response:
    context = report_context(session, period)
    sections = hook().helpdesk_report_sections(
        request=request, session=session, period=period, agent=agent
    )
    context["sections"] = [Markup(s) for s in sections if s]  # noqa: S704 (plugins' templates)
    return render(request, "reports/page.html", context)


def _stats(s: DurationStats) -> list[object]:
    return [s.count, s.median_hours, s.p90_hours]


def _times_header(first: str) -> list[str]:
    return [
        first,
        gettext("First responses"),
        gettext("First response, median (h)"),
        gettext("First response, 90th percentile (h)"),
        gettext("Resolved"),
        gettext("Resolution, median (h)"),
        gettext("Resolution, 90th percentile (h)"),
    ]


def _csv_times_week(session: Session, period: ReportPeriod) -> tuple[list[str], list[list[object]]]:
    rows = report_times.response_times(session, period).by_week
    body = [[r.week, *_stats(r.first_response), *_stats(r.resolution)] for r in rows]
    return _times_header(gettext("Week")), body


def _csv_times_mailbox(
    session: Session, period: ReportPeriod
) -> tuple[list[str], list[list[object]]]:
    rows = report_times.response_times(session, period).by_mailbox
    body = [
        [r.mailbox or gettext("No mailbox"), *_stats(r.first_response), *_stats(r.resolution)]
        for r in rows
    ]
    return _times_header(gettext("Mailbox")), body


def _csv_heatmap(
    kind: str,
) -> Callable[[Session, ReportPeriod], tuple[list[str], list[list[object]]]]:
    def table(session: Session, period: ReportPeriod) -> tuple[list[str], list[list[object]]]:
        found = reports.volume(session, period)
        cells = found.mail.cells if kind == "mail" else found.calls.cells
        header = [gettext("Hour")] + [gettext(d) for d in WEEKDAYS]
        return header, [[f"{h:02d}"] + [cells[d][h] for d in range(7)] for h in range(24)]

    return table


def _csv_calls(session: Session, period: ReportPeriod) -> tuple[list[str], list[list[object]]]:
    hours = reports.calls_by_hour(session, period).hours
    header = [gettext("Hour"), gettext("Incoming"), gettext("Outgoing")]
    return header, [[f"{h.hour:02d}", h.incoming, h.outgoing] for h in hours]


def _csv_backlog(session: Session, period: ReportPeriod) -> tuple[list[str], list[list[object]]]:
    days = reports.backlog(session, period).days
    return [gettext("Day"), gettext("Open")], [[d.day.isoformat(), d.open] for d in days]


def _csv_agents(session: Session, period: ReportPeriod) -> tuple[list[str], list[list[object]]]:
    rows = reports.agents(session, period).agents
    header = [gettext("Agent"), gettext("Tickets"), gettext("Replies"), gettext("Calls")]
    return header, [[a.agent, a.tickets, a.replies, a.calls] for a in rows]


CSV_TABLES: dict[str, Callable[[Session, ReportPeriod], tuple[list[str], list[list[object]]]]] = {
    "times-week": _csv_times_week,
    "times-mailbox": _csv_times_mailbox,
    "volume-mail": _csv_heatmap("mail"),
    "volume-calls": _csv_heatmap("calls"),
    "calls": _csv_calls,
    "backlog": _csv_backlog,
    "agents": _csv_agents,
}


@router.get("/reports/{name}.csv", include_in_schema=False)
def report_csv(
    name: str, session: SessionDep, agent: CurrentAgent, period: ReportPeriodQuery
) -> Response:
    table = CSV_TABLES.get(name)
    if table is None:
        raise NotFound()
    header, rows = table(session, period)
    return csv_response(f"{name}-{period.start}-{period.end}.csv", header, rows)
