"""Notifications in the app: the badge, the list, opening by POST, following, mentions shown."""

from __future__ import annotations

import factories
from sqlmodel import select
from webclient import Client, login

from helpdesk.models import Agent, Notification
from helpdesk.services import notifications
from helpdesk.services import tickets as ticket_service


def _note(session, ticket, by, text):
    return ticket_service.add_note(session, ticket=ticket, text=text, by=by)


def test_badge_list_and_opening_marks_read(app, session, logged_in, admin):
    colleague = factories.agent(session, name="Bertta Kollega")
    ticket = factories.ticket(session, subject="Lasku ei näy")
    note = _note(session, ticket, colleague, f"@{admin.email} voitko katsoa?")

    badge = logged_in.get("/notifications/badge")
    assert 'data-testid="unread-count">1<' in badge.text
    assert 'hx-trigger="every 30s"' in badge.text  # the page's own bell asks once on load
    assert 'hx-trigger="load, every 30s"' in logged_in.get("/tickets").text

    page = logged_in.get("/notifications")
    assert f"Bertta Kollega mainitsi sinut tiketissä #{ticket.number}" in page.text
    assert "Lasku ei näy" in page.text and 'class="notification unread"' in page.text
    [row] = session.exec(select(Notification).where(Notification.agent_id == admin.id)).all()

    opened = logged_in.form(f"/notifications/{row.id}/open", {}, follow_redirects=False)
    assert opened.status_code == 303
    assert opened.headers["location"] == f"/tickets/{ticket.id}#m{note.id}"
    assert 'data-testid="unread-count"' not in logged_in.get("/notifications/badge").text
    shown = logged_in.get(f"/tickets/{ticket.id}").text
    assert '<mark class="mention"' in shown and "@Anna Admin</mark>" in shown


def test_someone_elses_notification_cannot_be_opened_or_marked(app, session, logged_in):
    other = factories.agent(session)
    writer = factories.agent(session)
    ticket = factories.ticket(session)
    notifications.follow(session, ticket=ticket, agent=other)
    _note(session, ticket, writer, "muistiinpano")
    [row] = session.exec(select(Notification).where(Notification.agent_id == other.id)).all()
    assert logged_in.form(f"/notifications/{row.id}/open", {}).status_code == 404
    assert logged_in.form(f"/notifications/{row.id}/read", {}).status_code == 404
    logged_in.form("/notifications/read-all", {})
    session.refresh(row)
    assert row.read_at is None


def test_mark_read_and_mark_all_read(app, session, logged_in, admin):
    writer = factories.agent(session)
    ticket = factories.ticket(session)
    notifications.follow(session, ticket=ticket, agent=admin)
    for n in range(3):
        _note(session, ticket, writer, f"muistiinpano {n}")
    rows = session.exec(select(Notification).where(Notification.agent_id == admin.id)).all()
    logged_in.form(f"/notifications/{rows[0].id}/read", {})
    assert notifications.unread_count(session, admin) == 2
    assert (
        logged_in.get("/notifications?unread=true").text.count('data-testid="open-notification"')
        == 2
    )
    logged_in.form("/notifications/read-all", {})
    assert notifications.unread_count(session, admin) == 0
    assert "Ei ilmoituksia." in logged_in.get("/notifications?unread=true").text


def test_follow_and_unfollow_from_the_ticket_page(app, session, logged_in, admin):
    ticket = factories.ticket(session)
    page = logged_in.get(f"/tickets/{ticket.id}").text
    assert 'data-testid="follow"' in page and "Kukaan ei seuraa tätä tikettiä." in page
    panel = logged_in.form(f"/tickets/{ticket.id}/follow", {}, headers={"HX-Request": "true"})
    assert 'data-testid="unfollow"' in panel.text and "Anna Admin" in panel.text
    assert notifications.is_following(session, ticket_id=ticket.id, agent=admin)
    logged_in.form(f"/tickets/{ticket.id}/unfollow", {})
    assert not notifications.is_following(session, ticket_id=ticket.id, agent=admin)


def test_the_email_setting_on_the_profile_page(app, session, logged_in, admin):
    page = logged_in.get("/profile").text
    assert "Myös sähköpostiin" in page and 'value="off" selected' in page
    logged_in.form("/notifications/settings", {"notify_email": "immediately"})
    session.refresh(admin)
    assert admin.notify_email == "immediately"
    assert logged_in.form("/notifications/settings", {"notify_email": "hourly"}).status_code == 400
    session.refresh(admin)
    assert admin.notify_email == "immediately"


def test_pages_in_english(app, session, logged_in, admin):
    writer = factories.agent(session, name="Bertta")
    ticket = factories.ticket(session)
    ticket_service.assign(session, ticket=ticket, assignee=admin, by=writer)
    logged_in.form("/language", {"language": "en", "next": "/notifications"})
    page = logged_in.get("/notifications").text
    assert f"Bertta assigned #{ticket.number} to Anna Admin" in page
    assert "Mark all read" in page
    assert "Also by email" in logged_in.get("/profile").text
    assert "Followers" in logged_in.get(f"/tickets/{ticket.id}").text


def test_a_notification_page_needs_a_login(client: Client, session) -> None:
    assert client.get("/notifications", follow_redirects=False).status_code in (302, 303, 401)
    agent: Agent = factories.agent(session)
    login(client, agent)
    assert client.get("/notifications").status_code == 200
