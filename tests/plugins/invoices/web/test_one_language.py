"""One language at a time: no page shows the other language's catalog text.

Every page of the app (the invoice plugin installed, with demo data) is read in English and
in Finnish. In the English page no Finnish text of either catalog may appear, and in the
Finnish page no English text that has a Finnish translation, except inside elements
marked with the other language (``lang="fi"``: the Finnish detail of an invoice check).
A string written into a template or code without the catalogs, or a reason made in one
language, fails here.
"""

from __future__ import annotations

from pathlib import Path

import lxml.html
from app_pages import app_pages, seed_demo
from babel.messages.pofile import read_po
from netvisor_sandbox import NetvisorSandbox
from sqlmodel import Session, select

from helpdesk import i18n
from plugins.invoices.models import Invoice

ROOT = Path(__file__).resolve().parents[4]
CATALOGS = [i18n.HERE, ROOT / "plugins" / "invoices" / "i18n"]
#: Shorter strings are words the two languages share or names ("OK", "Netvisor", "Admin").
MIN_LENGTH = 12


def _pairs() -> list[tuple[str, str]]:
    pairs = []
    for folder in CATALOGS:
        with i18n.catalog_path(folder, "fi").open("rb") as fh:
            catalog = read_po(fh, locale="fi")
        for message in catalog:
            if not message.id or not isinstance(message.id, str) or not message.string:
                continue
            fi = str(message.string)
            if fi != message.id and "%" not in fi and "{" not in fi and " " in fi:
                pairs.append((message.id, fi))
    return pairs


def _text(html: str) -> str:
    doc = lxml.html.fromstring(html)
    for element in doc.xpath("//script|//style|//*[@lang and @lang!=/html/@lang]"):
        element.drop_tree()
    return " ".join(" ".join(doc.itertext()).split())


def test_each_page_speaks_one_language(
    session: Session, logged_in, netvisor_env: NetvisorSandbox
) -> None:
    seed_demo(session, netvisor_env)
    pairs = [(en, fi) for en, fi in _pairs() if len(en) >= MIN_LENGTH and len(fi) >= MIN_LENGTH]
    # The checks' own reasons are Finnish sentences made by the rules (not catalog text):
    # an English page may show them only marked as Finnish.
    reasons = {
        str(check["reason"])
        for invoice in session.exec(select(Invoice)).all()
        for check in invoice.checks
        if len(str(check.get("reason", ""))) >= MIN_LENGTH
    }
    assert reasons
    mixed: list[str] = []
    for language in ("en", "fi"):
        logged_in.form("/language", {"language": language, "next": "/tickets"})
        for path in app_pages(session, every_invoice=True):
            page = logged_in.get(path)
            assert page.status_code == 200, path
            text = _text(page.text)
            for en, fi in pairs:
                other = fi if language == "en" else en
                if other in text:
                    mixed.append(f"{path} ({language}): {other!r}")
            if language == "en":
                mixed += [f"{path} (en): {r!r}" for r in reasons if r in text]
    assert not mixed, "\n".join(sorted(set(mixed))[:40])
