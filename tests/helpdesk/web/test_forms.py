"""Page forms: how fields are read, and a field that cannot be read is the page's error."""

from __future__ import annotations

import pytest
from pydantic import BaseModel
from sqlmodel import select

from helpdesk.models import Mailbox
from helpdesk.web.forms import Checkbox, OptionalId


class Example(BaseModel):
    ref: OptionalId = None
    ticked: Checkbox = False


@pytest.mark.parametrize(
    ("text", "expected"), [("42", 42), (" 7 ", 7), ("²", None), ("٣", None), ("-1", None)]
)
def test_an_id_is_ascii_digits_or_none(text, expected):
    assert Example.model_validate({"ref": text}).ref == expected


@pytest.mark.parametrize(("fields", "ticked"), [({}, False), ({"ticked": "on"}, True)])
def test_a_checkbox_is_ticked_when_sent(fields, ticked):
    assert Example.model_validate(fields).ticked is ticked


@pytest.mark.parametrize("mailbox_id", ["²", "abc"])
def test_a_field_that_cannot_be_read_is_the_pages_error(session, logged_in, mailbox_id):
    fields = {"mailbox_id": mailbox_id, "to": "a@example.fi", "subject": "S", "body": "B"}
    page = logged_in.form("/tickets/new", fields)
    assert page.status_code == 400
    assert page.headers["content-type"].startswith("text/html")
    assert "Some fields are missing or invalid" in page.text or "Joitakin kenttiä" in page.text
    flash = logged_in.form("/tickets/new", fields, headers={"HX-Request": "true"})
    assert flash.status_code == 400
    assert flash.headers["HX-Retarget"] == "#flash"


def test_a_missing_required_field_is_the_pages_error(session, logged_in):
    page = logged_in.form("/admin/agents", {"name": "Nimi", "password": "salasana123"})
    assert page.status_code == 400
    assert page.headers["content-type"].startswith("text/html")


def test_ports_that_are_not_numbers_are_left_unset(session, logged_in):
    fields = {"address": "uusi@e-tunnus.fi", "imap_port": "²", "smtp_port": "x", "active": ""}
    assert logged_in.form("/admin/mailboxes", fields, follow_redirects=False).status_code == 303
    box = session.exec(select(Mailbox).where(Mailbox.address == "uusi@e-tunnus.fi")).one()
    assert (box.imap_port, box.smtp_port, box.active) == (None, None, False)


def test_a_junk_id_in_the_call_form_logs_the_call_without_a_ticket_choice(session, logged_in):
    saved = logged_in.form(
        "/calls",
        {"phone": "0401234567", "ticket_id": "²", "topic": "Soitto"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert saved.headers["location"].startswith("/tickets/")
