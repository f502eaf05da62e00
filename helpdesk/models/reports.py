"""The reports' shapes: what ``helpdesk.services.reports`` returns and ``/api/v1/reports`` shows.

Not tables: every figure is counted from the tickets, messages, calls and audit events.
Durations are business hours (the service hours on business days) as decimal hours;
days and weeks are Helsinki dates.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class PeriodRead(BaseModel):
    """The filter a report was counted for: ``from``..``to`` (both included), the mailbox."""

    model_config = ConfigDict(populate_by_name=True)

    start: date = Field(serialization_alias="from")
    end: date = Field(serialization_alias="to")
    mailbox: str | None = None


class DurationStats(BaseModel):
    """Median and 90th percentile (nearest rank) of ``count`` durations, in business hours."""

    count: int
    median_hours: float | None
    p90_hours: float | None


class TimesRow(BaseModel):
    """One week (``week``: ISO week, ``week_start``: its Monday) or one mailbox (``mailbox``;
    None in ``by_mailbox``: tickets of no mailbox, such as phone tickets)."""

    week: str | None = None
    week_start: date | None = None
    mailbox: str | None = None
    first_response: DurationStats
    resolution: DurationStats


class TimesReport(BaseModel):
    """First response and resolution times of the tickets that came in in the period.

    First response: from the ticket's first incoming mail to the first reply an agent
    sent after it. Resolution: from the ticket's creation to its last closing, for tickets
    closed now. Both grouped by the week the ticket came in, and by mailbox.
    """

    period: PeriodRead
    by_week: list[TimesRow]
    by_mailbox: list[TimesRow]


class Heatmap(BaseModel):
    """Counts by weekday (``cells[0]`` is Monday) and hour of the day (``cells[d][0]`` is 00-01)."""

    total: int
    cells: list[list[int]]


class VolumeReport(BaseModel):
    """When work comes in: incoming mail, and incoming calls, by weekday and hour."""

    period: PeriodRead
    mail: Heatmap
    calls: Heatmap


class CallsHour(BaseModel):
    """Calls that started in one hour of the day (00-23), over the period."""

    hour: int
    incoming: int
    outgoing: int


class CallsReport(BaseModel):
    """Calls per hour of the day. Calls belong to no mailbox: the mailbox filter is ignored."""

    period: PeriodRead
    hours: list[CallsHour]


class BacklogDay(BaseModel):
    """Tickets not closed at the end of ``day``."""

    day: date
    open: int


class BacklogReport(BaseModel):
    """The open backlog (open and pending tickets) at the end of each day of the period."""

    period: PeriodRead
    days: list[BacklogDay]


class AgentRow(BaseModel):
    """What one agent did in the period: tickets answered (mail or phone), replies, calls."""

    agent_id: int
    agent: str
    tickets: int
    replies: int
    calls: int


class AgentsReport(BaseModel):
    """Tickets handled per agent: tickets in which the agent replied or logged a call."""

    period: PeriodRead
    agents: list[AgentRow]
