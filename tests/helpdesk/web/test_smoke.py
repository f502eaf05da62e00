"""The inbox works end to end on both databases."""

import factories

from helpdesk.models import TicketStatus


def test_inbox_lists_a_new_ticket_and_search_finds_it(session, logged_in):
    box = factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
    t = factories.ticket(session, subject="Lasku hukassa", mailbox=box, text="Hei, päivämäärä €")
    page = logged_in.get("/tickets")
    assert page.status_code == 200
    assert f"#{t.number}" in page.text
    found = logged_in.get("/tickets", params={"q": "päivämäärä", "status": ""})
    assert "Lasku hukassa" in found.text
    missing = logged_in.get("/tickets", params={"q": "olematonsana", "status": ""})
    assert "Lasku hukassa" not in missing.text
    # A new ticket is open: the status tabs list it under open, not under closed.
    opened = logged_in.get("/tickets", params={"status": TicketStatus.open.value})
    assert "Lasku hukassa" in opened.text
    closed = logged_in.get("/tickets", params={"status": TicketStatus.closed.value})
    assert "Lasku hukassa" not in closed.text
