"""The reports over JSON: ``GET /api/v1/reports/<name>?from=&to=&mailbox=``.

The same figures as the Reports page's charts and tables. Dates are Helsinki dates,
both included; durations are business hours (the service hours on business days).
The invoice plugin adds ``/api/v1/reports/same-day``.
"""

from __future__ import annotations

from fastapi import APIRouter

from helpdesk.models.reports import (
    AgentsReport,
    BacklogReport,
    CallsReport,
    TimesReport,
    VolumeReport,
)
from helpdesk.services import report_times, reports
from helpdesk.web.deps import CurrentAgent, ReportPeriodQuery, SessionDep

router = APIRouter(prefix="/reports", tags=["reports"])


@router.get("/times", response_model=TimesReport)
def api_times(session: SessionDep, agent: CurrentAgent, period: ReportPeriodQuery) -> TimesReport:
    """First response and resolution times (median, 90th percentile) by week and mailbox."""
    return report_times.response_times(session, period)


@router.get("/volume", response_model=VolumeReport)
def api_volume(session: SessionDep, agent: CurrentAgent, period: ReportPeriodQuery) -> VolumeReport:
    """Incoming mail and incoming calls by weekday and hour of the day (a heatmap)."""
    return reports.volume(session, period)


@router.get("/calls", response_model=CallsReport)
def api_calls(session: SessionDep, agent: CurrentAgent, period: ReportPeriodQuery) -> CallsReport:
    """Calls per hour of the day, incoming and outgoing."""
    return reports.calls_by_hour(session, period)


@router.get("/backlog", response_model=BacklogReport)
def api_backlog(
    session: SessionDep, agent: CurrentAgent, period: ReportPeriodQuery
) -> BacklogReport:
    """Open and pending tickets at the end of each day."""
    return reports.backlog(session, period)


@router.get("/agents", response_model=AgentsReport)
def api_agents(session: SessionDep, agent: CurrentAgent, period: ReportPeriodQuery) -> AgentsReport:
    """Tickets handled per agent: tickets answered by mail or phone, replies, calls."""
    return reports.agents(session, period)
