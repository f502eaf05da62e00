"""Translations. Message ids are English; Finnish is the default language of the UI.

Catalogs are the ``.po`` files beside this module, compiled in memory at start-up, so no
build step is needed. Plugins ship their own (``helpdesk_translation_dirs``); the plugin
manager hands their folders to :func:`add_catalog_dirs` when it loads them, and each
language's catalog is the core's plus the plugins' messages the core does not have. The
language of the current request lives in a context variable.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

HERE = Path(__file__).parent
LANGUAGES = {"fi": "Suomi", "en": "English"}
DEFAULT_LANGUAGE = "fi"

current_language: ContextVar[str] = ContextVar("current_language", default=DEFAULT_LANGUAGE)

#: The plugins' catalog folders, in load order (see :func:`add_catalog_dirs`).
_plugin_dirs: list[Path] = []


def catalog_path(folder: Path, language: str) -> Path:
    """Where ``pybabel`` keeps ``language``'s catalog under ``folder``."""
    return folder / language / "LC_MESSAGES" / "messages.po"


def add_catalog_dirs(folders: Iterable[Path]) -> None:
    """Merge the catalogs in ``folders`` (each ``<language>/LC_MESSAGES/messages.po``)."""
    new = [Path(f) for f in folders if Path(f) not in _plugin_dirs]
    if new:
        _plugin_dirs.extend(new)
        translations.cache_clear()


def _read(po: Path, language: str) -> Catalog | None:
    if not po.exists():
        return None
    with po.open("rb") as fh:
        return read_po(fh, locale=language)


@cache
def translations(language: str) -> NullTranslations:
    """The compiled catalog of ``language`` (English falls through to the message ids)."""
    catalog = _read(catalog_path(HERE, language), language)
    for folder in _plugin_dirs:
        plugin = _read(catalog_path(folder, language), language)
        if plugin is None:
            continue
        if catalog is None:
            catalog = Catalog(locale=language)
        for message in plugin:
            if not (message.id and message.string):
                continue
            # A plugin adds words; the core's own keep the core's text.
            core = catalog.get(message.id, context=message.context)
            if core is None or not core.string:
                catalog.delete(message.id, context=message.context)
                catalog[message.id] = message
    if catalog is None:
        return NullTranslations()
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def gettext(message: str) -> str:
    return translations(current_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_language.get()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return str(translations(current_language.get()).pgettext(context, message))


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it (translated where shown)."""
    return message


_ = gettext
