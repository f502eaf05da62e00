"""Admin pages: mailboxes (connection settings, sync state) and agents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from helpdesk.models import Agent, Role
from helpdesk.services import agents as agent_service
from helpdesk.services import mailboxes as mailbox_service
from helpdesk.services.errors import NotFound
from helpdesk.values import as_id
from helpdesk.web.auth import login_session
from helpdesk.web.deps import AdminAgent, SessionDep
from helpdesk.web.templating import render

router = APIRouter(prefix="/admin")


@router.get("/mailboxes", include_in_schema=False)
def mailboxes(request: Request, session: SessionDep, agent: AdminAgent) -> Response:
    return render(
        request, "admin/mailboxes.html", {"stats": mailbox_service.list_with_stats(session)}
    )


@router.get("/mailboxes/{mailbox_id}", include_in_schema=False)
def mailbox_form(
    request: Request, mailbox_id: int, session: SessionDep, agent: AdminAgent
) -> Response:
    mailbox = mailbox_service.get_mailbox(session, mailbox_id)
    return render(request, "admin/mailbox_form.html", {"mailbox": mailbox})


@router.post("/mailboxes", include_in_schema=False)
def mailbox_save(
    request: Request,
    session: SessionDep,
    agent: AdminAgent,
    address: Annotated[str, Form()],
    mailbox_id: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    signature: Annotated[str, Form()] = "",
    active: Annotated[str | None, Form()] = None,
    imap_host: Annotated[str, Form()] = "",
    imap_port: Annotated[str, Form()] = "",
    imap_user: Annotated[str, Form()] = "",
    imap_password: Annotated[str, Form()] = "",
    imap_security: Annotated[str, Form()] = "ssl",
    imap_folder: Annotated[str, Form()] = "INBOX",
    sent_folder: Annotated[str, Form()] = "",
    smtp_host: Annotated[str, Form()] = "",
    smtp_port: Annotated[str, Form()] = "",
    smtp_user: Annotated[str, Form()] = "",
    smtp_password: Annotated[str, Form()] = "",
    smtp_security: Annotated[str, Form()] = "starttls",
) -> Response:
    values = {
        "display_name": display_name.strip(),
        "signature": signature,
        "active": active is not None,
        "imap_host": imap_host.strip() or None,
        "imap_port": as_id(imap_port),
        "imap_user": imap_user.strip() or None,
        "imap_password": imap_password or None,
        "imap_security": imap_security,
        "imap_folder": imap_folder.strip() or "INBOX",
        "sent_folder": sent_folder.strip() or None,
        "smtp_host": smtp_host.strip() or None,
        "smtp_port": as_id(smtp_port),
        "smtp_user": smtp_user.strip() or None,
        "smtp_password": smtp_password or None,
        "smtp_security": smtp_security,
    }
    if (existing_id := as_id(mailbox_id)) is not None:
        mailbox = mailbox_service.get_mailbox(session, existing_id)
        mailbox_service.update_mailbox(session, mailbox=mailbox, by=agent, **values)
    else:
        mailbox_service.add_mailbox(session, address=address, by=agent, **values)
    return RedirectResponse("/admin/mailboxes", status_code=303)


@router.get("/agents", include_in_schema=False)
def agents(request: Request, session: SessionDep, agent: AdminAgent) -> Response:
    return render(request, "admin/agents.html", {"agents": agent_service.list_agents(session)})


@router.post("/agents", include_in_schema=False)
def agent_create(
    request: Request,
    session: SessionDep,
    agent: AdminAgent,
    email: Annotated[str, Form()],
    name: Annotated[str, Form()],
    password: Annotated[str, Form()],
    role: Annotated[str, Form()] = "agent",
) -> Response:
    agent_service.create_agent(
        session, email=email, name=name, password=password, admin=role == "admin", by=agent
    )
    return RedirectResponse("/admin/agents", status_code=303)


@router.post("/agents/{agent_id}", include_in_schema=False)
def agent_update(
    request: Request,
    agent_id: int,
    session: SessionDep,
    agent: AdminAgent,
    name: Annotated[str, Form()],
    role: Annotated[str, Form()] = "agent",
    active: Annotated[str | None, Form()] = None,
    password: Annotated[str, Form()] = "",
) -> Response:
    target = session.get(Agent, agent_id)
    if target is None:
        raise NotFound("No such agent")
    is_self = target.id == agent.id
    agent_service.update_agent(
        session,
        agent=target,
        by=agent,
        name=name.strip(),
        # Admins cannot lock themselves out (deactivate or demote their own account).
        role=Role(role) if role in Role.__members__ and not is_self else None,
        active=active is not None or is_self,
        password=password or None,
    )
    if is_self and password:
        # A new password ends the admin's other sessions, but not this one.
        login_session(request, target)
    return RedirectResponse("/admin/agents", status_code=303)
