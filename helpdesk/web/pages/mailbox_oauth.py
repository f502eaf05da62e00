"""Connecting a mailbox with OAuth 2.0 from its settings page ("Connect with Microsoft").

The flow (``helpdesk.services.oauth.connect``) crosses three requests:

- ``POST /admin/mailboxes/{id}/oauth``: keeps the sign-in request and answers a page that
  goes on to the provider (a link, followed by the page's script). Not a redirect: the
  pages' CSP allows forms to go only to this site (``form-action 'self'``), and browsers
  apply that to a form's redirects too.
- ``GET /oauth/callback``: where the provider sends the browser back. GETs never write
  here, so it only checks the answer and shows a form that posts it on (sent by the
  script, or by its button without JavaScript).
- ``POST /oauth/callback``: exchanges the code and saves the grant, then back to the
  mailbox's page, which shows the account and "Connected".

Errors are shown on the mailbox's page beside the buttons when the mailbox is known.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel
from sqlmodel import Session

from helpdesk.models import Mailbox, OAuthProvider
from helpdesk.services import mailboxes as mailbox_service
from helpdesk.services.oauth import connect, grants
from helpdesk.services.oauth.connect import ConnectError
from helpdesk.values import Id, Line, Text
from helpdesk.web.deps import AdminAgent, SessionDep
from helpdesk.web.templating import render

router = APIRouter()

#: The buttons' providers, in the order the page shows them, with their names.
PROVIDERS = (
    (OAuthProvider.microsoft.value, "Microsoft 365"),
    (OAuthProvider.google.value, "Google"),
    (OAuthProvider.generic.value, "OAuth 2.0"),
)


class ConnectForm(BaseModel):
    """The OAuth client beside one "Connect" button; blank fields are not given."""

    provider: Line
    client_id: Line = ""
    client_secret: Line = ""
    tenant: Line = ""
    authorize_url: Line = ""
    token_url: Line = ""
    scopes: Line = ""

    def client(self) -> connect.ClientSettings:
        return connect.ClientSettings(**self.model_dump())


class CallbackForm(BaseModel):
    """The provider's answer, posted on by the callback page."""

    state: Text = ""
    code: Text = ""


def panel(
    session: Session,
    mailbox: Mailbox,
    *,
    error: ConnectError | None = None,
    form: ConnectForm | None = None,
) -> dict[str, Any]:
    """What the mailbox page's OAuth panel shows: status, account, buttons, an error."""
    oauth = grants.oauth_of(session, mailbox)
    entered = form.model_dump(exclude={"client_secret"}) if form else None
    return {
        "oauth": oauth,
        "oauth_providers": PROVIDERS,
        "oauth_open": (form.provider if form else None) or (oauth.provider if oauth else None),
        "oauth_entered": entered,
        "oauth_error": error.text() if error else None,
        "oauth_error_field": error.field if error else None,
        "redirect_uri": connect.redirect_uri(),
    }


def _login_session_id(request: Request) -> int | None:
    return getattr(request.state, "login_session_id", None)


def _mailbox_page(
    request: Request,
    session: Session,
    mailbox: Mailbox,
    *,
    error: ConnectError,
    form: ConnectForm | None = None,
    status_code: int,
) -> Response:
    context = {"mailbox": mailbox} | panel(session, mailbox, error=error, form=form)
    return render(request, "admin/mailbox_form.html", context, status_code=status_code)


def _refusal_page(
    request: Request, session: Session, error: ConnectError, *, status_code: int
) -> Response:
    """The error beside the mailbox's buttons, or on a page of its own when none is known."""
    mailbox = session.get(Mailbox, error.mailbox_id) if error.mailbox_id is not None else None
    if mailbox is not None:
        return _mailbox_page(request, session, mailbox, error=error, status_code=status_code)
    context = {"error": error.text(), "mailbox": None}
    return render(request, "admin/oauth_return.html", context, status_code=status_code)


@router.post("/admin/mailboxes/{mailbox_id}/oauth", include_in_schema=False)
def oauth_start(
    request: Request,
    mailbox_id: Id,
    session: SessionDep,
    agent: AdminAgent,
    form: Annotated[ConnectForm, Form()],
) -> Response:
    """A "Connect" button: keep the sign-in request, then on to the provider."""
    mailbox = mailbox_service.get_mailbox(session, mailbox_id)
    try:
        url = connect.start(
            session,
            mailbox=mailbox,
            client=form.client(),
            agent=agent,
            login_session_id=_login_session_id(request),
        )
    except ConnectError as exc:
        return _mailbox_page(request, session, mailbox, error=exc, form=form, status_code=400)
    name = dict(PROVIDERS).get(form.provider, form.provider)
    return render(
        request, "admin/oauth_redirect.html", {"url": url, "mailbox": mailbox, "provider": name}
    )


@router.get(connect.CALLBACK_PATH, include_in_schema=False)
def oauth_callback(
    request: Request,
    session: SessionDep,
    agent: AdminAgent,
    state: Annotated[Text, Query()] = "",
    code: Annotated[Text, Query()] = "",
    error: Annotated[Text, Query()] = "",
    error_description: Annotated[Text, Query()] = "",
) -> Response:
    """The provider's redirect back: check it and post it on (this request writes nothing)."""
    try:
        pending = connect.pending(session, state=state, login_session_id=_login_session_id(request))
        if error:
            raise connect.refused(pending, error, error_description)
        mailbox = session.get(Mailbox, pending.mailbox_id)
    except ConnectError as exc:
        # 200: the answer was read and the page says what went wrong; nothing failed here.
        return _refusal_page(request, session, exc, status_code=200)
    context = {"error": None, "mailbox": mailbox, "state": state, "code": code}
    return render(request, "admin/oauth_return.html", context)


@router.post(connect.CALLBACK_PATH, include_in_schema=False)
def oauth_complete(
    request: Request,
    session: SessionDep,
    agent: AdminAgent,
    form: Annotated[CallbackForm, Form()],
) -> Response:
    """Exchange the code and save the grant; back to the mailbox, which shows the account."""
    try:
        oauth = connect.complete(
            session,
            state=form.state,
            code=form.code,
            agent=agent,
            login_session_id=_login_session_id(request),
        )
    except ConnectError as exc:
        return _refusal_page(request, session, exc, status_code=400)
    return RedirectResponse(f"/admin/mailboxes/{oauth.mailbox_id}#oauth", status_code=303)
