"""Shared mailboxes (asiakaspalvelu@, info@, laskut@) and their per-folder IMAP sync state."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from helpdesk.models.base import ts_field


class Security(StrEnum):
    none = "none"
    ssl = "ssl"
    starttls = "starttls"


class MailboxAuth(StrEnum):
    """How a mailbox signs in to IMAP and SMTP alike."""

    password = "password"  # noqa: S105 - the name of a mode, not a secret
    xoauth2 = "xoauth2"


class OAuthProvider(StrEnum):
    microsoft = "microsoft"
    google = "google"
    generic = "generic"


class OAuthStatus(StrEnum):
    """Whether the mailbox's OAuth grant works."""

    not_connected = "not_connected"  # set up, but nobody has signed in yet
    ok = "ok"
    needs_reconnect = "needs_reconnect"  # the provider refused the grant: sign in again


class MailboxBase(SQLModel):
    """Fields an admin may see and edit."""

    address: str = Field(max_length=254, unique=True, index=True)
    display_name: str = Field(default="", max_length=200)
    signature: str = ""
    active: bool = True
    imap_host: str | None = Field(default=None, max_length=255)
    imap_port: int | None = None
    imap_user: str | None = Field(default=None, max_length=255)
    imap_security: Security = Field(default=Security.ssl, sa_type=String(16))
    imap_folder: str = Field(default="INBOX", max_length=255)
    processed_folder: str | None = Field(default=None, max_length=255)
    sent_folder: str | None = Field(default=None, max_length=255)
    smtp_host: str | None = Field(default=None, max_length=255)
    smtp_port: int | None = None
    smtp_user: str | None = Field(default=None, max_length=255)
    smtp_security: Security = Field(default=Security.starttls, sa_type=String(16))
    auth: MailboxAuth = Field(default=MailboxAuth.password, sa_type=String(16))


class Mailbox(MailboxBase, table=True):
    """A shared mailbox; passwords live only here and are never rendered back."""

    id: int | None = Field(default=None, primary_key=True)
    imap_password: str | None = Field(default=None, max_length=500)
    smtp_password: str | None = Field(default=None, max_length=500)
    last_sync_at: datetime | None = ts_field(nullable=True, default_now=False)
    last_error: str | None = None
    last_error_at: datetime | None = ts_field(nullable=True, default_now=False)
    created_at: datetime = ts_field()

    @property
    def label(self) -> str:
        return f"{self.display_name} <{self.address}>" if self.display_name else self.address

    @property
    def can_fetch(self) -> bool:
        return bool(self.active and self.imap_host and self.imap_user)

    @property
    def can_send(self) -> bool:
        return bool(self.active and self.smtp_host)


class MailboxOAuth(SQLModel, table=True):
    """A mailbox's OAuth 2.0 client and grant (one row per xoauth2 mailbox).

    The columns ending in ``_sealed`` hold Fernet tokens (``helpdesk.crypto``), never the
    secret itself; ``helpdesk.services.oauth`` seals and opens them.
    """

    __tablename__ = "mailbox_oauth"

    id: int | None = Field(default=None, primary_key=True)
    mailbox_id: int = Field(foreign_key="mailbox.id", unique=True, index=True)
    provider: OAuthProvider = Field(sa_type=String(16))
    #: Microsoft Entra tenant (directory id or domain); the endpoints are built from it.
    tenant: str | None = Field(default=None, max_length=255)
    client_id: str = Field(max_length=500)
    client_secret_sealed: str | None = None
    authorize_url: str = Field(max_length=2000)
    token_url: str = Field(max_length=2000)
    #: Space-separated, as OAuth sends them.
    scopes: str = Field(default="", max_length=2000)
    refresh_token_sealed: str | None = None
    access_token_sealed: str | None = None
    access_token_expires_at: datetime | None = ts_field(nullable=True, default_now=False)
    #: The account that signed in (shown to admins; the XOAUTH2 user name when set).
    account: str | None = Field(default=None, max_length=254)
    status: OAuthStatus = Field(default=OAuthStatus.not_connected, sa_type=String(16))
    status_reason: str | None = Field(default=None, max_length=2000)
    status_at: datetime | None = ts_field(nullable=True, default_now=False)
    connected_at: datetime | None = ts_field(nullable=True, default_now=False)
    updated_at: datetime = ts_field()


class MailboxFolderState(SQLModel, table=True):
    """Where the fetcher is in one IMAP folder: UIDVALIDITY and the highest imported UID."""

    __tablename__ = "mailbox_folder_state"
    __table_args__ = (UniqueConstraint("mailbox_id", "folder", name="uq_folder_state"),)

    id: int | None = Field(default=None, primary_key=True)
    mailbox_id: int = Field(foreign_key="mailbox.id", index=True)
    folder: str = Field(max_length=255)
    # Both are unsigned 32-bit on the wire: too big for a PostgreSQL integer.
    uidvalidity: int = Field(sa_column=Column(BigInteger, nullable=False))
    last_uid: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    updated_at: datetime = ts_field()
