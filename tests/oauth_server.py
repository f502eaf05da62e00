"""A local OAuth 2.0 authorization server for tests: token and introspection endpoints.

Written from the RFCs, not from our client: RFC 6749 (the authorization_code and
refresh_token grants, client authentication by HTTP Basic or form fields, the error
answers), RFC 7636 (PKCE, S256) and RFC 7662 (introspection: ``active``, ``username``,
``scope``, ``exp``, ``client_id``, which Dovecot's oauth2 passdb reads in its ``post``
mode). Tokens are random strings the server remembers.

Tests steer it: :meth:`OAuthServer.issue_grant` stands in for an admin who signed in,
:meth:`expire_access_tokens`, :meth:`revoke` and :meth:`fail_next_refresh` make the
provider's bad days, ``rotate`` makes every refresh return a new refresh token, ``delay``
slows the token endpoint (to overlap two refreshes). ``app`` is a Starlette app: more
routes can be added (the browser test's ``/authorize`` page) before :func:`serve_oauth`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import html
import json
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
import uvicorn
from dovecot_server import DovecotServer
from mailservers import _require_dovecot
from smtp_server import SmtpServer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.routing import Route

CLIENT_ID = "helpdesk-test-client"
CLIENT_SECRET = "helpdesk-test-secret"


@dataclass
class RefreshGrant:
    """One refresh token the server issued and what it stands for."""

    account: str
    client_id: str
    scope: str
    active: bool = True


@dataclass
class AccessToken:
    account: str
    client_id: str
    scope: str
    expires_at: float
    active: bool = True


@dataclass
class PendingCode:
    """An authorization code waiting to be exchanged (made by an /authorize page)."""

    client_id: str
    redirect_uri: str
    code_challenge: str
    code_challenge_method: str
    account: str
    scope: str
    expires_at: float


@dataclass
class OAuthServer:
    """The server's state, its Starlette ``app`` and its URLs once served."""

    access_lifetime: int = 3600
    rotate: bool = False
    delay: float = 0.0
    clients: dict[str, str | None] = field(default_factory=lambda: {CLIENT_ID: CLIENT_SECRET})
    url: str = ""
    refresh_grants: dict[str, RefreshGrant] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    codes: dict[str, PendingCode] = field(default_factory=dict)
    #: Every token request's grant type, in order (tests count refreshes with it).
    requests: list[str] = field(default_factory=list)
    #: The /authorize page's requests, their parameters as received (tests check PKCE).
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    #: Introspection calls answered (Dovecot's and the SMTP server's checks).
    introspections: int = 0
    _fail_next: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.app = Starlette(
            routes=[
                Route("/token", self._token, methods=["POST"]),
                Route("/introspect", self._introspect, methods=["POST"]),
                Route("/authorize", self._authorize_page, methods=["GET"]),
                Route("/authorize", self._authorize_answer, methods=["POST"]),
            ]
        )

    # -- URLs ----------------------------------------------------------------------

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    @property
    def authorize_url(self) -> str:
        return f"{self.url}/authorize"

    @property
    def introspection_url(self) -> str:
        return f"{self.url}/introspect"

    # -- test controls ---------------------------------------------------------------

    def issue_grant(self, account: str, *, client_id: str = CLIENT_ID, scope: str = "mail") -> str:
        """A refresh token for ``account``, as if its owner had just signed in."""
        token = "rt-" + secrets.token_urlsafe(24)
        with self._lock:
            self.refresh_grants[token] = RefreshGrant(account, client_id, scope)
        return token

    def issue_access_token(self, account: str, *, lifetime: int | None = None) -> str:
        with self._lock:
            return self._new_access_token(account, CLIENT_ID, "mail", lifetime)

    def add_code(
        self,
        *,
        client_id: str,
        redirect_uri: str,
        code_challenge: str,
        account: str,
        scope: str,
        code_challenge_method: str = "S256",
    ) -> str:
        """An authorization code for the code flow (what /authorize hands out)."""
        code = "code-" + secrets.token_urlsafe(16)
        with self._lock:
            self.codes[code] = PendingCode(
                client_id=client_id,
                redirect_uri=redirect_uri,
                code_challenge=code_challenge,
                code_challenge_method=code_challenge_method,
                account=account,
                scope=scope,
                expires_at=time.time() + 600,
            )
        return code

    def expire_access_tokens(self, account: str | None = None) -> None:
        """Access tokens (of ``account``, else all) stop working, as at their expiry."""
        with self._lock:
            for token in self.access_tokens.values():
                if account is None or token.account == account:
                    token.expires_at = time.time() - 1

    def revoke(self, account: str) -> None:
        """The account withdrew consent: its refresh and access tokens are dead."""
        with self._lock:
            for grant in self.refresh_grants.values():
                if grant.account == account:
                    grant.active = False
            for token in self.access_tokens.values():
                if token.account == account:
                    token.active = False

    def fail_next_refresh(self, error: str = "invalid_grant") -> None:
        """The next refresh_token request answers 400 with this OAuth error."""
        with self._lock:
            self._fail_next.append(error)

    def refreshes(self) -> int:
        with self._lock:
            return self.requests.count("refresh_token")

    def active_refresh_tokens(self, account: str) -> list[str]:
        with self._lock:
            return [t for t, g in self.refresh_grants.items() if g.account == account and g.active]

    def token_info(self, token: str) -> dict[str, Any]:
        """The RFC 7662 answer for ``token`` (what /introspect sends)."""
        with self._lock:
            found = self.access_tokens.get(token)
            if found is None or not found.active or found.expires_at <= time.time():
                return {"active": False}
            return {
                "active": True,
                "username": found.account,
                "scope": found.scope,
                "client_id": found.client_id,
                "exp": int(found.expires_at),
                "token_type": "Bearer",
            }

    # -- endpoints -------------------------------------------------------------------

    async def _token(self, request: Request) -> JSONResponse:
        form = await request.form()
        values = {k: str(v) for k, v in form.items()}
        if self.delay:
            await asyncio.sleep(self.delay)  # two refreshes at once would overlap here
        client_id = self._authenticate(request, values)
        if client_id is None:
            return _error("invalid_client", 401)
        grant_type = values.get("grant_type", "")
        with self._lock:
            self.requests.append(grant_type)
            if grant_type == "authorization_code":
                return self._code_grant(client_id, values)
            if grant_type == "refresh_token":
                return self._refresh_grant(client_id, values)
        return _error("unsupported_grant_type")

    def _authenticate(self, request: Request, values: dict[str, str]) -> str | None:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(header[6:]).decode()
            except ValueError:
                return None
            client_id, _, secret = decoded.partition(":")
        else:
            client_id = values.get("client_id", "")
            secret = values.get("client_secret", "")
        if client_id not in self.clients:
            return None
        expected = self.clients[client_id]
        if expected is not None and not hmac.compare_digest(secret, expected):
            return None
        return client_id

    def _code_grant(self, client_id: str, values: dict[str, str]) -> JSONResponse:
        pending = self.codes.pop(values.get("code", ""), None)
        if pending is None or pending.expires_at < time.time() or pending.client_id != client_id:
            return _error("invalid_grant")
        if values.get("redirect_uri") != pending.redirect_uri:
            return _error("invalid_grant")
        verifier = values.get("code_verifier", "")
        if pending.code_challenge_method != "S256" or not verifier:
            return _error("invalid_grant")
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != pending.code_challenge:
            return _error("invalid_grant")
        refresh = "rt-" + secrets.token_urlsafe(24)
        self.refresh_grants[refresh] = RefreshGrant(pending.account, client_id, pending.scope)
        return self._token_answer(pending.account, client_id, pending.scope, refresh)

    def _refresh_grant(self, client_id: str, values: dict[str, str]) -> JSONResponse:
        if self._fail_next:
            return _error(self._fail_next.pop(0))
        token = values.get("refresh_token", "")
        grant = self.refresh_grants.get(token)
        if grant is None or not grant.active or grant.client_id != client_id:
            return _error("invalid_grant")
        new_refresh = None
        if self.rotate:
            grant.active = False  # a rotated-out token is dead, as at Microsoft and others
            new_refresh = "rt-" + secrets.token_urlsafe(24)
            self.refresh_grants[new_refresh] = RefreshGrant(grant.account, client_id, grant.scope)
        return self._token_answer(grant.account, client_id, grant.scope, new_refresh)

    def _token_answer(
        self, account: str, client_id: str, scope: str, refresh: str | None
    ) -> JSONResponse:
        access = self._new_access_token(account, client_id, scope, None)
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.access_lifetime,
            "scope": scope,
        }
        if refresh:
            body["refresh_token"] = refresh
        if "openid" in scope.split():
            body["id_token"] = _id_token(
                {"iss": self.url, "aud": client_id, "sub": account, "email": account},
                self.clients.get(client_id) or "",
            )
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    def _new_access_token(
        self, account: str, client_id: str, scope: str, lifetime: int | None
    ) -> str:
        token = "at-" + secrets.token_urlsafe(24)
        self.access_tokens[token] = AccessToken(
            account, client_id, scope, time.time() + (lifetime or self.access_lifetime)
        )
        return token

    async def _introspect(self, request: Request) -> JSONResponse:
        form = await request.form()
        with self._lock:
            self.introspections += 1
        return JSONResponse(self.token_info(str(form.get("token", ""))))

    # -- the authorization endpoint (RFC 6749 4.1.1-4.1.2, RFC 7636 4.3) -------------------

    #: Parameters the sign-in page carries from the request to the answer.
    _AUTHORIZE_PARAMS = (
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
        "login_hint",
    )

    async def _authorize_page(self, request: Request) -> HTMLResponse:
        """A sign-in and consent page: an account field, "Allow" and "Deny"."""
        params = {k: request.query_params.get(k, "") for k in self._AUTHORIZE_PARAMS}
        with self._lock:
            self.authorize_requests.append(dict(params))
        problem = self._authorize_problem(params)
        if problem:
            return HTMLResponse(f"<p id=problem>{html.escape(problem)}</p>", status_code=400)
        hidden = "".join(
            f'<input type=hidden name="{k}" value="{html.escape(v)}">' for k, v in params.items()
        )
        return HTMLResponse(
            "<!doctype html><title>Test sign-in</title><form method=post>"
            f"{hidden}<label>Account <input name=account "
            f'value="{html.escape(params["login_hint"])}"></label>'
            "<button name=decision value=allow>Allow</button>"
            "<button name=decision value=deny>Deny</button></form>"
        )

    async def _authorize_answer(self, request: Request) -> HTMLResponse | RedirectResponse:
        """Back to the client's redirect URI with a code (allowed) or access_denied."""
        form = await request.form()
        params = {k: str(form.get(k, "")) for k in self._AUTHORIZE_PARAMS}
        problem = self._authorize_problem(params)
        if problem:
            return HTMLResponse(f"<p id=problem>{html.escape(problem)}</p>", status_code=400)
        if form.get("decision") != "allow":
            answer = {"error": "access_denied", "error_description": "the user said no"}
        else:
            code = self.add_code(
                client_id=params["client_id"],
                redirect_uri=params["redirect_uri"],
                code_challenge=params["code_challenge"],
                code_challenge_method=params["code_challenge_method"],
                account=str(form.get("account", "")),
                scope=params["scope"],
            )
            answer = {"code": code}
        answer["state"] = params["state"]
        return RedirectResponse(f"{params['redirect_uri']}?{urlencode(answer)}", status_code=302)

    def _authorize_problem(self, params: dict[str, str]) -> str | None:
        """Why the request is no valid code-flow request with PKCE S256, if it is not."""
        if params["response_type"] != "code":
            return "response_type must be code"
        if params["client_id"] not in self.clients:
            return "unknown client"
        if not params["redirect_uri"].startswith(("http://", "https://")):
            return "redirect_uri missing"
        if params["code_challenge_method"] != "S256" or len(params["code_challenge"]) != 43:
            return "PKCE with S256 is required"
        return None


