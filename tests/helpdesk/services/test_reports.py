"""The reports' figures against the hand-computed week in ``report_fixtures``."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from report_fixtures import END, NOW, START, Week, build_week, hki
from sqlmodel import Session

from helpdesk.models import AuditEvent, Message, Ticket, TicketStatus
from helpdesk.service_hours import BusinessClock, ServiceCalendar
from helpdesk.services import report_times, reports
from helpdesk.services.errors import ServiceError

CAL = ServiceCalendar()


@pytest.fixture
def week(session: Session) -> Week:
    return build_week(session)


def test_business_clock_skips_the_holiday_the_weekend_and_closed_hours() -> None:
    clock = BusinessClock(CAL, START, END)
    assert clock.between(hki(5, 14), hki(9, 11)) == 2 * 3600  # Thu 14-15, Mon 10-11
    assert clock.between(hki(7, 12), hki(9, 10)) == 0  # Saturday to Monday's opening
    assert clock.between(hki(3, 16), hki(5, 11)) == 6 * 3600  # all Wednesday + Thu 10-11
    assert clock.between(hki(9, 12), hki(9, 11)) == 0  # end before start


def test_response_and_resolution_times_by_week_and_mailbox(session: Session, week: Week) -> None:
    found = report_times.response_times(session, week.period(), CAL, now=NOW)

    assert [(r.week, r.week_start) for r in found.by_week] == [("2024-W49", date(2024, 12, 2))]
    first, done = found.by_week[0].first_response, found.by_week[0].resolution
    # T1 2.0, T2 0.5, T3 0.25, T4 0.0, T5 1.5 (T6 has no reply, T7 no mail).
    assert (first.count, first.median_hours, first.p90_hours) == (5, 0.5, 2.0)
    # T7 10 min, T1 3.0 and T3 6.0 (its last closing counts).
    assert (done.count, done.median_hours, done.p90_hours) == (3, 3.0, 6.0)

    boxes = {r.mailbox: r for r in found.by_mailbox}
    assert list(boxes) == [None, "asiakaspalvelu@e-tunnus.fi", "info@e-tunnus.fi"]
    assert boxes[None].resolution.median_hours == 0.17 and boxes[None].first_response.count == 0
    a, b = boxes["asiakaspalvelu@e-tunnus.fi"], boxes["info@e-tunnus.fi"]
    assert (a.first_response.count, a.first_response.median_hours, a.first_response.p90_hours) == (
        3,
        0.5,
        2.0,
    )
    assert (a.resolution.median_hours, b.resolution.median_hours) == (3.0, 6.0)
    assert (b.first_response.median_hours, b.first_response.p90_hours) == (0.88, 1.5)


def test_times_of_one_mailbox(session: Session, week: Week) -> None:
    found = report_times.response_times(session, week.period(week.box_b), CAL, now=NOW)
    assert found.period.mailbox == "info@e-tunnus.fi"
    assert found.by_week[0].first_response.count == 2
    assert (found.by_week[0].resolution.count, found.by_week[0].resolution.p90_hours) == (1, 6.0)
    assert [r.mailbox for r in found.by_mailbox] == ["info@e-tunnus.fi"]


def test_volume_heatmap_in_helsinki_hours(session: Session, week: Week) -> None:
    found = reports.volume(session, week.period(), CAL)
    mail = found.mail.cells
    # Mon 09 (T2), Mon 10 (T6, 9.12.), Tue 12 (T5), Tue 16 (T3), Thu 09 (T3), Thu 14 (T1),
    # Sat 12 (T4); T6's mail at 00:30 on Tuesday 10.12. is after the period.
    expected = {(0, 9): 1, (0, 10): 1, (1, 12): 1, (1, 16): 1, (3, 9): 1, (3, 14): 1, (5, 12): 1}
    assert {(d, h): n for d in range(7) for h in range(24) if (n := mail[d][h])} == expected
    assert found.mail.total == 7
    # Incoming calls only: Monday 10:20 and Monday 10:40.
    assert found.calls.total == 2 and found.calls.cells[0][10] == 2

    only_b = reports.volume(session, week.period(week.box_b), CAL).mail
    assert only_b.total == 3 and only_b.cells[3][9] == 1


def test_calls_per_hour_of_the_day(session: Session, week: Week) -> None:
    hours = reports.calls_by_hour(session, week.period(), CAL).hours
    assert [(h.hour, h.incoming, h.outgoing) for h in hours if h.incoming or h.outgoing] == [
        (10, 2, 0),
        (14, 0, 1),
    ]


def test_backlog_at_the_end_of_each_day(session: Session, week: Week) -> None:
    found = reports.backlog(session, week.period(), CAL, now=NOW)
    assert [(d.day.day, d.open) for d in found.days] == [
        (2, 1),  # T2 (T7 opened and closed)
        (3, 3),  # + T3, T5
        (4, 2),  # T3 closed
        (5, 3),  # T3 reopened and closed again; + T1
        (6, 3),
        (7, 4),  # + T4
        (8, 4),
        (9, 4),  # + T6, T1 closed
    ]
    only_b = reports.backlog(session, week.period(week.box_b), CAL, now=NOW)
    assert [d.open for d in only_b.days] == [0, 2, 1, 1, 1, 1, 1, 1]


def test_backlog_stops_at_today(session: Session, week: Week) -> None:
    now = datetime.combine(date(2024, 12, 5), time(12), tzinfo=CAL.zone)
    found = reports.backlog(session, week.period(), CAL, now=now)
    assert found.days[-1].day == date(2024, 12, 5)


def test_tickets_handled_per_agent(session: Session, week: Week) -> None:
    rows = reports.agents(session, week.period(), CAL).agents
    assert [(r.agent, r.tickets, r.replies, r.calls) for r in rows] == [
        ("Xenia Agentti", 4, 3, 1),  # T1 T2 T4 replies (not the cancelled one), T6 call
        ("Yrjö Agentti", 3, 3, 2),  # T3, T5 twice; T7 two calls
    ]
    only_b = reports.agents(session, week.period(week.box_b), CAL).agents
    assert [(r.agent, r.tickets, r.replies, r.calls) for r in only_b] == [("Yrjö Agentti", 2, 3, 0)]


def test_periods_are_checked() -> None:
    assert reports.make_period(START, END).end == END
    with pytest.raises(ServiceError):
        reports.make_period(END, START)
    with pytest.raises(ServiceError):
        reports.make_period(date(2024, 1, 1), date(2025, 1, 1))


def test_spam_counts_in_no_report(session: Session, week: Week) -> None:
    """A spam ticket, its mail, its clocks and its closing are in no figure; the same ticket
    marked "not spam" is in all of them."""
    period = week.period()

    def figures() -> list[object]:
        return [
            reports.volume(session, period, CAL).mail,
            reports.backlog(session, period, CAL, now=NOW).days,
            report_times.response_times(session, period, CAL, now=NOW).by_week,
        ]

    before = figures()
    junk = Ticket(
        number=900_100,
        subject="Halpoja lääkkeitä",
        mailbox_id=week.box_a.id,
        status=TicketStatus.closed,
        channel="email",
        created_at=hki(3, 10),
        updated_at=hki(4, 10),
        last_message_at=hki(3, 10),
        first_incoming_at=hki(3, 10),
        first_response_at=hki(3, 11),
        first_response_seconds=3600,
        resolved_at=hki(4, 10),
        resolution_seconds=7 * 3600,
        spam=True,
    )
    session.add(junk)
    session.flush()
    session.add(
        Message(
            ticket_id=junk.id or 0, mailbox_id=week.box_a.id, kind="incoming", created_at=hki(3, 10)
        )
    )
    session.add(
        AuditEvent(
            at=hki(4, 10),
            action="ticket.status",
            object_type="ticket",
            object_id=str(junk.id),
            details={"old": "open", "new": "closed"},
        )
    )
    session.commit()
    assert figures() == before

    junk.spam = False
    session.add(junk)
    session.commit()
    counted = figures()
    assert [a != b for a, b in zip(counted, before, strict=True)] == [True, True, True]
