"""Admins edit the invoice email and the user notice; the defaults are Finnish."""

from __future__ import annotations

import factories
from webclient import login

from plugins.invoices.dispatch import texts


def test_admin_edits_the_notice_and_it_is_used(session, logged_in, client):
    page = logged_in.get("/admin/invoice-texts")
    assert page.status_code == 200 and "Laskusi {numero} on lähetetty" in page.text
    logged_in.form(
        "/admin/invoice-texts/user_notice",
        {"subject": "Lasku {numero} lähti", "body": "Hei {nimi}! Lasku {numero} lähti {tapa}."},
    )
    subject, body = texts.render_text(
        session, texts.USER_NOTICE, {"numero": "1001020007", "nimi": "Matti", "tapa": "postitse"}
    )
    assert (subject, body) == (
        "Lasku 1001020007 lähti",
        "Hei Matti! Lasku 1001020007 lähti postitse.",
    )
    logged_in.form("/admin/invoice-texts/user_notice", {"subject": "", "body": ""})
    assert texts.get_text(session, texts.USER_NOTICE)[1] == texts.DEFAULTS["user_notice"].body


def test_only_admins_edit_texts(session, client):
    login(client, factories.agent(session))
    assert client.get("/admin/invoice-texts").status_code == 403


def test_unknown_placeholders_and_stray_braces_never_fail():
    assert texts.fill("{numero} {tuntematon}", {"numero": "1"}) == "1 {tuntematon}"
    assert texts.fill("kaarisulje { auki", {}) == "kaarisulje { auki"
    assert texts.how_sent("email", "a@example.fi") == "sähköpostilla osoitteeseen a@example.fi"
    assert texts.how_sent("post", "") == "postitse"


def test_text_titles_follow_the_ui_language(session, logged_in):
    page = logged_in.get("/admin/invoice-texts").text
    assert "Ilmoitus käyttäjälle lähetetystä laskusta" in page
    logged_in.form("/language", {"language": "en", "next": "/admin/invoice-texts"})
    page = logged_in.get("/admin/invoice-texts").text
    assert "Notice to the user that the invoice was sent" in page
    assert "Ilmoitus käyttäjälle" not in page
