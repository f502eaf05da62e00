"""The ticket sidebar: automatic linking on open, chips, suggestions, manual link/unlink."""

from __future__ import annotations

import factories
from sqlmodel import select
from statements import statements_run

from helpdesk.models import AuditEvent, TicketLink

HX = {"HX-Request": "true"}


def _open(client, ticket_id: int):
    """Open the ticket page as a browser does: the page and its look for links; then again."""
    first = client.get(f"/tickets/{ticket_id}")
    assert first.status_code == 200 and 'data-testid="look-for-links"' in first.text
    looked = client.form(f"/tickets/{ticket_id}/links/look", {}, headers=HX)
    assert looked.status_code == 200 and 'id="user-panel"' in looked.text and "<html" not in looked.text
    page = client.get(f"/tickets/{ticket_id}")
    assert 'data-testid="look-for-links"' not in page.text  # it has links now
    return page


def test_opening_a_ticket_links_it_and_shows_chips(session, logged_in) -> None:
    factories.user(session, "100102", name="Matti Virtanen")
    ticket = factories.ticket(
        session,
        customer="tuntematon@example.net",
        text="Lasku 1001020007 on lähettämättä. T. 100102",
    )
    page = _open(logged_in, ticket.id)
    assert page.status_code == 200
    assert 'data-testid="linked-user"' in page.text and "Matti Virtanen" in page.text
    assert 'data-testid="found-chips"' in page.text
    assert 'href="/users/100102">1001020007</a>' in page.text
    session.refresh(ticket)
    assert ticket.user_id is not None
    api = logged_in.get(f"/api/v1/tickets/{ticket.id}").json()
    assert api["user"] == "100102"


def test_a_ticket_with_nothing_to_find_is_looked_at_without_a_write(
    session, logged_in, engine
) -> None:
    ticket = factories.ticket(session, customer="tuntematon@example.net", text="Hei vaan")
    page = logged_in.get(f"/tickets/{ticket.id}")
    assert 'data-testid="look-for-links"' in page.text
    with statements_run(engine) as seen:
        looked = logged_in.form(f"/tickets/{ticket.id}/links/look", {}, headers=HX)
    assert looked.status_code == 204
    assert [s for s in seen if s.split(None, 1)[0] in {"INSERT", "UPDATE", "DELETE"}] == []
    assert session.exec(select(TicketLink).where(TicketLink.ticket_id == ticket.id)).all() == []


def test_suggestions_accept_in_one_click_and_unlink(session, logged_in, admin) -> None:
    factories.user(session, "100345", name="Juha Mäkinen", emails=("toimisto@example.fi",))
    sanna = factories.user(
        session, "100478", name="Sanna Nieminen", emails=("toimisto@example.fi",)
    )
    ticket = factories.ticket(
        session, customer="toimisto@example.fi", text="Hei, kysymys laskusta."
    )
    page = _open(logged_in, ticket.id)
    assert 'data-testid="suggestions"' in page.text
    assert 'data-testid="linked-user"' not in page.text
    assert 'data-testid="accept-100345"' in page.text and 'data-testid="accept-100478"' in page.text
    row = session.exec(
        select(TicketLink).where(TicketLink.ticket_id == ticket.id, TicketLink.target == "100478")
    ).one()
    panel = logged_in.form(f"/tickets/{ticket.id}/links/{row.id}/accept", {}, headers=HX)
    assert (
        panel.status_code == 200 and 'id="user-panel"' in panel.text and "<html" not in panel.text
    )
    session.refresh(ticket)
    assert ticket.user_id == sanna.id
    assert 'data-testid="suggestions"' not in panel.text  # the other was dismissed
    unlinked = logged_in.form(f"/tickets/{ticket.id}/links/unlink", {}, headers=HX)
    assert 'data-testid="linked-user"' not in unlinked.text
    session.refresh(ticket)
    assert ticket.user_id is None
    actions = [
        e.action for e in session.exec(select(AuditEvent).where(AuditEvent.agent_id == admin.id))
    ]
    assert actions[-2:] == ["ticket.link_user", "ticket.unlink_user"]


def test_search_as_you_type_and_link_by_hand(session, logged_in) -> None:
    aino = factories.user(session, "100233", name="Aino Korhonen")
    ticket = factories.ticket(session, customer="kuka@example.net", text="Hei")
    results = logged_in.get(f"/tickets/{ticket.id}/links/search", params={"q": "aino"}, headers=HX)
    assert 'data-testid="link-100233"' in results.text
    panel = logged_in.form(f"/tickets/{ticket.id}/links/user", {"etunnus": "100233"}, headers=HX)
    assert 'data-testid="linked-user"' in panel.text and "Aino Korhonen" in panel.text
    session.refresh(ticket)
    assert ticket.user_id == aino.id
    plain = logged_in.form(
        f"/tickets/{ticket.id}/links/user", {"etunnus": "999999"}, follow_redirects=False
    )
    assert plain.status_code == 404
