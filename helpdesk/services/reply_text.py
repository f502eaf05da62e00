"""The one place that decides how a reply's text opens and closes.

A reply is the agent's text, then the agent's signature, then the mailbox's. Three things go
wrong when each part adds its own words without looking at the others, and each has its
rule here:

* Greeting: a saved reply's ``Hei {asiakas},`` becomes ``Hei,`` when the customer's name
  is not known (never ``Hei ,``): :func:`fill_variables`.
* Sign-off: when the text already ends with a sign-off (``Terveisin`` and a name, as saved
  replies do), a signature's own first line, if it is a sign-off, is left out, so the
  customer never reads two of them one after the other.
* Undo: the text put back into the composer is the agent's text without the signatures
  (:func:`unsigned`), so sending it again does not add them twice. Browsers send textarea
  lines ending in CRLF; every comparison here is made on LF text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from helpdesk.models import Agent, Mailbox

#: Closing phrases that end a Finnish or English mail before the writer's name.
SIGN_OFFS = (
    "ystävällisin terveisin",
    "parhain terveisin",
    "terveisin",
    "terv.",
    "t.",
    "kiitos",
    "best regards",
    "kind regards",
    "regards",
    "best wishes",
    "thanks",
    "thank you",
    "br",
)
#: How many lines after the sign-off line may still belong to it (a name, a title).
_SIGN_OFF_TAIL = 3


def normalise(text: str) -> str:
    """LF line ends (a browser's textarea sends CRLF)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def is_sign_off(line: str) -> bool:
    """Whether a line is a closing phrase such as ``Ystävällisin terveisin,``."""
    words = line.strip().rstrip(",!").strip().casefold()
    return words in SIGN_OFFS


def ends_with_sign_off(text: str) -> bool:
    """Whether one of the text's last few non-empty lines is a sign-off."""
    lines = [line for line in normalise(text).splitlines() if line.strip()]
    return any(is_sign_off(line) for line in lines[-(_SIGN_OFF_TAIL + 1) :])


def _signature_parts(agent: Agent | None, mailbox: Mailbox) -> list[str]:
    parts = [
        normalise(agent.signature if agent else "").strip(),
        normalise(mailbox.signature).strip(),
    ]
    return [part for part in parts if part]


def _without_sign_off(signature: str) -> str:
    first, _, rest = signature.partition("\n")
    return rest.strip() if is_sign_off(first) else signature


def signature_blocks(body: str, agent: Agent | None, mailbox: Mailbox) -> list[str]:
    """The signature blocks :func:`signed` adds below ``body``, in order."""
    text = normalise(body)
    signed_off = ends_with_sign_off(text)
    blocks: list[str] = []
    for signature in _signature_parts(agent, mailbox):
        if signature in text:
            continue
        if signed_off or any(ends_with_sign_off(block) for block in blocks):
            signature = _without_sign_off(signature)
        if signature:
            blocks.append(signature)
    return blocks


def signed(body: str, agent: Agent | None, mailbox: Mailbox) -> str:
    """The body with the agent's and then the mailbox's signature below it, one sign-off."""
    text = normalise(body).rstrip()
    blocks = signature_blocks(text, agent, mailbox)
    return "\n\n".join([text, *blocks]).strip("\n") + "\n"


def unsigned(text: str, agent: Agent | None, mailbox: Mailbox) -> str:
    """The agent's own text back from a signed one (what undo puts into the composer)."""
    rest = normalise(text).rstrip()
    parts = _signature_parts(agent, mailbox)
    candidates = [*parts, *(_without_sign_off(part) for part in parts)]
    changed = True
    while changed:
        changed = False
        for signature in sorted(set(candidates), key=len, reverse=True):
            if signature and rest.endswith(signature):
                rest = rest[: -len(signature)].rstrip()
                changed = True
    return rest + "\n" if rest else ""


_VARIABLE = re.compile(r"([ \t]*)\{(\w+)\}(?=(.?))")


def fill_variables(body: str, values: Mapping[str, str]) -> str:
    """``{name}`` replaced by ``values[name]``; unknown names stay as written. A variable
    with no value takes the space before it along when punctuation or the line's end
    follows, so ``Hei {asiakas},`` reads ``Hei,``."""

    def fill(match: re.Match[str]) -> str:
        space, name, after = match.groups()
        if name.lower() not in values:
            return match.group(0)
        value = values[name.lower()]
        if not value and (not after or after in ",.!?;:\n"):
            return ""
        return space + value

    return _VARIABLE.sub(fill, body)
