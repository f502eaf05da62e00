"""Login, logout and the language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from helpdesk import i18n
from helpdesk.services import agents as agent_service
from helpdesk.services.errors import ServiceError
from helpdesk.values import Line
from helpdesk.web.auth import client_ip, login_session, logout_session, remember_language
from helpdesk.web.deps import CurrentAgent, SessionDep
from helpdesk.web.templating import render

router = APIRouter()


class LoginForm(BaseModel):
    """The login form; ``next`` is where to go after it (same-site paths only)."""

    email: Line
    password: Line
    next: Line | None = None


class LanguageForm(BaseModel):
    """The language switch in the top bar."""

    language: Line
    next: Line | None = None


def _safe_next(target: str | None) -> str:
    """Only same-site paths; never an open redirect."""
    # Browsers drop tabs and newlines from URLs ("/\t/evil" becomes "//evil"), so any
    # whitespace or control character disqualifies the target.
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in target)
    ):
        return target
    return "/tickets"


@router.get("/login", include_in_schema=False)
def login_form(request: Request, next: Line | None = None) -> Response:
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", include_in_schema=False)
def login(
    request: Request,
    session: SessionDep,
    form: Annotated[LoginForm, Form()],
) -> Response:
    try:
        agent = agent_service.authenticate(
            session, email=form.email, password=form.password, ip=client_ip(request)
        )
    except ServiceError as exc:
        return render(
            request,
            "login.html",
            {
                "next": _safe_next(form.next),
                "error": exc.text(),
                "email": form.email,
            },
            status_code=exc.status_code if exc.status_code == 429 else 400,
        )
    login_session(request, agent, session)
    response = RedirectResponse(_safe_next(form.next), status_code=303)
    remember_language(response, agent.language)
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, session: SessionDep, agent: CurrentAgent) -> Response:
    logout_session(request, agent, session)
    return RedirectResponse("/login", status_code=303)


@router.post("/language", include_in_schema=False)
def set_language(
    request: Request,
    session: SessionDep,
    agent: CurrentAgent,
    form: Annotated[LanguageForm, Form()],
) -> Response:
    response = RedirectResponse(_safe_next(form.next), status_code=303)
    if form.language in i18n.LANGUAGES:
        agent_service.update_agent(session, agent=agent, by=agent, language=form.language)
        remember_language(response, form.language)
    return response
