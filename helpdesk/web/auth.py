"""Who is asking: the session cookie or an API bearer token, and the CSRF check.

The session cookie holds one opaque random id, signed (itsdangerous) and marked as a login
or as an anonymous visit (the login page needs a CSRF token too). A login's id names a
row of ``agent_session`` (services/access.py), which logout, deactivation and a new
password revoke; the cookie holds nothing else: no agent id, no password-hash material.
The CSRF token is an HMAC of the id, so it changes with every login. The language lives
in a cookie of its own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fastapi import BackgroundTasks, Request, Response
from itsdangerous import BadSignature, Signer
from sqlalchemy import inspect
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from helpdesk import db, i18n
from helpdesk.models import Agent
from helpdesk.security import csrf_for, new_session_token, same_token
from helpdesk.services import access
from helpdesk.services import agents as agent_service
from helpdesk.settings import get_settings

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SESSION_COOKIE = "helpdesk_session"
LANGUAGE_COOKIE = "helpdesk_lang"


class LoginRequired(Exception):
    """Raised by the auth dependency; pages redirect to the login, the API answers 401."""


class CsrfFailed(Exception):
    """A state-changing request without the session's CSRF token."""


@dataclass(frozen=True)
class CookieSession:
    """What the browser's session cookie says: an id, and whether it names a login."""

    token: str
    login: bool


def _signer() -> Signer:
    return Signer(get_settings().secret_key, salt="helpdesk.session")


_UNREAD = object()


def cookie_session(request: Request) -> CookieSession | None:
    """The request's cookie session (or the one this request started), if any."""
    if getattr(request.state, "cookie_session", _UNREAD) is _UNREAD:
        found = None
        raw = request.cookies.get(SESSION_COOKIE, "")
        try:
            value = _signer().unsign(raw).decode() if raw else ""
        except (BadSignature, UnicodeDecodeError):
            value = ""
        kind, _, token = value.partition(".")
        if token and kind in ("a", "s"):
            found = CookieSession(token=token, login=kind == "s")
        request.state.cookie_session = found
    return request.state.cookie_session  # type: ignore[no-any-return]


def _replace_cookie_session(request: Request, new: CookieSession | None) -> None:
    request.state.cookie_session = new
    request.state.cookie_session_changed = True


def write_session_cookie(request: Request, response: Response) -> None:
    """Set or delete the cookie when this request started or ended a session."""
    if not getattr(request.state, "cookie_session_changed", False):
        return
    settings = get_settings()
    current: CookieSession | None = request.state.cookie_session
    if current is None:
        response.delete_cookie(
            SESSION_COOKIE, path="/", secure=settings.cookie_secure, httponly=True, samesite="lax"
        )
        return
    value = _signer().sign(("s." if current.login else "a.") + current.token).decode()
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=settings.session_max_age_seconds if current.login else None,
        path="/",
        secure=settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )


def remember_language(response: Response, language: str) -> None:
    """The UI language for the next pages (a preference, not a credential)."""
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=365 * 24 * 3600,
        path="/",
        secure=get_settings().cookie_secure,
        httponly=True,
        samesite="lax",
    )


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def csrf_token(request: Request) -> str:
    """The CSRF token of the request's cookie session (an anonymous one is started)."""
    current = cookie_session(request)
    if current is None:
        current = CookieSession(token=new_session_token()[0], login=False)
        _replace_cookie_session(request, current)
    return csrf_for(get_settings().secret_key, current.token)


def client_ip(request: Request) -> str | None:
    """The client's address: the peer, or what a trusted proxy says (see app.py)."""
    return request.client.host if request.client else None


