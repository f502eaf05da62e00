"""The dashboard's numbers for today and the service-hours state."""

from __future__ import annotations

from datetime import timedelta

import factories

from helpdesk.models import MessageKind, utcnow
from helpdesk.services import calls, history
from helpdesk.services import tickets as ticket_service


def test_todays_numbers(session, logged_in, admin) -> None:
    now = utcnow()
    old = factories.ticket(session, subject="Vanha kysymys", at=now - timedelta(days=3))
    answered = factories.ticket(session, subject="Vastattu", at=now - timedelta(days=2))
    ticket_service.add_message(
        session, ticket=answered, kind=MessageKind.outgoing, text="Vastaus", author=admin
    )
    session.commit()
    factories.ticket(session, subject="Tämän päivän kysymys")
    calls.log_call(session, by=admin, phone="0401234567", notes="Soitto")
    today = history.today(session)
    assert today.new_mails == 1  # only the mail that came in today
    assert today.open_tickets == 4  # three mails and the call ticket
    assert today.calls_logged == 1
    assert today.unanswered[0].id == old.id
    assert answered.id not in [t.id for t in today.unanswered]
    page = logged_in.get("/dashboard")
    assert page.status_code == 200
    assert 'data-testid="dashboard-service"' in page.text
    assert f"#{old.number}" in page.text
