"""The agent's own profile: their login sessions and API tokens (each revocable), password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from helpdesk.models import utcnow
from helpdesk.services import access
from helpdesk.services import agents as agent_service
from helpdesk.values import Id
from helpdesk.web.auth import logout_session
from helpdesk.web.deps import CurrentAgent, SessionDep
from helpdesk.web.templating import render

router = APIRouter(prefix="/profile")


class PasswordForm(BaseModel):
    """The password change: the current password first, then the new one."""

    current_password: str
    new_password: str


def _current_session_id(request: Request) -> int | None:
    return getattr(request.state, "login_session_id", None)


@router.get("", include_in_schema=False)
def profile(request: Request, session: SessionDep, agent: CurrentAgent) -> Response:
    return render(
        request,
        "profile.html",
        {
            "sessions": access.sessions_of(session, agent),
            "tokens": access.tokens_of(session, agent),
            "current_session_id": _current_session_id(request),
            "now": utcnow(),
        },
    )


@router.post("/sessions/{session_id}/revoke", include_in_schema=False)
def revoke_session(
    request: Request, session_id: Id, session: SessionDep, agent: CurrentAgent
) -> Response:
    access.revoke_session(session, session_id=session_id, owner=agent)
    if session_id == _current_session_id(request):
        logout_session(request, agent, session)
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/profile#sessions", status_code=303)


@router.post("/tokens/{token_id}/revoke", include_in_schema=False)
def revoke_token(token_id: Id, session: SessionDep, agent: CurrentAgent) -> Response:
    access.revoke_token(session, token_id=token_id, owner=agent)
    return RedirectResponse("/profile#tokens", status_code=303)


@router.post("/password", include_in_schema=False)
def change_password(
    request: Request,
    session: SessionDep,
    agent: CurrentAgent,
    form: Annotated[PasswordForm, Form()],
) -> Response:
    agent_service.change_own_password(
        session,
        agent=agent,
        current=form.current_password,
        new=form.new_password,
        keep_session_id=_current_session_id(request),
    )
    return RedirectResponse("/profile", status_code=303)
