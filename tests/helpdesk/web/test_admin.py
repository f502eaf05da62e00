"""Admin pages: mailboxes (secrets write-only) and agents; only admins, every change audited."""

from __future__ import annotations

import factories
import pytest
from sqlmodel import select
from webclient import login

from helpdesk.models import Agent, AuditEvent, Mailbox, Role


def _audit(session, action):
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)))


MAILBOX_FORM = {
    "address": "Laskut@E-tunnus.fi",
    "display_name": "E-tunnus laskut",
    "signature": "Ystävällisin terveisin\nE-tunnus",
    "active": "on",
    "imap_host": "imap.example.fi",
    "imap_port": "993",
    "imap_user": "laskut",
    "imap_password": "imap-salaisuus",
    "imap_security": "ssl",
    "smtp_host": "smtp.example.fi",
    "smtp_port": "587",
    "smtp_user": "laskut",
    "smtp_password": "smtp-salaisuus",
    "smtp_security": "starttls",
}


@pytest.mark.parametrize("path", ["/admin/mailboxes", "/admin/agents", "/admin/mailboxes/1"])
def test_admin_pages_refuse_plain_agents(session, client, path):
    login(client, factories.agent(session))
    assert client.get(path).status_code == 403


def test_plain_agent_cannot_post_admin_forms(session, client):
    login(client, factories.agent(session))
    response = client.form(
        "/admin/agents", {"email": "x@e-tunnus.fi", "name": "X", "password": "salasana-1"}
    )
    assert response.status_code == 403
    response = client.form("/admin/mailboxes", MAILBOX_FORM)
    assert response.status_code == 403
    assert session.exec(select(Mailbox)).all() == []


def test_admin_navigation_only_for_admins(session, logged_in, app):
    from webclient import Client

    assert 'href="/admin/agents"' in logged_in.get("/tickets").text
    with Client(app, base_url="http://testserver") as other:
        login(other, factories.agent(session))
        assert 'href="/admin/agents"' not in other.get("/tickets").text


def test_add_mailbox_and_secrets_are_never_shown(session, logged_in, admin):
    response = logged_in.form("/admin/mailboxes", MAILBOX_FORM, follow_redirects=False)
    assert response.status_code == 303
    box = session.exec(select(Mailbox)).one()
    assert box.address == "laskut@e-tunnus.fi"
    assert (box.imap_port, box.imap_password, box.smtp_password) == (
        993,
        "imap-salaisuus",
        "smtp-salaisuus",
    )
    for page in (logged_in.get("/admin/mailboxes"), logged_in.get(f"/admin/mailboxes/{box.id}")):
        assert page.status_code == 200
        assert "laskut@e-tunnus.fi" in page.text
        # The values; the page's own labels say "salaisuus" (the OAuth client secret).
        assert "imap-salaisuus" not in page.text and "smtp-salaisuus" not in page.text
    [event] = _audit(session, "mailbox.create")
    assert event.agent_id == admin.id
    assert "salaisuus" not in str(event.details)


def test_edit_mailbox_keeps_passwords_when_left_blank(session, logged_in, admin):
    box = factories.mailbox(
        session, "info@e-tunnus.fi", imap_password="vanha", smtp_password="vanha2"
    )
    form = MAILBOX_FORM | {
        "mailbox_id": str(box.id),
        "address": box.address,
        "display_name": "Uusi nimi",
        "imap_password": "",
        "smtp_password": "uusi-smtp",
    }
    logged_in.form("/admin/mailboxes", form)
    session.refresh(box)
    assert (box.display_name, box.imap_password, box.smtp_password) == (
        "Uusi nimi",
        "vanha",
        "uusi-smtp",
    )
    [event] = _audit(session, "mailbox.update")
    assert "display_name" in event.details["fields"]
    assert "smtp_password" in event.details["fields"]
    assert "imap_password" not in event.details["fields"]
    assert "uusi-smtp" not in str(event.details)


def test_invalid_mailbox_input_is_a_clear_error(session, logged_in):
    bad = logged_in.form("/admin/mailboxes", MAILBOX_FORM | {"imap_security": "tls"})
    assert bad.status_code == 400
    assert "tls" in bad.text
    factories.mailbox(session, "laskut@e-tunnus.fi")
    dup = logged_in.form("/admin/mailboxes", MAILBOX_FORM)
    assert dup.status_code == 409
    assert logged_in.get("/admin/mailboxes/999999").status_code == 404


def test_create_and_update_agent(session, logged_in, admin):
    response = logged_in.form(
        "/admin/agents",
        {
            "email": "Uusi@E-tunnus.fi",
            "name": "Uusi Agentti",
            "password": "salasana-123",
            "role": "agent",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    new = session.exec(select(Agent).where(Agent.email == "uusi@e-tunnus.fi")).one()
    assert new.role == Role.agent
    assert "Uusi Agentti" in logged_in.get("/admin/agents").text
    logged_in.form(f"/admin/agents/{new.id}", {"name": "Uusi Nimi", "role": "admin"})
    session.refresh(new)
    assert (new.name, new.role, new.active) == ("Uusi Nimi", Role.admin, False)
    created = [e for e in _audit(session, "agent.create") if e.object_id == str(new.id)]
    assert [e.agent_id for e in created] == [admin.id]
    [update] = _audit(session, "agent.update")
    assert update.details == {"name": "Uusi Nimi", "role": "admin", "active": False}
    assert logged_in.form("/admin/agents/999999", {"name": "x"}).status_code == 404


def test_admin_cannot_lock_themselves_out(session, logged_in, admin):
    logged_in.form(f"/admin/agents/{admin.id}", {"name": admin.name, "role": "agent"})
    session.refresh(admin)
    assert (admin.role, admin.active) == (Role.admin, True)


def test_admin_changing_own_password_stays_logged_in(session, logged_in, admin):
    response = logged_in.form(
        f"/admin/agents/{admin.id}",
        {"name": admin.name, "role": "admin", "active": "on", "password": "uusi-salasana-9"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert logged_in.get("/admin/agents").status_code == 200


def test_short_password_is_refused(session, logged_in):
    response = logged_in.form(
        "/admin/agents", {"email": "a@e-tunnus.fi", "name": "A", "password": "lyhyt"}
    )
    assert response.status_code == 400
    assert session.exec(select(Agent).where(Agent.email == "a@e-tunnus.fi")).first() is None
