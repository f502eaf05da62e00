"""Where each OAuth provider's endpoints are and which scopes mail needs.

Sources (checked 2026-12):
- Microsoft: "Authenticate an IMAP, POP or SMTP connection using OAuth"
  (learn.microsoft.com/exchange/client-developer/legacy-protocols/
  how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth): the scopes
  https://outlook.office.com/IMAP.AccessAsUser.All and https://outlook.office.com/SMTP.Send,
  plus offline_access for a refresh token; the endpoints are the Microsoft identity
  platform's v2.0 ones, per tenant (learn.microsoft.com/entra/identity-platform/
  v2-oauth2-auth-code-flow): https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize
  and .../token.
- Google: "Using OAuth 2.0 for Web Server Applications" (developers.google.com/identity/
  protocols/oauth2/web-server): https://accounts.google.com/o/oauth2/v2/auth,
  https://oauth2.googleapis.com/token, access_type=offline for a refresh token and
  prompt=consent so a reconnect gets a new one; the XOAUTH2 protocol page
  (developers.google.com/gmail/imap/xoauth2-protocol): the scope https://mail.google.com/.
- "openid email" (OpenID Connect Core) adds an ID token naming the account that signed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from helpdesk.i18n import N_
from helpdesk.models import OAuthProvider
from helpdesk.services.errors import ServiceError

MICROSOFT_AUTHORITY = "https://login.microsoftonline.com"
MICROSOFT_SCOPES = (
    "https://outlook.office.com/IMAP.AccessAsUser.All",
    "https://outlook.office.com/SMTP.Send",
    "offline_access",
    "openid",
    "email",
)
GOOGLE_AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL
GOOGLE_SCOPES = ("https://mail.google.com/", "openid", "email")

#: Where each provider's mailboxes are served: (IMAP host, port, security), (SMTP ...).
#: Microsoft: "POP, IMAP, and SMTP settings for Outlook.com / Microsoft 365"; Google:
#: "Read Gmail messages on other email clients using IMAP" (support.google.com/mail/answer/7126229).
MAIL_SERVERS: dict[OAuthProvider, tuple[tuple[str, int, str], tuple[str, int, str]]] = {
    OAuthProvider.microsoft: (
        ("outlook.office365.com", 993, "ssl"),
        ("smtp.office365.com", 587, "starttls"),
    ),
    OAuthProvider.google: (("imap.gmail.com", 993, "ssl"), ("smtp.gmail.com", 587, "starttls")),
}

# A tenant is a directory id (GUID), a verified domain, or organizations/common.
_TENANT = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]{0,252}")


@dataclass(frozen=True)
class Endpoints:
    """Where to send the admin to sign in, where to get tokens, what to ask for."""

    authorize_url: str
    token_url: str
    scopes: tuple[str, ...]
    #: Extra parameters of the authorization request (Google's offline access).
    authorize_params: dict[str, str] = field(default_factory=dict)

    @property
    def scope(self) -> str:
        return " ".join(self.scopes)


def endpoints(
    provider: OAuthProvider | str,
    *,
    tenant: str | None = None,
    authorize_url: str | None = None,
    token_url: str | None = None,
    scopes: str | None = None,
) -> Endpoints:
    """The endpoints of ``provider``; a generic provider's come from the arguments.

    For Microsoft and Google a given URL or scope list overrides the default (a national
    cloud, a narrower scope set).
    """
    provider = _provider(provider)
    given_scopes = tuple(scopes.split()) if scopes and scopes.strip() else None
    if provider is OAuthProvider.microsoft:
        tenant = (tenant or "").strip()
        if not _TENANT.fullmatch(tenant):
            raise ServiceError(
                N_("Microsoft 365 needs the tenant (directory id or domain)"), field="tenant"
            )
        base = f"{MICROSOFT_AUTHORITY}/{tenant}/oauth2/v2.0"
        return Endpoints(
            authorize_url=_url(authorize_url or f"{base}/authorize", "authorize_url"),
            token_url=_url(token_url or f"{base}/token", "token_url"),
            scopes=given_scopes or MICROSOFT_SCOPES,
        )
    if provider is OAuthProvider.google:
        return Endpoints(
            authorize_url=_url(authorize_url or GOOGLE_AUTHORIZE_URL, "authorize_url"),
            token_url=_url(token_url or GOOGLE_TOKEN_URL, "token_url"),
            scopes=given_scopes or GOOGLE_SCOPES,
            authorize_params={"access_type": "offline", "prompt": "consent"},
        )
    if not token_url:
        raise ServiceError(N_("A generic OAuth provider needs its token URL"), field="token_url")
    if not given_scopes:
        raise ServiceError(N_("A generic OAuth provider needs its scopes"), field="scopes")
    return Endpoints(
        authorize_url=_url(authorize_url or token_url, "authorize_url"),
        token_url=_url(token_url, "token_url"),
        scopes=given_scopes,
    )


def _provider(value: OAuthProvider | str) -> OAuthProvider:
    try:
        return OAuthProvider(value)
    except ValueError:
        raise ServiceError(
            N_("Unknown OAuth provider %(provider)s (microsoft, google, generic)"),
            field="provider",
            params={"provider": str(value)},
        ) from None


def _url(value: str, name: str) -> str:
    value = value.strip()
    # http only for a local test server; tokens never travel in clear to anything else.
    local = value.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]"))
    if len(value) > 2000 or not (value.startswith("https://") or local) or " " in value:
        raise ServiceError(
            N_("%(url)s is not an https:// URL"), field=name, params={"url": value[:200]}
        )
    return value
