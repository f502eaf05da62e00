"""Admin pages: mailboxes (connection settings, sync state), agents, the users' CSV import."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from helpdesk.i18n import gettext
from helpdesk.models import Agent, Role
from helpdesk.services import agents as agent_service
from helpdesk.services import mailboxes as mailbox_service
from helpdesk.services import tags as tag_service
from helpdesk.services import user_import
from helpdesk.services.errors import NotFound, ServiceError
from helpdesk.services.oauth import grants as oauth_grants
from helpdesk.values import Id, Line, Text
from helpdesk.web.deps import AdminAgent, SessionDep
from helpdesk.web.forms import Checkbox, OptionalId
from helpdesk.web.pages import mailbox_oauth
from helpdesk.web.templating import render

router = APIRouter(prefix="/admin")


class MailboxForm(BaseModel):
    """A mailbox's settings, new or (with ``mailbox_id``) existing; blank means not set."""

    address: Line
    mailbox_id: OptionalId = None
    display_name: Line = ""
    signature: Text = ""
    active: Checkbox = False
    imap_host: Line = ""
    imap_port: OptionalId = None
    imap_user: Line = ""
    imap_password: Line = ""
    imap_security: Line = "ssl"
    imap_folder: Line = "INBOX"
    sent_folder: Line = ""
    smtp_host: Line = ""
    smtp_port: OptionalId = None
    smtp_user: Line = ""
    smtp_password: Line = ""
    smtp_security: Line = "starttls"

    def settings(self) -> dict[str, Any]:
        """The settings as the mailbox service takes them (None where left blank)."""
        return {
            "display_name": self.display_name.strip(),
            "signature": self.signature,
            "active": self.active,
            "imap_host": self.imap_host.strip() or None,
            "imap_port": self.imap_port,
            "imap_user": self.imap_user.strip() or None,
            "imap_password": self.imap_password or None,
            "imap_security": self.imap_security,
            "imap_folder": self.imap_folder.strip() or "INBOX",
            "sent_folder": self.sent_folder.strip() or None,
            "smtp_host": self.smtp_host.strip() or None,
            "smtp_port": self.smtp_port,
            "smtp_user": self.smtp_user.strip() or None,
            "smtp_password": self.smtp_password or None,
            "smtp_security": self.smtp_security,
        }


class NewAgentForm(BaseModel):
    """A new agent; ``role`` is ``agent`` or ``admin``."""

    email: Line
    name: Line
    password: Line
    role: Line = "agent"


class TagForm(BaseModel):
    """A tag's name and colour (``#rrggbb``, blank for none) on the tags page."""

    name: Line
    colour: Line = ""


class AgentForm(BaseModel):
    """An agent's row on the agents page; an empty password keeps the old one."""

    name: Line
    role: Line = "agent"
    active: Checkbox = False
    password: Line = ""


@router.get("/mailboxes", include_in_schema=False)
def mailboxes(request: Request, session: SessionDep, agent: AdminAgent) -> Response:
    return render(
        request,
        "admin/mailboxes.html",
        {
            "stats": mailbox_service.list_with_stats(session),
            "oauth": {row.mailbox_id: row for row in oauth_grants.all_oauth(session)},
        },
    )


@router.get("/mailboxes/{mailbox_id}", include_in_schema=False)
def mailbox_form(
    request: Request, mailbox_id: Id, session: SessionDep, agent: AdminAgent
) -> Response:
    mailbox = mailbox_service.get_mailbox(session, mailbox_id)
    # The OAuth panel: the grant's state and account, the Connect buttons.
    context = {"mailbox": mailbox} | mailbox_oauth.panel(session, mailbox)
    return render(request, "admin/mailbox_form.html", context)


@router.post("/mailboxes", include_in_schema=False)
def mailbox_save(
    request: Request,
    session: SessionDep,
    agent: AdminAgent,
    form: Annotated[MailboxForm, Form()],
) -> Response:
    if form.mailbox_id is not None:
        mailbox = mailbox_service.get_mailbox(session, form.mailbox_id)
        mailbox_service.update_mailbox(session, mailbox=mailbox, by=agent, **form.settings())
    else:
        mailbox_service.add_mailbox(session, address=form.address, by=agent, **form.settings())
    return RedirectResponse("/admin/mailboxes", status_code=303)


