"""Text made to fit the schema's lengths: cleaned, split over repeated elements, or cut.

The XSD counts characters (not bytes) and most texts are ``xs:string`` with a minimum and a
maximum length. Every text we write is first cleaned to one line of XML-safe characters
(guideline 9.2: no spaces next to the tags), then either split over the elements the schema
lets repeat (names, street lines, free texts) or, where the schema allows only one and the
text is a label, cut at a word boundary.
"""

from __future__ import annotations

import re

# Characters XML 1.0 cannot carry (controls other than tab/newline/return, surrogates,
# U+FFFE/U+FFFF); tabs and newlines become spaces when whitespace is collapsed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(text: str) -> str:
    """One line: XML-safe characters, whitespace runs collapsed to one space, no ends."""
    return " ".join(_NOT_XML.sub("", text).split())


def split_text(text: str, max_length: int, min_length: int = 1) -> list[str]:
    """Split cleaned text into pieces of ``min_length..max_length`` characters, at spaces.

    A word longer than ``max_length`` is cut. Text shorter than ``min_length`` gives no
    pieces (the caller decides whether that is missing data).
    """
    text = clean(text)
    if len(text) < min_length:
        return []
    pieces: list[str] = []
    current = ""
    for word in text.split(" "):
        while len(word) > max_length:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(word[:max_length])
            word = word[max_length:]
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= max_length:
            current = f"{current} {word}"
        else:
            pieces.append(current)
            current = word
    if current:
        pieces.append(current)
    if len(pieces) > 1 and len(pieces[-1]) < min_length:
        pieces[-2:] = _rebalance(pieces[-2], pieces[-1], max_length, min_length)
    return pieces


def _rebalance(previous: str, last: str, max_length: int, min_length: int) -> list[str]:
    """Two pieces from a full one and a too short tail: move the boundary back."""
    space = previous.rfind(" ")
    if space >= min_length:
        tail = f"{previous[space + 1 :]} {last}"
        if len(tail) <= max_length:
            return [previous[:space], tail]
    need = min_length - len(last)
    return [previous[:-need].rstrip(), f"{previous[-need:]} {last}"]


def cut(text: str, max_length: int) -> str:
    """Cleaned text cut to ``max_length`` characters, at a word boundary when there is one."""
    text = clean(text)
    if len(text) <= max_length:
        return text
    head = text[: max_length + 1]
    boundary = head.rfind(" ")
    return (head[:boundary] if boundary > 0 else text[:max_length]).rstrip()
