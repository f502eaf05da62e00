"""User pages: the directory with search, the user's timeline, the form, plugin slot."""

from __future__ import annotations

import factories
from markupsafe import Markup
from sqlmodel import select
from webclient import login

from helpdesk.hookspecs import hookimpl
from helpdesk.models import AuditEvent, MessageKind
from helpdesk.plugins import get_plugin_manager
from helpdesk.services import calls, people
from helpdesk.services import tickets as ticket_service


def test_directory_lists_and_searches_as_you_type(session, logged_in) -> None:
    factories.user(
        session,
        "100102",
        name="Matti Virtanen",
        emails=("matti@example.fi",),
        phones=("+358401234567",),
    )
    factories.user(session, "100233", name="Aino Korhonen")
    page = logged_in.get("/users")
    assert page.status_code == 200
    assert "Matti Virtanen" in page.text and "Aino Korhonen" in page.text
    assert "040 1234567" in page.text  # phones shown the Finnish way
    rows = logged_in.get(
        "/users", params={"q": "korh"}, headers={"HX-Request": "true", "HX-Target": "user-rows"}
    )
    assert "Aino Korhonen" in rows.text and "Matti" not in rows.text
    assert "<html" not in rows.text
    by_phone = logged_in.get("/users", params={"q": "040 123"})
    assert "Matti Virtanen" in by_phone.text and "Aino" not in by_phone.text


def test_user_page_shows_tickets_messages_and_calls_in_one_timeline(
    session, logged_in, admin
) -> None:
    user = factories.user(session, "100102", name="Matti Virtanen", emails=("matti@example.fi",))
    mail = factories.ticket(
        session, user=user, subject="Lasku hukassa", text="Missä lasku 1001020007 on?"
    )
    ticket_service.add_message(
        session, ticket=mail, kind=MessageKind.outgoing, text="Lähti tänään.", author=admin
    )
    session.commit()
    calls.log_call(
        session,
        by=admin,
        user=user,
        topic="Soitto eräpäivästä",
        notes="Neuvottu",
        duration_seconds=95,
    )
    other = factories.ticket(session, subject="Jonkun muun asia")
    page = logged_in.get("/users/100102")
    assert page.status_code == 200
    text = page.text
    assert "Lasku hukassa" in text and "Soitto eräpäivästä" in text
    assert "Missä lasku 1001020007 on?" in text and "Lähti tänään." in text
    assert "1:35" in text  # the call's duration
    assert other.subject not in text
    assert text.count('class="entry kind-') == 5  # 2 tickets opened, 2 mails, 1 call
    assert logged_in.get("/users/999999").status_code == 404


class _Slot:
    @hookimpl
    def helpdesk_user_page(self, request, session, user, agent):
        return Markup(
            "<section class='panel' data-testid='plugin-slot'>Laskut: {}</section>"
        ).format(user.etunnus)


def test_plugin_slot_on_the_user_page(session, logged_in) -> None:
    factories.user(session, "100233", name="Aino Korhonen")
    plugin = _Slot()
    get_plugin_manager().register(plugin, name="test-user-slot")
    try:
        page = logged_in.get("/users/100233")
    finally:
        get_plugin_manager().unregister(plugin)
    assert "data-testid='plugin-slot'>Laskut: 100233" in page.text


def test_admin_creates_and_anyone_edits(session, client, admin) -> None:
    agent = factories.agent(session)
    login(client, agent)
    assert client.get("/users/new").status_code == 403
    assert client.form("/users", {"etunnus": "100777", "name": "Uusi"}).status_code == 403
    user = factories.user(session, "100345", name="Juha Mäkinen")
    form = client.get("/users/100345/edit")
    assert form.status_code == 200
    saved = client.form(
        "/users/100345",
        {
            "name": "Juha Mäkinen",
            "emails": "juha@example.fi\nJUHA2@example.fi",
            "phones": "044 222 3344",
            "notes": "Puhuu ruotsia",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert people.emails_of(session, user) == ["juha@example.fi", "juha2@example.fi"]
    assert people.phones_of(session, user) == ["+358442223344"]
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "user.update")).one()
    assert event.agent_id == agent.id
    bad = client.form("/users/100345", {"name": "Juha", "phones": "12"})
    assert bad.status_code == 400 and "12" in bad.text and 'data-testid="form-error"' in bad.text

    login(client, admin)
    created = client.form(
        "/users",
        {"etunnus": "100777", "name": "Uusi Käyttäjä", "emails": "uusi@example.fi"},
        follow_redirects=False,
    )
    assert created.status_code == 303 and created.headers["location"] == "/users/100777"
    taken = client.form("/users", {"etunnus": "100777", "name": "Toinen"})
    assert taken.status_code == 409 and "100777" in taken.text