@router.get("/agents", include_in_schema=False)
def agents(request: Request, session: SessionDep, agent: AdminAgent) -> Response:
    return render(request, "admin/agents.html", {"agents": agent_service.list_agents(session)})


@router.post("/agents", include_in_schema=False)
def agent_create(
    request: Request,
    session: SessionDep,
    agent: AdminAgent,
    form: Annotated[NewAgentForm, Form()],
) -> Response:
    agent_service.create_agent(
        session,
        email=form.email,
        name=form.name,
        password=form.password,
        admin=form.role == "admin",
        by=agent,
    )
    return RedirectResponse("/admin/agents", status_code=303)


@router.post("/agents/{agent_id}", include_in_schema=False)
def agent_update(
    request: Request,
    agent_id: Id,
    session: SessionDep,
    agent: AdminAgent,
    form: Annotated[AgentForm, Form()],
) -> Response:
    target = session.get(Agent, agent_id)
    if target is None:
        raise NotFound("No such agent")
    is_self = target.id == agent.id
    agent_service.update_agent(
        session,
        agent=target,
        by=agent,
        name=form.name.strip(),
        # Admins cannot lock themselves out (deactivate or demote their own account).
        role=Role(form.role) if form.role in Role.__members__ and not is_self else None,
        active=form.active or is_self,
        password=form.password or None,
        # A new password ends the admin's other sessions and tokens, but not this session.
        keep_session_id=getattr(request.state, "login_session_id", None) if is_self else None,
    )
    return RedirectResponse("/admin/agents", status_code=303)


@router.get("/users/import", include_in_schema=False)
def user_import_form(request: Request, agent: AdminAgent) -> Response:
    """The E-tunnus register's CSV export, uploaded (as ``helpdesk users import``)."""
    return render(request, "admin/user_import.html", {"report": None})


@router.post("/users/import", include_in_schema=False)
async def user_import_upload(
    request: Request,
    session: SessionDep,
    agent: AdminAgent,
    file: Annotated[UploadFile, File()],
) -> Response:
    """Import the file, all or nothing; the page lists each error with its line."""
    data = await file.read(user_import.MAX_FILE_BYTES + 1)
    if len(data) > user_import.MAX_FILE_BYTES:
        raise ServiceError(
            gettext("The file is larger than %(mb)s MB")
            % {"mb": user_import.MAX_FILE_BYTES // 1048576}
        )
    report = await run_in_threadpool(user_import.import_csv, session, data)
    return render(
        request,
        "admin/user_import.html",
        {"report": report},
        status_code=200 if report.imported else 400,
    )


@router.get("/tags", include_in_schema=False)
def tags_page(request: Request, session: SessionDep, admin: AdminAgent) -> Response:
    return render(
        request,
        "admin/tags.html",
        {"tags": tag_service.list_tags(session), "colours": tag_service.COLOURS},
    )


@router.post("/tags", include_in_schema=False)
def create_tag(
    session: SessionDep, admin: AdminAgent, form: Annotated[TagForm, Form()]
) -> Response:
    tag_service.create(session, name=form.name, colour=form.colour or None, by=admin)
    return RedirectResponse("/admin/tags", status_code=303)


@router.post("/tags/{tag_id}", include_in_schema=False)
def update_tag(
    tag_id: Id, session: SessionDep, admin: AdminAgent, form: Annotated[TagForm, Form()]
) -> Response:
    tag = tag_service.get_tag(session, tag_id)
    tag_service.update(session, tag=tag, name=form.name, colour=form.colour, by=admin)
    return RedirectResponse("/admin/tags", status_code=303)


@router.post("/tags/{tag_id}/delete", include_in_schema=False)
def delete_tag(tag_id: Id, session: SessionDep, admin: AdminAgent) -> Response:
    tag_service.delete_tag(session, tag=tag_service.get_tag(session, tag_id), by=admin)
    return RedirectResponse("/admin/tags", status_code=303)