def _error(code: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": code, "error_description": f"test server: {code}"}, status)


def _id_token(claims: dict[str, Any], secret: str) -> str:
    """An HS256 ID token signed with the client secret (OpenID Connect Core 10.1)."""
    now = int(time.time())
    claims = {"iat": now, "exp": now + 600} | claims

    def part(value: bytes) -> str:
        return base64.urlsafe_b64encode(value).rstrip(b"=").decode()

    head = part(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = part(json.dumps(claims).encode())
    mac = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{part(mac)}"


@contextmanager
def serve_oauth(server: OAuthServer | None = None) -> Iterator[OAuthServer]:
    """``server`` (or a new one) served by uvicorn in a daemon thread on a free loopback port."""
    server = server or OAuthServer()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    runner = uvicorn.Server(uvicorn.Config(server.app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=runner.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not runner.started:
        assert time.monotonic() < deadline, "the OAuth test server did not start"
        time.sleep(0.02)
    server.url = f"http://127.0.0.1:{port}"
    try:
        yield server
    finally:
        runner.should_exit = True
        thread.join(timeout=10)
        sock.close()


# -- pytest fixtures (import them where needed) ------------------------------------


@pytest.fixture(scope="session")
def oauth_provider() -> Iterator[OAuthServer]:
    """One local OAuth server for the session; tests use ``oauth_server``."""
    with serve_oauth() as server:
        yield server


@pytest.fixture
def oauth_server(oauth_provider: OAuthServer) -> Iterator[OAuthServer]:
    """The session's OAuth server with its steering reset (accounts differ per test)."""
    yield oauth_provider
    with oauth_provider._lock:
        oauth_provider.rotate = False
        oauth_provider.delay = 0.0
        oauth_provider.access_lifetime = 3600
        oauth_provider._fail_next.clear()
        oauth_provider.requests.clear()


@pytest.fixture(scope="session")
def oauth_dovecot(oauth_provider: OAuthServer) -> Iterator[DovecotServer]:
    """A Dovecot that also takes XOAUTH2 and OAUTHBEARER, checked at ``oauth_provider``."""
    server = DovecotServer(
        _require_dovecot(), oauth2_introspection_url=oauth_provider.introspection_url
    )
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def oauth_smtp(oauth_provider: OAuthServer, oauth_dovecot: DovecotServer) -> Iterator[SmtpServer]:
    """An SMTP server that takes AUTH XOAUTH2 only and delivers into ``oauth_dovecot``."""
    server = SmtpServer(oauth_dovecot, xoauth2_introspection_url=oauth_provider.introspection_url)
    server.start()
    try:
        yield server
    finally:
        server.stop()
