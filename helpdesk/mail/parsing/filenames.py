"""Attachment file names made harmless to show and to hand to a browser.

A sender chooses the name: bidi controls can make ``lasku\u202efdp.exe`` read as
``laskuexe.pdf``, control characters can break a page or a header, and a directory part
(``../../x``) has no business in a download. ``neutral_filename`` removes all three; the
parser stores names through it, and the pages, the API and ``Content-Disposition`` show
stored names through it again (names stored before it came are neutralised too).
"""

from __future__ import annotations

import re

#: Bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) and the marks
#: (U+200E, U+200F, U+061C); C0 and C1 controls and DEL.
_UNSAFE = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\x00-\x1f\x7f-\x9f]")


def neutral_filename(name: str, fallback: str = "") -> str:
    """``name`` without bidi and control characters and without any directory part;
    ``fallback`` when nothing is left (or only ``.`` or ``..``)."""
    name = _UNSAFE.sub("", name).replace("\\", "/").rsplit("/", 1)[-1].strip()
    return fallback if name in ("", ".", "..") else name


__all__ = ["neutral_filename"]
