"""Translations: every UI string has Finnish text, key-like ids have English, placeholders survive.

The msgids are extracted here with Babel's own API and each catalog's babel.cfg, exactly as
``make messages`` does, so a new untranslated string in a template or in Python fails
this test rather than showing up in English to a Finnish agent. The core and the invoice
plugin each have their own catalogs; the core merges the plugin's at start-up.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import factories
import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from webclient import login

from helpdesk import i18n
from helpdesk.i18n import keys
from helpdesk.plugins import collect, hook

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "plugins" / "invoices"


@dataclass(frozen=True)
class Catalogs:
    """One set of catalogs and the extraction that feeds it, as ``make messages`` runs it."""

    name: str
    #: Where extraction starts; babel.cfg's paths are relative to it.
    root: Path
    config: Path
    #: The ``<language>/LC_MESSAGES/messages.po`` files are below it.
    folder: Path


CORE = Catalogs("core", ROOT, ROOT / "babel.cfg", i18n.HERE)
INVOICES = Catalogs("invoices", PLUGIN, PLUGIN / "babel.cfg", PLUGIN / "i18n")
ALL_CATALOGS = pytest.mark.parametrize("catalogs", [CORE, INVOICES], ids=lambda c: c.name)
# The same keywords as `make messages`.
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2), "N_": None}
PLACEHOLDER = re.compile(r"%\(\w+\)[sdifr]|%[sdifr]|\{\w*\}")
KEY_LIKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")


def _catalog(language: str, catalogs: Catalogs = CORE) -> Catalog:
    with i18n.catalog_path(catalogs.folder, language).open("rb") as fh:
        return read_po(fh, locale=language)


def _extract(catalogs: Catalogs) -> dict[tuple[str | None, str], list[str]]:
    """(context, msgid) → where it is used, from templates and Python sources."""
    with catalogs.config.open() as fh:
        method_map, options_map = parse_mapping_cfg(fh, str(catalogs.config))
    found: dict[tuple[str | None, str], list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(catalogs.root), method_map, options_map, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault((context, msgid), []).append(f"{filename}:{lineno}")
    return found


EXTRACTED: dict[str, dict[tuple[str | None, str], list[str]]] = {}


@pytest.fixture
def extracted(catalogs: Catalogs) -> dict[tuple[str | None, str], list[str]]:
    if catalogs.name not in EXTRACTED:
        EXTRACTED[catalogs.name] = _extract(catalogs)
    return EXTRACTED[catalogs.name]


@pytest.mark.parametrize("catalogs", [CORE], ids=["core"])
def test_extraction_sees_templates_python_and_keys(extracted):
    ids = {msgid for _ctx, msgid in extracted}
    assert "Log in" in ids  # a template string
    assert "Wrong email or password" in ids  # a service error marked with N_
    assert "Inbox" in ids  # a navigation label in Python
    assert set(keys.ALL) <= ids  # key-like ids built in templates
    assert "Unsent invoices" not in ids  # the plugin's strings are in its own catalogs


@pytest.mark.parametrize("catalogs", [INVOICES], ids=["invoices"])
def test_the_plugin_extracts_its_own_strings(extracted):
    ids = {msgid for _ctx, msgid in extracted}
    assert "Unsent invoices" in ids  # the queue page's heading
    assert "Korjattavat" in ids
    assert "Log in" not in ids


def test_the_plugin_catalogs_join_the_core_at_start_up():
    assert collect(hook().helpdesk_translation_dirs()) == [INVOICES.folder]
    fi = _catalog("fi", INVOICES).get("Unsent invoices")
    assert fi is not None and fi.string
    assert i18n.translations("fi").gettext("Unsent invoices") == fi.string
    assert i18n.translations("fi").gettext("Inbox") == _catalog("fi").get("Inbox").string  # type: ignore[union-attr]


@ALL_CATALOGS
def test_every_extracted_msgid_has_a_finnish_translation(extracted, catalogs):
    fi = _catalog("fi", catalogs)
    missing = []
    for (context, msgid), where in sorted(extracted.items(), key=lambda kv: kv[0][1]):
        entry = fi.get(msgid, context=context)
        texts = entry.string if entry else ""
        texts = texts if isinstance(texts, tuple) else (texts,)
        if entry is None or entry.fuzzy or not all(t.strip() for t in texts):
            missing.append(f"{msgid!r} ({where[0]})")
    assert not missing, "no Finnish text for:\n" + "\n".join(missing)


@ALL_CATALOGS
def test_english_catalog_gives_text_to_every_key_like_msgid(extracted, catalogs):
    en = _catalog("en", catalogs)
    core_keys = set(keys.ALL) if catalogs is CORE else set()
    key_like = core_keys | {msgid for _ctx, msgid in extracted if KEY_LIKE.match(msgid)}
    missing = sorted(k for k in key_like if not (en.get(k) and en.get(k).string))  # type: ignore[union-attr]
    assert not missing, f"no English text for key-like msgids: {missing}"
    leaked = sorted(k for k in key_like if en.get(k).string == k)  # type: ignore[union-attr]
    assert not leaked, f"English text is the key itself: {leaked}"


@ALL_CATALOGS
@pytest.mark.parametrize("language", ["fi", "en"])
def test_translations_keep_their_placeholders(language, catalogs):
    wrong = []
    for entry in _catalog(language, catalogs):
        if not entry.id or not entry.string:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        texts = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        wanted = Counter(PLACEHOLDER.findall(ids[-1]))
        for text in texts:
            if Counter(PLACEHOLDER.findall(text)) != wanted:
                wrong.append(f"{entry.id!r} -> {text!r}")
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


@ALL_CATALOGS
@pytest.mark.parametrize("language", ["fi", "en"])
def test_catalog_has_no_duplicate_or_fuzzy_entries(language, catalogs):
    """Several people append to the catalogs; a duplicate msgid breaks msgfmt and hides text."""
    path = i18n.catalog_path(catalogs.folder, language)
    seen: Counter[tuple[str, str]] = Counter()
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        lines = [ln for ln in block.splitlines() if not ln.startswith("#~")]
        text = "\n".join(lines)
        msgid = re.search(r'^msgid ("(?:[^"\\]|\\.)*"(?:\n"(?:[^"\\]|\\.)*")*)', text, re.M)
        if msgid is None:
            continue
        ctx = re.search(r'^msgctxt ("(?:[^"\\]|\\.)*")', text, re.M)
        seen[(ctx.group(1) if ctx else "", msgid.group(1))] += 1
    duplicates = [key for key, n in seen.items() if n > 1]
    assert not duplicates, f"duplicate entries in {language}: {duplicates}"
    assert not [m.id for m in _catalog(language, catalogs) if m.id and m.fuzzy]


@pytest.mark.parametrize("language", ["fi", "en"])
def test_a_msgid_both_catalogs_have_reads_the_same(language):
    """The merged catalog keeps the core's text for a shared msgid; the plugin's must agree."""
    core = _catalog(language)
    differ = [
        f"{m.id!r}: {m.string!r} (core {c.string!r})"
        for m in _catalog(language, INVOICES)
        if m.id
        and m.string
        and (c := core.get(m.id, context=m.context))
        and c.string
        and c.string != m.string
    ]
    assert not differ, "the plugin words a core msgid differently:\n" + "\n".join(differ)


def test_login_page_is_finnish_by_default_and_english_after_switching(session, client):
    page = client.get("/login")
    assert '<html lang="fi">' in page.text
    assert "Kirjaudu sisään" in page.text
    assert "Salasana" in page.text
    assert "Log in" not in page.text

    agent = factories.agent(session, name="Kielivaihtaja")
    login(client, agent)
    answer = client.form("/language", {"language": "en", "next": "/login"}, follow_redirects=False)
    assert answer.status_code == 303  # type: ignore[attr-defined]

    page = client.get("/login")
    assert '<html lang="en">' in page.text
    assert "Log in" in page.text
    assert "Kirjaudu sisään" not in page.text

    client.form("/language", {"language": "fi", "next": "/tickets"})
    assert "Kirjaudu sisään" in client.get("/login").text


def test_key_like_labels_render_as_words_in_both_languages(session, logged_in):
    box = factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
    ticket = factories.ticket(session, subject="Lasku ei lähtenyt", mailbox=box)

    page = logged_in.get(f"/tickets/{ticket.id}").text
    for finnish in ("Avoin", "Saapunut", "Avaa uudelleen", "Sulje", "Sisäinen muistiinpano"):
        assert finnish in page
    assert "action_" not in page and "kind_" not in page

    logged_in.form("/language", {"language": "en", "next": "/tickets"})
    page = logged_in.get(f"/tickets/{ticket.id}").text
    for english in ("Open", "Incoming", "Reopen", "Mark pending", "Close"):
        assert english in page
    assert "action_" not in page and "kind_" not in page


def test_service_errors_reach_the_agent_in_finnish(session, client):
    agent = factories.agent(session)
    client.refresh_csrf("/login")
    page = client.form("/login", {"email": agent.email, "password": "väärä-salasana"})
    assert "Väärä sähköpostiosoite tai salasana." in page.text  # type: ignore[attr-defined]


def test_a_plugin_catalog_adds_words_and_never_changes_the_cores(tmp_path, monkeypatch):
    po = i18n.catalog_path(tmp_path, "fi")
    po.parent.mkdir(parents=True)
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "Inbox"\nmsgstr "Postilaatikko"\n\n'
        'msgid "A plugin word"\nmsgstr "Liitännäisen sana"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(i18n, "_plugin_dirs", list(i18n._plugin_dirs))
    i18n.add_catalog_dirs([tmp_path])
    try:
        fi = i18n.translations("fi")
        assert fi.gettext("A plugin word") == "Liitännäisen sana"
        assert fi.gettext("Inbox") == "Saapuneet"
    finally:
        i18n.translations.cache_clear()
