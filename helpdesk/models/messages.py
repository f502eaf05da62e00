"""Messages in a ticket (mail in and out, notes, calls) and their attachments."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, String, Text
from sqlmodel import Field, SQLModel

from helpdesk.limits import chars
from helpdesk.models.base import json_field, ts_field
from helpdesk.values import Text as TextValue


class MessageKind(StrEnum):
    incoming = "incoming"
    outgoing = "outgoing"
    note = "note"
    call = "call"
    #: Mail we forwarded from the ticket to an outside address: not an answer to the customer.
    forward = "forward"


class DeliveryStatus(StrEnum):
    """Where an outgoing message is on its way out."""

    queued = "queued"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    cancelled = "cancelled"


class MessageBase(SQLModel):
    """Fields shared by the table and the API shapes."""

    kind: MessageKind = Field(sa_type=String(16))
    from_name: str | None = Field(default=None, max_length=chars("message.from_name"))
    from_address: str | None = Field(default=None, max_length=chars("message.from_address"))
    subject: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class Message(MessageBase, table=True):
    """One entry in a ticket's thread. Raw mail is kept byte-exact in the blob store."""

    __table_args__ = (
        Index("ix_message_ticket_created", "ticket_id", "created_at", "id"),
        Index("ix_message_message_id", "message_id"),
        Index("ix_message_delivery", "delivery_status", "id"),
        # The reports: counts by kind and time, and each ticket's first mail and reply.
        Index(
            "ix_message_kind_created",
            "kind",
            "created_at",
            "mailbox_id",
            "author_id",
            "ticket_id",
            "delivery_status",
        ),
        Index(
            "ix_message_ticket_kind_created",
            "ticket_id",
            "kind",
            "created_at",
            "author_id",
            "delivery_status",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    mailbox_id: int | None = Field(default=None, foreign_key="mailbox.id")
    author_id: int | None = Field(default=None, foreign_key="agent.id")
    to_addresses: list[str] = json_field(list)
    cc_addresses: list[str] = json_field(list)
    bcc_addresses: list[str] = json_field(list)
    message_id: str | None = Field(default=None, max_length=chars("message.message_id"))
    in_reply_to: str | None = Field(default=None, max_length=chars("message.in_reply_to"))
    references: list[str] = json_field(list)
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    html: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    raw_sha256: str | None = Field(default=None, max_length=64)
    flags: list[str] = json_field(list)
    sent_date: datetime | None = ts_field(nullable=True, default_now=False)
    created_at: datetime = ts_field()
    delivery_status: DeliveryStatus | None = Field(default=None, sa_type=String(16))
    delivery_error: str | None = None
    # Search (helpdesk/words.py): the lemmas and compound parts of the message's words,
    # folded, and which lemmatiser made them (None: not yet; `helpdesk search reindex`).
    search_lemmas: str = Field(
        default="", sa_column=Column(Text, nullable=False, default="", server_default="")
    )
    search_version: int | None = None

    @property
    def participants(self) -> set[str]:
        people = {a.lower() for a in (*self.to_addresses, *self.cc_addresses)}
        if self.from_address:
            people.add(self.from_address.lower())
        return people


class Attachment(SQLModel, table=True):
    """A file of a message; the bytes are stored content-addressed under the data dir."""

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    filename: str = Field(max_length=chars("attachment.filename"))
    content_type: str = Field(
        default="application/octet-stream", max_length=chars("attachment.content_type")
    )
    size: int = 0
    sha256: str = Field(max_length=64, index=True)
    content_id: str | None = Field(default=None, max_length=chars("attachment.content_id"))
    inline: bool = False


class AttachmentRead(SQLModel):
    """An attachment as the API shows it."""

    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    inline: bool


class NoteCreate(SQLModel):
    """An internal note."""

    text: TextValue
