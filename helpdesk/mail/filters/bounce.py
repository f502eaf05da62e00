"""Recognise delivery failures and find which of our messages bounced, to whom and why."""

from __future__ import annotations

import re
from typing import Any

from helpdesk.mail.parsing.decode import normalise_msgid
from helpdesk.mail.parsing.parsed import ParsedMail

BOUNCE_SUBJECT = re.compile(
    r"^\s*(?:undeliver(?:ed|able)\b|delivery status notification \((?:failure|delay)\)"
    r"|mail delivery (?:failed|failure|subsystem)|delivery failure|failure notice"
    r"|returned mail|toimitus epäonnistui|ei voitu toimittaa|viestiä ei voitu toimittaa"
    r"|olevererbart|det gick inte att leverera|unzustellbar|non remis"
    r"|mail system error)",
    re.I,
)
_DAEMONS = ("mailer-daemon", "mail-daemon", "mailerdaemon")
_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_FIELD = re.compile(r"^([A-Za-z-]+):[ \t]*(.*(?:\n[ \t]+.*)*)", re.M)
_MSGID_LINE = re.compile(r"^\s*Message-ID:\s*(<[^>\n]+>|\S+)", re.I | re.M)
_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")


def _fields(block: str) -> dict[str, str]:
    return {
        m.group(1).lower(): re.sub(r"\s+", " ", m.group(2)).strip() for m in _FIELD.finditer(block)
    }


def _recipient_status(delivery_status: str) -> dict[str, Any]:
    """The first failed (else first) per-recipient block of a message/delivery-status."""
    blocks = [_fields(b) for b in re.split(r"\n\s*\n", delivery_status.replace("\r", ""))]
    recipients = [b for b in blocks if "final-recipient" in b or "original-recipient" in b]
    if not recipients:
        return {}
    chosen = next((b for b in recipients if b.get("action", "").lower() == "failed"), recipients[0])
    recipient = chosen.get("final-recipient") or chosen.get("original-recipient", "")
    status = _STATUS.search(chosen.get("status", ""))
    return {
        "bounce_recipient": recipient.split(";", 1)[-1].strip().strip("<>").lower() or None,
        "bounce_status": status.group(1) if status else None,
        "bounce_action": chosen.get("action", "").lower() or None,
        "bounce_diagnostic": chosen.get("diagnostic-code") or None,
    }


def _original_message_id(mail: ParsedMail, report: dict[str, Any]) -> str | None:
    headers = report.get("original_headers")
    if headers:
        m = _MSGID_LINE.search(headers)
        if m:
            return normalise_msgid(m.group(1))
    for embedded in mail.annotations.get("embedded_messages", []):
        if embedded.get("message_id"):
            return str(embedded["message_id"])
    for m in _MSGID_LINE.finditer(mail.text):
        found = normalise_msgid(m.group(1))
        if found and found != mail.message_id:
            return found
    return None


def _is_bounce(mail: ParsedMail, report: dict[str, Any]) -> bool:
    if report.get("report_type") == "delivery-status":
        return True
    # People do write from postmaster@, so only a mailer daemon counts on its own.
    local = (mail.from_address or "").split("@", 1)[0]
    return local in _DAEMONS or bool(BOUNCE_SUBJECT.match(mail.subject))


def detect_bounce(mail: ParsedMail) -> None:
    """Flag 'bounce' and note the original Message-ID, failed recipient and status code."""
    report: dict[str, Any] = mail.annotations.get("report") or {}
    if not _is_bounce(mail, report):
        return
    mail.flags.add("bounce")
    found: dict[str, Any] = _recipient_status(report.get("delivery_status") or "")
    if not found.get("bounce_recipient"):
        failed = mail.header("X-Failed-Recipients")
        address = _ADDRESS.search(failed or "")
        if address:
            found["bounce_recipient"] = address.group(0).lower()
    if not found.get("bounce_status"):
        status = _STATUS.search(mail.text)
        found["bounce_status"] = status.group(1) if status else None
    status_code = found.get("bounce_status")
    found["bounce_permanent"] = status_code.startswith("5") if status_code else None
    found["bounce_original_message_id"] = _original_message_id(mail, report)
    mail.annotations.update({k: v for k, v in found.items() if v is not None})
