"""The same-day promise on the Reports page, over JSON and as CSV, and a day's invoices.

The section (``slots.report_section``) comes in through the core's
``helpdesk_report_sections`` hook; a click on a
day (in the chart or the table) opens ``/reports/same-day/<day>``, which lists the
invoices behind that day's numbers.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from helpdesk.plugin_api import (
    API_ERRORS,
    N_,
    CurrentAgent,
    NotFound,
    ReportPeriodQuery,
    SessionDep,
    csv_response,
    gettext,
    render,
    utcnow,
)
from plugins.invoices.reports import (
    PromiseDayDetail,
    PromiseReport,
    promise_day,
    promise_report,
)

router = APIRouter()

OUTCOME_LABELS = {
    "same_day": N_("Went on the same day"),
    "korjattava": N_("To Korjattava"),
    "late": N_("Late"),
    "waiting": N_("Still waiting"),
}


def day_url(day: date) -> str:
    return f"/reports/same-day/{day.isoformat()}"


def chart_spec(report: PromiseReport) -> dict[str, Any]:
    """Stacked bars of the outcomes per day, and the kept share as a line (right axis, %)."""
    days = report.days
    bars = [
        {"label": gettext(OUTCOME_LABELS[name]), "data": [getattr(d, name) for d in days]}
        for name in ("same_day", "korjattava", "late", "waiting")
    ]
    line = {
        "label": gettext("Kept (percent)"),
        "data": [d.kept_percent for d in days],
        "type": "line",
        "axis": "y2",
    }
    return {
        "type": "bar",
        "stacked": True,
        "labels": [d.day.strftime("%d.%m.") for d in days],
        "datasets": [line, *bars],
        "y": gettext("Invoices"),
        "y2": gettext("Kept (percent)"),
        "links": [day_url(d.day) for d in days],
    }


@router.get(
    "/api/v1/reports/same-day",
    response_model=PromiseReport,
    tags=["reports"],
    responses=API_ERRORS,
)
def api_same_day(
    session: SessionDep, agent: CurrentAgent, period: ReportPeriodQuery
) -> PromiseReport:
    """The same-day promise per business day: invoices due, on time, to Korjattava, late."""
    return promise_report(session, period, utcnow())


@router.get(
    "/api/v1/reports/same-day/{day}",
    response_model=PromiseDayDetail,
    tags=["reports"],
    responses=API_ERRORS,
)
def api_same_day_detail(day: date, session: SessionDep, agent: CurrentAgent) -> PromiseDayDetail:
    """One business day's figures and the invoices behind them (404 on a closed day)."""
    return _detail(session, day)


def _detail(session: SessionDep, day: date) -> PromiseDayDetail:
    found = promise_day(session, day, utcnow())
    if found is None:
        raise NotFound(N_("Not a business day"))
    return found


@router.get("/reports/same-day/days.csv", include_in_schema=False)
def same_day_csv(session: SessionDep, agent: CurrentAgent, period: ReportPeriodQuery) -> Response:
    report = promise_report(session, period, utcnow())
    header = [
        gettext("Day"),
        gettext("Due"),
        *(gettext(OUTCOME_LABELS[n]) for n in ("same_day", "korjattava", "late", "waiting")),
        gettext("Kept (percent)"),
    ]
    rows = [
        [d.day.isoformat(), d.promised, d.same_day, d.korjattava, d.late, d.waiting, d.kept_percent]
        for d in report.days
    ]
    return csv_response(f"same-day-{period.start}-{period.end}.csv", header, rows)


@router.get("/reports/same-day/{day}", include_in_schema=False)
def same_day_page(
    request: Request, day: date, session: SessionDep, agent: CurrentAgent
) -> Response:
    detail = _detail(session, day)
    return render(
        request,
        "invoices/report_day.html",
        {"detail": detail, "outcomes": OUTCOME_LABELS},
    )
