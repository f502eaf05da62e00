"""Starting a conversation (a new ticket that begins with our mail) and saved replies admin."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlmodel import select

from helpdesk.models import Mailbox
from helpdesk.services import mailboxes as mailbox_service
from helpdesk.services import replies, saved_replies
from helpdesk.values import as_id
from helpdesk.web.deps import AdminAgent, CurrentAgent, SessionDep
from helpdesk.web.pages.composer import _attachments
from helpdesk.web.templating import render

router = APIRouter()


@router.get("/tickets/new", include_in_schema=False)
def new_conversation(
    request: Request, session: SessionDep, agent: CurrentAgent, to: str = ""
) -> Response:
    """The form: mailbox, a customer address or an E-tunnus number, subject, text."""
    boxes = session.exec(
        select(Mailbox).where(Mailbox.active == True).order_by(Mailbox.address)  # noqa: E712
    ).all()
    return render(
        request,
        "new_ticket.html",
        {"mailboxes": boxes, "to": to, "token": uuid.uuid4().hex},
    )


@router.post("/tickets/new", include_in_schema=False)
async def create_conversation(
    request: Request,
    session: SessionDep,
    agent: CurrentAgent,
    mailbox_id: Annotated[int, Form()],
    to: Annotated[str, Form()],
    subject: Annotated[str, Form()],
    body: Annotated[str, Form()],
    cc: Annotated[str, Form()] = "",
    bcc: Annotated[str, Form()] = "",
    files: Annotated[list[UploadFile] | None, Form()] = None,
    token: Annotated[str, Form()] = "",
) -> Response:
    """Open the ticket and queue the first mail; then show the ticket."""
    ticket = replies.start_conversation(
        session,
        mailbox=mailbox_service.get_mailbox(session, mailbox_id),
        agent=agent,
        to=to,
        subject=subject,
        body=body,
        cc=cc,
        bcc=bcc,
        attachments=await _attachments(files or []),
        idempotency_key=f"web:new:{token}" if token else None,
    )
    target = f"/tickets/{ticket.id}"
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


@router.get("/admin/saved-replies", include_in_schema=False)
def saved_reply_list(request: Request, session: SessionDep, agent: AdminAgent) -> Response:
    return render(
        request,
        "admin/saved_replies.html",
        {
            "replies": saved_replies.list_replies(session, active_only=False),
            "variables": ["{asiakas}", "{tiketti}", "{agentti}"],
        },
    )


@router.post("/admin/saved-replies", include_in_schema=False)
def saved_reply_save(
    request: Request,
    session: SessionDep,
    agent: AdminAgent,
    title: Annotated[str, Form()],
    body: Annotated[str, Form()],
    reply_id: Annotated[str, Form()] = "",
    active: Annotated[str | None, Form()] = None,
) -> Response:
    existing_id = as_id(reply_id)
    existing = saved_replies.get_reply(session, existing_id) if existing_id is not None else None
    saved_replies.save(
        session, by=agent, title=title, body=body, active=active is not None, reply=existing
    )
    return RedirectResponse("/admin/saved-replies", status_code=303)
