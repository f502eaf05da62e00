"""How stored messages are shown: inline images resolved, quoted history folded away."""

from __future__ import annotations

import re
from dataclasses import dataclass

from markupsafe import Markup

from helpdesk.mail.parsing.sanitize import split_quoted
from helpdesk.models import Attachment, Message

_CID_SRC = re.compile(r'src="cid:([^"]+)"', re.IGNORECASE)


@dataclass
class ShownMessage:
    message: Message
    attachments: list[Attachment]
    html: Markup | None
    text_new: str
    text_quoted: str

    @property
    def files(self) -> list[Attachment]:
        """Attachments listed for download (inline images referenced by the HTML are not)."""
        return [a for a in self.attachments if not (a.inline and a.content_id and self.html)]


def _resolve_cids(html: str, attachments: list[Attachment]) -> str:
    by_cid = {a.content_id.strip("<>").lower(): a for a in attachments if a.content_id}

    def swap(match: re.Match[str]) -> str:
        att = by_cid.get(match.group(1).strip("<>").lower())
        return f'src="/attachments/{att.id}/inline"' if att else 'src=""'

    return _CID_SRC.sub(swap, html)


def show(message: Message, attachments: list[Attachment]) -> ShownMessage:
    """Prepare one message for the thread view. The HTML was sanitised when it was stored."""
    html = Markup(_resolve_cids(message.html, attachments)) if message.html else None  # noqa: S704
    new, quoted = split_quoted(message.text or "")
    return ShownMessage(
        message=message, attachments=attachments, html=html, text_new=new, text_quoted=quoted
    )
