"""Who is asking: the session cookie or an API bearer token, and the CSRF check."""

from __future__ import annotations

import logging

from fastapi import BackgroundTasks, Request
from sqlalchemy import inspect
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from helpdesk import db, i18n
from helpdesk.models import Agent
from helpdesk.security import new_csrf_token, same_token
from helpdesk.services import agents as agent_service

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


class LoginRequired(Exception):
    """Raised by the auth dependency; pages redirect to the login, the API answers 401."""


class CsrfFailed(Exception):
    """A state-changing request without the session's CSRF token."""


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not token:
        token = new_csrf_token()
        request.session["csrf"] = token
    return str(token)


def resolve_agent(request: Request, session: Session) -> Agent:
    """The agent behind the request, or ``LoginRequired``."""
    cached = getattr(request.state, "agent", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    token = bearer_token(request)
    agent: Agent | None = None
    if token:
        found = agent_service.token_owner(session, token)
        if found is not None:
            agent, row = found
            if agent_service.token_needs_touch(row):
                request.state.touch_token = row.id
        request.state.via_token = True
    else:
        agent_id = request.session.get("agent_id")
        if isinstance(agent_id, int):
            agent = session.get(Agent, agent_id)
            if agent is not None and request.session.get("pw") != agent.password_hash[-16:]:
                agent = None  # the password changed since this session logged in
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

    The language middleware only sees the cookie session; a script's token names its
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
    if request.url.path.startswith("/api/v1/") and not request.session.get("agent_id"):
        # No logged-in session means nothing to forge; the API then answers a clear 401.
        return
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not same_token(expected, sent):
        raise CsrfFailed()


def login_session(request: Request, agent: Agent) -> None:
    """Start a fresh session for ``agent`` (new CSRF token: no fixation)."""
    request.session.clear()
    request.session["agent_id"] = agent.id
    request.session["pw"] = agent.password_hash[-16:]
    request.session["csrf"] = new_csrf_token()
    request.session["lang"] = agent.language
