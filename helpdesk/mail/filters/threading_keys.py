"""Keys that tie an incoming mail to an existing ticket: message ids and subject tags."""

from __future__ import annotations

import re

from helpdesk.mail.parsing.parsed import ParsedMail

_TICKET_TAG = re.compile(r"\[[^\[\]]*?#(\d{1,9})\s*\]")
_PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|vs|vl|vast|sv|vb|aw|wg|antw|tr|rv|odp|r)\s*(?:\[\d+\]|\(\d+\))?\s*:"
    r"|\[[^\[\]]*\])\s*",
    re.I,
)


def thread_candidates(mail: ParsedMail) -> list[str]:
    """Message ids to look up, best first: In-Reply-To, References newest first, bounce origin."""
    ids: list[str] = []
    if mail.in_reply_to:
        ids.append(mail.in_reply_to)
    ids.extend(reversed(mail.references))
    original = mail.annotations.get("bounce_original_message_id")
    if isinstance(original, str) and original:
        ids.append(original)
    return [i for i in dict.fromkeys(ids) if i != mail.message_id]


def subject_ticket_tag(subject: str) -> int | None:
    """Ticket number from a '[#1042]' or '[E-tunnus #1042]' tag in the subject."""
    m = _TICKET_TAG.search(subject or "")
    return int(m.group(1)) if m else None


def normalise_subject(subject: str) -> str:
    """Subject without reply/forward prefixes (Re:, VS:, SV:, AW:, Fwd: ...) or leading tags."""
    text = re.sub(r"\s+", " ", subject or "").strip()
    while True:
        stripped = _PREFIX.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    return text or re.sub(r"\s+", " ", subject or "").strip()


def annotate_threading(mail: ParsedMail) -> None:
    """Record thread candidates, the subject's ticket tag and the normalised subject."""
    mail.annotations["thread_candidates"] = thread_candidates(mail)
    mail.annotations["ticket_tag"] = subject_ticket_tag(mail.subject)
    mail.annotations["normalised_subject"] = normalise_subject(mail.subject)
