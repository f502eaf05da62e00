"""Finnish words for search: dictionary forms (lemmas), parts of compounds, folded letters.

A customer writes "pankin", "kadun", "kirjautumisessa"; the agent types "pankki", "katu",
"kirjautuminen". Prefix search cannot join them (consonant gradation: katu/kadun), so the
index keeps, beside each message's own words, the lemmas of its words and the parts of its
compounds ("sähköpostiin" → sähköposti, sähkö, posti), and a query word matches any lemma of
it. Both sides are folded (ä → a, ö → o, å → a, other accents dropped), so "paivitys" finds
"päivityksen".

The lemmas come from Voikko (Debian's libvoikko1 and voikko-fi, through the ``libvoikko``
binding, which loads ``libvoikko.so.1`` with ctypes). Without the library or its Finnish
dictionary the helpdesk still starts: it logs one warning and falls back to Snowball's
Finnish stemmer, which joins far fewer forms. Which of the two made a message's lemmas is
stored with it (``message.search_version``), so ``helpdesk search reindex`` redoes
exactly the messages the other one indexed.

One Voikko handle serves every thread behind a lock (libvoikko handles are not
thread-safe); each word is analysed once and then served from an LRU cache.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

log = logging.getLogger(__name__)

#: Words as the full-text indexes cut them (unicode61 on SQLite; PostgreSQL's parser cuts
#: the same words out of ordinary text).
WORD = re.compile(r"\w+", re.UNICODE)
#: Only this much of a message is lemmatised, as PostgreSQL indexes only this much of it.
MAX_CHARS = 200_000
#: Longer tokens are codes, hashes or URLs, not words.
MAX_WORD = 40
#: Distinct words whose lemmas are kept in memory.
CACHE_WORDS = 200_000

#: ``message.search_version`` of lemmas made by Voikko and by the Snowball fallback.
VOIKKO = 1
SNOWBALL = 2

# One item of Voikko's WORDBASES: "+posti(posti)", "+us(+us)" (a derivational suffix), "+sala".
_WORDBASE = re.compile(r"\+([^+(]*)(?:\(([^)]*)\))?")


def fold(word: str) -> str:
    """Lower case without accents: what both the index and a query compare."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@dataclass(frozen=True)
class Lemmatiser:
    """What turns one (lower-case) word into its lemmas and compound parts."""

    name: str
    version: int
    #: word -> (lemmas, parts of compounds), neither folded yet
    analyse: Callable[[str], tuple[tuple[str, ...], tuple[str, ...]]]
    #: an unknown word -> the known words it is when ä/ö/å are put back ("paivityksen" ->
    #: "päivityksen"), for queries typed without them
    respell: Callable[[str], tuple[str, ...]] = lambda word: ()
    #: an analysis means the word is in the dictionary (Voikko), not merely cut (a stemmer)
    knows_words: bool = False


def _compound_parts(wordbases: str) -> list[str]:
    """The parts of a compound from Voikko's WORDBASES, each as a word of its own.

    "+sähkö(sähkö)+posti(posti)" → sähkö, posti; a part with a derivational suffix keeps
    the suffix ("+maksu(maksu)+muistut(muistuttaa)+us(+us)" → maksu, muistutus).
    """
    groups: list[list[tuple[str, str]]] = []
    for surface, base in _WORDBASE.findall(wordbases):
        if base.startswith("+") and groups:
            groups[-1].append((surface, base))
        elif WORD.fullmatch(surface):
            groups.append([(surface, base or surface)])
    if len(groups) < 2:
        return []
    return [g[0][1] if len(g) == 1 else "".join(s for s, _ in g) for g in groups]


