"""Recognising mail we have already: the same copy, the same mail elsewhere, our own mail.

Rules, in order:

1. The same server copy (mailbox, folder, UIDVALIDITY, UID) is never read twice.
2. The same Message-ID with the same bytes, or the same bytes apart from trace headers
   (the copy that went to both ``asiakaspalvelu@`` and ``info@``), is one mail: the
   second arrival is recorded as a duplicate of the first message.
3. Mail without a Message-ID is the same mail only when its bytes are identical.
4. The same Message-ID with different content is a different mail (some senders reuse
   ids): it is imported and flagged ``duplicate_message_id``, never silently dropped.

Here are the content hash and what marks our own mail; ``lookup.BatchLookup`` asks the
database, for a whole group at once.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from helpdesk.mail.compose import LOOP_HEADER
from helpdesk.mail.parsing.parsed import ParsedMail
from helpdesk.settings import get_settings

# Header fields that transport adds on the way into a mailbox; they differ between the
# copies of one mail delivered to two mailboxes, so the content hash leaves them out.
_TRACE_FIELDS = frozenset(
    {
        b"received",
        b"return-path",
        b"delivered-to",
        b"x-original-to",
        b"x-delivered-to",
        b"envelope-to",
        b"x-envelope-to",
        b"x-envelope-from",
        b"authentication-results",
        b"received-spf",
        b"arc-seal",
        b"arc-message-signature",
        b"arc-authentication-results",
        b"x-rcpt-to",
        b"x-original-recipient",
    }
)
_TRACE_PREFIXES = (b"x-spam-", b"x-virus-", b"x-rspamd-", b"x-ms-exchange-organization-")
_HEADER_END = re.compile(rb"\r?\n\r?\n")


def _is_trace(field: bytes) -> bool:
    name = field.split(b":", 1)[0].strip().lower()
    return name in _TRACE_FIELDS or name.startswith(_TRACE_PREFIXES)


def content_sha256(raw: bytes) -> str:
    """SHA-256 of the mail without its trace header fields (see ``_TRACE_FIELDS``)."""
    match = _HEADER_END.search(raw)
    if match is None:
        return content_digest(raw, ())
    # A memoryview: the body is hashed without copying it.
    return content_digest(raw[: match.start()], (memoryview(raw)[match.start() :],))


def content_digest(head: bytes, body: Iterable[bytes | memoryview]) -> str:
    """``content_sha256`` of a mail given as its header block and its body in pieces."""
    fields: list[bytes] = []
    for line in re.split(rb"(?<=\n)", head):
        if fields and line[:1] in (b" ", b"\t"):
            fields[-1] += line  # a folded continuation belongs to the field above
        elif line:
            fields.append(line)
    digest = hashlib.sha256()
    for field in fields:
        if not _is_trace(field):
            digest.update(field.rstrip(b"\r\n") + b"\n")
    for piece in body:
        digest.update(piece)
    return digest.hexdigest()


def is_our_message(mail: ParsedMail) -> bool:
    """True for mail the helpdesk itself sent: our Message-ID domain or our loop header."""
    domain = get_settings().mail_message_id_domain.lower()
    message_id = (mail.message_id or "").lower()
    if domain and message_id.endswith("@" + domain):
        return True
    return mail.header(LOOP_HEADER) is not None
