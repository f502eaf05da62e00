"""The value passed between parse, filters and ingest: a parsed mail and its attachments."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from helpdesk.mail.parsing.decode import Address


@dataclass
class ParsedAttachment:
    """One stored attachment; ``part`` is its MIME path, ``container`` set when unpacked."""

    filename: str
    content_type: str
    size: int
    sha256: str
    content_id: str | None = None
    inline: bool = False
    disposition: str | None = None
    part: str = ""
    container: str | None = None
    data: bytes | None = None


@dataclass
class ParsedMail:
    """The one value passed between parse, filters and ingest; filters annotate it."""

    raw_sha256: str
    size: int
    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_name: str | None = None
    from_address: str | None = None
    reply_to: list[Address] = field(default_factory=list)
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    delivered_to: list[Address] = field(default_factory=list)
    return_path: list[Address] = field(default_factory=list)
    date: datetime | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    text: str = ""
    html: str | None = None
    attachments: list[ParsedAttachment] = field(default_factory=list)
    body_parts: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    annotations: dict[str, Any] = field(default_factory=dict)
    unparsed: bool = False
    parse_errors: list[str] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        """First value of header ``name`` (case-insensitive), or None."""
        low = name.lower()
        return next((v for k, v in self.headers if k.lower() == low), None)

    def header_all(self, name: str) -> list[str]:
        low = name.lower()
        return [v for k, v in self.headers if k.lower() == low]