def _voikko() -> Lemmatiser:
    """Voikko's Finnish analyser; raises when the library or the dictionary is missing."""
    import libvoikko  # the binding is pure Python; the .so and the dictionary are Debian's

    handle: Any = libvoikko.Voikko("fi")
    lock = threading.Lock()

    def analyse(word: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        with lock:
            analyses = handle.analyze(word)
        lemmas: list[str] = []
        parts: list[str] = []
        for a in analyses:
            if base := a.get("BASEFORM"):
                lemmas.append(base)
            parts.extend(_compound_parts(a.get("WORDBASES", "")))
        return tuple(lemmas), tuple(parts)

    def respell(word: str) -> tuple[str, ...]:
        with lock:
            if handle.spell(word):
                return ()
            suggestions: list[str] = handle.suggest(word)
        folded = fold(word)
        return tuple(s for s in suggestions if s.lower() != word and fold(s) == folded)

    return Lemmatiser("voikko", VOIKKO, analyse, respell, knows_words=True)


def _snowball() -> Lemmatiser:
    import snowballstemmer

    stemmer: Any = snowballstemmer.stemmer("finnish")
    lock = threading.Lock()

    def analyse(word: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        with lock:
            stem = str(stemmer.stemWord(word))
        return (stem,), ()

    return Lemmatiser("snowball", SNOWBALL, analyse)


_chosen: Lemmatiser | None = None
_choose_lock = threading.Lock()


def lemmatiser() -> Lemmatiser:
    """Voikko if it loads, else the Snowball stemmer (with one warning)."""
    global _chosen
    if _chosen is None:
        with _choose_lock:
            if _chosen is None:
                try:
                    _chosen = _voikko()
                except Exception as exc:  # ImportError, OSError (no .so), VoikkoException
                    log.warning(
                        "Voikko is not available (%s): search falls back to Snowball's "
                        "Finnish stemmer; install the Debian packages libvoikko1 and "
                        "voikko-fi, then run `helpdesk search reindex`",
                        exc,
                    )
                    _chosen = _snowball()
                _terms.cache_clear()
                _query_word.cache_clear()
    return _chosen


def use(chosen: Lemmatiser | None) -> None:
    """Set the lemmatiser (None: choose again on next use). For tests and the bench."""
    global _chosen
    with _choose_lock:
        _chosen = chosen
        _terms.cache_clear()
        _query_word.cache_clear()


@lru_cache(maxsize=CACHE_WORDS)
def _terms(word: str) -> tuple[str, frozenset[str], frozenset[str], bool]:
    """(the word folded, its folded lemmas, its folded compound parts, whether the
    dictionary knows it): a lower-case word that is no word to lemmatise (a number, a
    code) has neither lemmas nor parts and is not known."""
    folded = fold(word)
    if not _lemmatisable(word):
        return folded, frozenset(), frozenset(), False
    chosen = lemmatiser()
    lemmas, parts = chosen.analyse(word)

    def clean(found: tuple[str, ...]) -> frozenset[str]:
        return frozenset(t for t in map(fold, found) if WORD.fullmatch(t) and t != folded)

    return folded, clean(lemmas), clean(parts), chosen.knows_words and bool(lemmas)


def _lemmatisable(word: str) -> bool:
    return (
        1 < len(word) <= MAX_WORD
        and WORD.fullmatch(word) is not None
        and not any(c.isdigit() for c in word)
    )


def index_terms(texts: Iterable[str | None]) -> str:
    """The words to index beside ``texts``: the lemmas and compound parts of their words
    that differ from the words themselves, folded, each once, space-separated."""
    own: set[str] = set()
    extra: set[str] = set()
    budget = MAX_CHARS
    for text in texts:
        if not text or budget <= 0:
            continue
        for word in set(WORD.findall(text[:budget].lower())):
            folded, lemmas, parts, _ = _terms(word)
            own.add(folded)
            extra |= lemmas
            extra |= parts
        budget -= len(text)
    return " ".join(sorted(extra - own))


@dataclass(frozen=True)
class QueryWord:
    """One word the agent typed: it matches a message that has ``prefix`` as a word, or
    any of ``lemmas`` as a word (or lemma, or compound part) of its own; a word the
    dictionary does not know (typed halfway, a name, a code) also as the start of a word.

    A known word needs no prefix match: its inflected forms and the compounds it is part
    of are found through their lemmas and parts, and an exact term is a cheap look-up in
    either full-text index, where a prefix of a common word ("lasku"*) merges the entries
    of every word that begins with it.
    """

    prefix: str
    lemmas: tuple[str, ...]
    #: match ``prefix`` as the start of a word too (False: as a whole word only); a known
    #: compound keeps it, as it may begin a longer compound
    as_prefix: bool = True


def query_word(token: str) -> QueryWord:
    """A typed word as the alternatives it stands for."""
    return _query_word(token.lower())


@lru_cache(maxsize=10_000)
def _query_word(word: str) -> QueryWord:
    folded, lemmas, parts, known = _terms(word)
    if not known and _lemmatisable(word):
        # Typed without ä/ö: the lemmas of the word spelled with them.
        for spelled in lemmatiser().respell(word):
            own, more, more_parts, known_spelled = _terms(spelled.lower())
            lemmas |= more | {own}
            parts |= more_parts
            known = known or known_spelled
    # A compound may begin a longer one ("verkkolasku": verkkolaskuosoite, whose indexed
    # parts are verkko, lasku, osoite), so it keeps its prefix match.
    as_prefix = not known or bool(parts)
    return QueryWord(folded, tuple(sorted(lemmas - {folded})), as_prefix=as_prefix)


def version() -> int:
    """``message.search_version`` for lemmas made now."""
    return lemmatiser().version