def resolve_agent(request: Request, session: Session) -> Agent:
    """The agent behind the request, or ``LoginRequired``."""
    cached = getattr(request.state, "agent", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    token = bearer_token(request)
    agent_id: int | None = None
    # Read in the request's session; the rare writes (a token's last use, a login
    # session's last visit) go in units of their own, so a GET's transaction stays a read.
    if token:
        request.state.via_token = True
        found = agent_service.token_owner(session, token)
        if found is not None:
            owner, row = found
            agent_id = owner.id
            if agent_service.token_needs_touch(row):
                request.state.touch_token = row.id  # written after the response
    else:
        current = cookie_session(request)
        if current is not None and current.login:
            live = access.live_session(session, current.token)
            if live is not None:
                request.state.login_session_id = live.id
                agent_id = live.agent_id
                if access.session_needs_touch(live):
                    with db.new_session() as side:
                        access.touch_session(side, live.id or 0)
    agent = session.get(Agent, agent_id) if agent_id is not None else None
    if agent is None or not agent.active:
        raise LoginRequired()
    request.state.agent = agent
    return agent


def reload_agent(request: Request) -> None:
    """Read the request's agent again, for a page rendered after the request's session ended.

    A service error rolls its unit of work back, which expires every row the session had
    loaded, and the session is closed before the error page is drawn: the agent the page's
    navigation needs is read again in a session of its own (its id comes from the identity
    key, which needs no database).
    """
    agent = getattr(request.state, "agent", None)
    if agent is None:
        return
    identity = inspect(agent).identity
    with db.new_session() as session:
        fresh = session.get(Agent, identity[0]) if identity else None
    request.state.agent = fresh if fresh is not None and fresh.active else None


def touch_token_after(request: Request, tasks: BackgroundTasks) -> None:
    """Record the token's use after the response, in a short write of its own.

    ``resolve_agent`` only reads, so a GET with a token stays a read; the use is written
    at most once per ``TOKEN_TOUCH_INTERVAL`` per token, and a failure costs only that.
    """
    token_id = getattr(request.state, "touch_token", None)
    if token_id is not None:
        request.state.touch_token = None
        tasks.add_task(_touch_token, token_id)


def _touch_token(token_id: int) -> None:
    try:
        with db.new_session() as session:
            agent_service.touch_token(session, token_id)
    except Exception:  # the token's last use is a convenience; never an error page
        log.warning("could not record the use of API token %s", token_id, exc_info=True)


async def api_language(request: Request) -> None:
    """Answer a bearer-token API call in its agent's language (English when unknown).

    The language middleware only sees the language cookie; a script's token names its
    agent only here. This dependency is async so the language it sets is seen by the
    route and the error handlers of this request (sync dependencies run in copied
    contexts).
    """
    if not request.url.path.startswith("/api/v1/") or not bearer_token(request):
        return

    def language() -> str | None:
        with db.new_session(read_only=True) as session:
            try:
                agent = resolve_agent(request, session)
            except LoginRequired:
                return None
            finally:
                # Not cached: the route resolves the agent again in its own session.
                request.state.agent = None
            return agent.language

    found = await run_in_threadpool(language)
    i18n.current_language.set(found if found in i18n.LANGUAGES else "en")


async def check_csrf(request: Request) -> None:
    """Refuse unsafe requests carried by the session cookie without the CSRF token.

    Bearer-token requests carry no cookie, so a forged cross-site request cannot use them.
    """
    if request.method in SAFE_METHODS or bearer_token(request):
        return
    current = cookie_session(request)
    if request.url.path.startswith("/api/v1/") and (current is None or not current.login):
        # No logged-in session means nothing to forge; the API then answers a clear 401.
        return
    expected = csrf_for(get_settings().secret_key, current.token) if current else None
    sent = request.headers.get(CSRF_HEADER)
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not same_token(expected, sent):
        raise CsrfFailed()


def login_session(request: Request, agent: Agent, session: Session) -> None:
    """Start a fresh server-side session for ``agent`` (new id, new CSRF token: no fixation)."""
    token = access.start_session(
        session,
        agent=agent,
        user_agent=request.headers.get("user-agent", ""),
        ip=client_ip(request),
    )
    _replace_cookie_session(request, CookieSession(token=token, login=True))


def logout_session(request: Request, agent: Agent, session: Session) -> None:
    """End the request's login session server-side and forget the cookie."""
    current = cookie_session(request)
    if current is not None and current.login:
        access.end_session(session, token=current.token, agent=agent)
    _replace_cookie_session(request, None)
