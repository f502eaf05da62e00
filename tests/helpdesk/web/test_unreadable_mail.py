"""A mail that could not be read fully: flagged on the ticket page and in the inbox, in
Finnish and English, with its original downloadable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import factories
import lxml.html
import pytest
from mailgen import mail
from sqlmodel import Session
from webclient import Client, login

from helpdesk.blobs import BlobStore
from helpdesk.mail.inbound import prepare as prepare_module
from helpdesk.mail.inbound.ingest import import_raw
from helpdesk.mail.inbound.rows import Source
from helpdesk.settings import get_settings

WORDS = {
    "fi": ("Viestiä ei voitu lukea kokonaan", "Lataa alkuperäinen viesti"),
    "en": ("Could not be read fully", "Download the original mail"),
}


@pytest.mark.parametrize("language", ["fi", "en"])
def test_the_flag_shows_on_the_ticket_and_in_the_inbox_with_the_original(
    session: Session,
    data_dir: Path,
    client: Client,
    monkeypatch: pytest.MonkeyPatch,
    language: str,
) -> None:
    logged_in = login(client, factories.agent(session, language=language))

    def parse(raw: bytes, **kwargs: Any) -> Any:
        raise RecursionError("too deep")

    monkeypatch.setattr(prepare_module, "parse_mail", parse)
    raw = mail(subject="Ei luettavissa")
    box = factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
    store = BlobStore(get_settings().blob_dir)
    result = import_raw(session, raw, source=Source(mailbox=box, folder="INBOX"), store=store)
    flag, download = WORDS[language]

    page = logged_in.get(f"/tickets/{result.ticket_id}")
    assert page.status_code == 200
    doc = lxml.html.document_fromstring(page.text)
    [article] = doc.xpath("//article[contains(@class, 'flag-unparsed')]")
    assert flag in article.xpath(".//span[contains(@class, 'chip')]")[0].text_content()
    [link] = article.xpath(".//p[contains(@class, 'unreadable')]/a")
    assert link.text_content() == download
    original = logged_in.get(link.get("href"))
    assert original.status_code == 200 and original.content == raw

    inbox = lxml.html.document_fromstring(logged_in.get("/tickets").text)
    [row] = inbox.xpath(f"//tr[@data-ticket='{result.ticket_id}']")
    assert flag in row.xpath(".//span[contains(@class, 'flag-unparsed')]")[0].text_content()
