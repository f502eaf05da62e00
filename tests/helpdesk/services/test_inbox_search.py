"""Inbox search gives the same tickets in the same order whichever strategy finds them.

SQLite chooses between several ways (the top of the inbox first, then few hits sorted, or
the inbox walked in order); the choices are forced here so that small data takes each way.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import factories
import pytest

from helpdesk.models import MessageKind, TicketStatus
from helpdesk.services import inbox, search
from helpdesk.services import tickets as ticket_service

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
STRATEGIES = {
    "window": {"FEW_MATCHES": 2000},
    "few hits": {"FEW_MATCHES": 2000, "first_in_window": lambda *args: (None, 0)},
    "many hits": {"FEW_MATCHES": 0, "DENSE_SHARE": 1, "first_in_window": lambda *args: (None, 0)},
    # Words typed in full that most messages have: each message looked up on its own.
    "dense": {"FEW_MATCHES": 0, "DENSE_SHARE": 10**9, "first_in_window": lambda *args: (None, 0)},
    "dense at the top": {"first_in_window": lambda *args: (None, search.DENSE)},
}


@pytest.fixture
def inbox_with_words(session):
    """Twelve tickets; every third mentions a 'verkkolasku', ticket 5 in an old first message."""
    box = factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
    made = []
    for i in range(12):
        words = "verkkolasku ei mennyt perille" if i % 3 == 0 else "palkka tilille"
        t = factories.ticket(
            session, subject=f"Asia {i}", mailbox=box, text=words, at=START + timedelta(hours=i)
        )
        made.append(t)
        if i == 0:
            # Two more messages: from here on a message's id is no ticket's id.
            for _ in range(2):
                ticket_service.add_message(
                    session, ticket=t, kind=MessageKind.note, text="Soitettu.", created_at=START
                )
    # An old ticket that mentions the word only in its first message, then gets new activity.
    old = factories.ticket(
        session,
        subject="Vanha",
        mailbox=box,
        text="Verkkolaskuosoite?",
        at=START - timedelta(days=90),
    )
    ticket_service.add_message(
        session,
        ticket=old,
        kind=MessageKind.incoming,
        text="Vieläkö tämä on auki?",
        from_address="asiakas@example.fi",
        created_at=START + timedelta(days=1),
    )
    made[1].status = TicketStatus.closed
    session.add(made[1])
    session.commit()
    return made, old


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_finds_the_same_tickets_in_inbox_order(
    session, inbox_with_words, strategy, monkeypatch
):
    made, old = inbox_with_words
    for name, value in STRATEGIES[strategy].items():
        monkeypatch.setattr(search, name, value)

    page = inbox.list_tickets(session, inbox.TicketFilter(q="verkkolasku"), limit=3)
    expected = [old.id, made[9].id, made[6].id]
    assert [r.ticket.id for r in page.rows] == expected
    rest = inbox.list_tickets(
        session, inbox.TicketFilter(q="verkkolasku"), cursor=page.next_cursor, limit=3
    )
    assert [r.ticket.id for r in rest.rows] == [made[3].id, made[0].id]
    assert rest.next_cursor is None

    both = inbox.list_tickets(session, inbox.TicketFilter(q="verkko perille"))
    assert [r.ticket.id for r in both.rows] == [made[9].id, made[6].id, made[3].id, made[0].id]

    active = inbox.list_tickets(session, inbox.TicketFilter(q="palkka", status="active"))
    palkka = [t.id for t in reversed(made) if "Asia" in t.subject and made.index(t) % 3 != 0]
    assert [r.ticket.id for r in active.rows] == [i for i in palkka if i != made[1].id]

    # The counts beside the list take the same ways and agree.
    monkeypatch.setattr(inbox, "_closed_counts", {})
    assert inbox.status_counts(session, inbox.TicketFilter(q="palkka")) == {"open": 7, "closed": 1}
    assert inbox.status_counts(session, inbox.TicketFilter(q="verkko perille")) == {"open": 4}

    assert inbox.list_tickets(session, inbox.TicketFilter(q="olematon")).rows == []
    by_number = inbox.list_tickets(session, inbox.TicketFilter(q=f"#{made[4].number}"))
    assert [r.ticket.id for r in by_number.rows] == [made[4].id]


def test_search_counts_stop_sooner_than_filter_counts(session, monkeypatch):
    box = factories.mailbox(session, "info@e-tunnus.fi")
    for i in range(4):
        factories.ticket(session, mailbox=box, subject=f"Lasku {i}", text="Lasku ei tullut.")
    monkeypatch.setattr(inbox, "SEARCH_COUNT_CAP", 2)
    monkeypatch.setattr(inbox, "COUNT_CAP", 3)
    searched = inbox.TicketFilter(q="lasku")
    filtered = inbox.TicketFilter(mailbox="info@e-tunnus.fi")
    assert inbox.count_cap(searched) == 2 and inbox.count_cap(filtered) == 3
    # A value above the cap stands for "more than that".
    assert inbox.status_counts(session, searched) == {"open": 3}
    assert inbox.status_counts(session, filtered) == {"open": 4}


def test_closed_count_is_reused_briefly_while_open_and_pending_stay_exact(session, monkeypatch):
    box = factories.mailbox(session, "info@e-tunnus.fi")
    first = factories.ticket(session, mailbox=box)
    monkeypatch.setattr(inbox, "_closed_counts", {})
    before = inbox.status_counts(session)
    assert before.get("open") == 1 and "closed" not in before

    ticket_service.set_status(session, ticket=first, status="closed", by=None)
    cached = inbox.status_counts(session)
    assert "open" not in cached  # exact at once
    assert "closed" not in cached  # the closed count is a few seconds behind

    monkeypatch.setattr(inbox, "CLOSED_COUNT_SECONDS", 0.0)
    assert inbox.status_counts(session)["closed"] == 1
