"""A mailbox's OAuth sign-in while it is under way (the web connect flow's server-side state)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from helpdesk.models.base import ts_field


class MailboxOAuthRequest(SQLModel, table=True):
    """One "Connect" press: what the provider's answer must match, and the client it is for.

    The state leaves only as its SHA-256, so a copy of the table answers no callback; the
    PKCE code verifier and the client secret are sealed (``helpdesk.crypto``). A request
    belongs to the admin's login session, is good once (``used_at``) and until
    ``expires_at``. The client settings wait here and reach ``mailbox_oauth`` only with a
    working grant, so a failed connect leaves the mailbox as it was.
    """

    __tablename__ = "mailbox_oauth_request"

    id: int | None = Field(default=None, primary_key=True)
    state_sha256: str = Field(max_length=64, unique=True, index=True)
    mailbox_id: int = Field(foreign_key="mailbox.id", index=True)
    agent_id: int = Field(foreign_key="agent.id")
    agent_session_id: int = Field(foreign_key="agent_session.id")
    code_verifier_sealed: str
    provider: str = Field(sa_type=String(16))
    tenant: str | None = Field(default=None, max_length=255)
    client_id: str = Field(max_length=500)
    #: None: keep the secret stored for the mailbox (or a public client).
    client_secret_sealed: str | None = None
    authorize_url: str = Field(max_length=2000)
    token_url: str = Field(max_length=2000)
    scopes: str = Field(default="", max_length=2000)
    #: The redirect URI sent with the authorization request; the code exchange repeats it.
    redirect_uri: str = Field(max_length=2000)
    created_at: datetime = ts_field()
    expires_at: datetime = ts_field()
    used_at: datetime | None = ts_field(nullable=True, default_now=False)
