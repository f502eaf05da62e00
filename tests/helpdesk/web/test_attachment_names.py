"""Attachment names with bidi overrides, control characters or a directory part are shown
neutralised on the ticket page, in the API and in the download's Content-Disposition."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote

import factories
import lxml.html
import pytest
from sqlmodel import Session

from helpdesk.blobs import BlobStore
from helpdesk.limits import clean
from helpdesk.mail.parsing.filenames import neutral_filename
from helpdesk.mail.parsing.parse import parse_mail
from helpdesk.models import Attachment
from helpdesk.settings import get_settings

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
HOSTILE = {
    "lasku\u202efdp.exe": "laskufdp.exe",
    "\u2067kuva\u2069.png": "kuva.png",
    "rivi\r\nvaihto\x00\x1b[31m.txt": "rivivaihto[31m.txt",
    "..\\..\\Windows\\system32\\evil.dll": "evil.dll",
    "../../etc/passwd": "passwd",
    "\u202e..": "",
}


@pytest.mark.parametrize(("name", "shown"), HOSTILE.items())
def test_neutral_filename(name: str, shown: str) -> None:
    assert neutral_filename(name) == shown
    assert neutral_filename(name, "liite") == (shown or "liite")


def test_the_parser_stores_names_neutralised() -> None:
    raw = (
        b"From: a@example.fi\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
        b"Content-Type: text/plain\r\n\r\nhei\r\n--b\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; filename*=utf-8''lasku%E2%80%AEfdp.exe\r\n\r\n"
        b"%PDF\r\n--b--\r\n"
    )
    [att] = parse_mail(raw).attachments
    assert att.filename == "laskufdp.exe"


def test_stored_hostile_names_are_shown_and_downloaded_neutralised(
    session: Session, logged_in: Any, data_dir: Path
) -> None:
    store = BlobStore(get_settings().blob_dir)
    ticket = factories.ticket(session)
    message = factories.message(session, ticket, text="Liitteet")
    rows = []
    for name in HOSTILE:  # as stored before names were neutralised on the way in
        stored = clean(name)  # (PostgreSQL never took NUL)
        att = Attachment(message_id=message.id, filename=stored, size=1, sha256=store.put(b"x"))
        session.add(att)
        rows.append(att)
    session.commit()

    page = lxml.html.document_fromstring(logged_in.get(f"/tickets/{ticket.id}").text)
    links = page.xpath("//ul[@class='attachments']//a")
    expected = [shown or f"attachment-{att.id}" for att, shown in zip(rows, HOSTILE.values())]
    assert [a.text_content() for a in links] == expected

    api = logged_in.get(f"/api/v1/tickets/{ticket.id}").json()
    [shown] = [m for m in api["messages"] if m["attachments"]]
    assert [a["filename"] for a in shown["attachments"]] == expected

    for att, name in zip(rows, expected, strict=True):
        header = logged_in.get(f"/attachments/{att.id}").headers["content-disposition"]
        assert header.startswith("attachment;")
        assert not any(ch in unquote(header) for ch in BIDI + "\r\n\x00\x1b\\")
        assert name in unquote(header)
