"""OAuth mailboxes on the pages: the admins' banner on every page, the sign-in state."""

from __future__ import annotations

import factories
from sqlmodel import Session
from webclient import login

from helpdesk.services.oauth import grants


def _oauth_mailbox(session: Session, address: str = "info@e-tunnus.fi"):
    mailbox = factories.mailbox(session, address)
    oauth = grants.configure(
        session,
        mailbox=mailbox,
        provider="microsoft",
        tenant="e-tunnus.fi",
        client_id="client-1",
        client_secret="client-salaisuus",
    )
    grants.save_grant(
        session,
        mailbox=mailbox,
        grant=grants.Grant("refresh-salaisuus", account="palvelu@e-tunnus.fi"),
    )
    return mailbox, oauth


def test_admins_see_a_banner_on_every_page_until_the_mailbox_is_reconnected(
    session, client, logged_in
) -> None:
    mailbox, oauth = _oauth_mailbox(session)
    assert 'data-testid="mailbox-reconnect"' not in logged_in.get("/tickets").text
    grants.mark_needs_reconnect(session, oauth=oauth, reason="microsoft: invalid_grant")

    for path in ("/tickets", "/dashboard", "/calls", "/admin/mailboxes"):
        page = logged_in.get(path).text
        assert 'data-testid="mailbox-reconnect"' in page, path
        assert f'href="/admin/mailboxes/{mailbox.id}"' in page
        assert "info@e-tunnus.fi on yhdistettävä uudelleen" in page  # Finnish first

    form = logged_in.get(f"/admin/mailboxes/{mailbox.id}").text
    assert "yhdistettävä uudelleen" in form and "microsoft: invalid_grant" in form
    assert "palvelu@e-tunnus.fi" in form
    for secret in ("client-salaisuus", "refresh-salaisuus"):
        assert secret not in form

    grants.save_grant(session, mailbox=mailbox, grant=grants.Grant("rt-2"))
    assert 'data-testid="mailbox-reconnect"' not in logged_in.get("/tickets").text


def test_plain_agents_see_no_banner(session, client) -> None:
    _, oauth = _oauth_mailbox(session)
    grants.mark_needs_reconnect(session, oauth=oauth, reason="google: invalid_grant")
    login(client, factories.agent(session))
    assert 'data-testid="mailbox-reconnect"' not in client.get("/tickets").text


def test_the_mailbox_list_says_how_each_mailbox_signs_in(session, logged_in) -> None:
    factories.mailbox(session, "salasana@e-tunnus.fi", imap_host="imap.example.fi")
    _oauth_mailbox(session)
    page = logged_in.get("/admin/mailboxes").text
    assert "salasana" in page and "OAuth" in page and "yhdistetty" in page
