"""Starting a conversation (a new ticket that begins with our mail) and saved replies admin."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlmodel import Session, select

from helpdesk.models import Mailbox
from helpdesk.services import mailboxes as mailbox_service
from helpdesk.services import replies, saved_replies
from helpdesk.services.errors import ServiceError
from helpdesk.values import Id, Key, Line, Text
from helpdesk.web.deps import AdminAgent, CurrentAgent, SessionDep
from helpdesk.web.forms import Checkbox, OptionalId, read_attachments
from helpdesk.web.templating import render

router = APIRouter()


class ConversationForm(BaseModel):
    """A new conversation: from which mailbox, to whom, what; ``token`` sends it once."""

    mailbox_id: Id
    to: Line
    subject: Line
    body: Text
    cc: Line = ""
    bcc: Line = ""
    files: list[UploadFile] = Field(default_factory=list)
    token: Key = ""


class SavedReplyForm(BaseModel):
    """A saved reply, new or (with ``reply_id``) edited."""

    title: Line
    body: Text
    reply_id: OptionalId = None
    active: Checkbox = False


def _conversation_page(
    request: Request,
    session: Session,
    values: dict[str, object],
    *,
    error: ServiceError | None = None,
) -> Response:
    boxes = session.exec(
        select(Mailbox).where(Mailbox.active == True).order_by(Mailbox.address)  # noqa: E712
    ).all()
    context = {
        "mailboxes": boxes,
        "form": values,
        "token": values.get("token") or uuid.uuid4().hex,
        "errors": {error.field or "form": error.text()} if error else {},
    }
    status = error.status_code if error else 200
    return render(request, "new_ticket.html", context, status_code=status)


@router.get("/tickets/new", include_in_schema=False)
def new_conversation(
    request: Request, session: SessionDep, agent: CurrentAgent, to: Line = ""
) -> Response:
    """The form: mailbox, a customer address or an E-tunnus number, subject, text."""
    return _conversation_page(request, session, {"to": to})


@router.post("/tickets/new", include_in_schema=False)
async def create_conversation(
    request: Request,
    session: SessionDep,
    agent: CurrentAgent,
    form: Annotated[ConversationForm, Form()],
) -> Response:
    """Open the ticket and queue the first mail; then show the ticket. A refusal shows the
    form again with the reason beside its field and everything typed kept (attachments
    must be chosen again: a browser never refills a file field)."""
    try:
        ticket = replies.start_conversation(
            session,
            mailbox=mailbox_service.get_mailbox(session, form.mailbox_id),
            agent=agent,
            to=form.to,
            subject=form.subject,
            body=form.body,
            cc=form.cc,
            bcc=form.bcc,
            attachments=await read_attachments(form.files),
            idempotency_key=f"web:new:{form.token}" if form.token else None,
        )
    except ServiceError as exc:
        values = form.model_dump(exclude={"files"})
        return _conversation_page(request, session, values, error=exc)
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
    form: Annotated[SavedReplyForm, Form()],
) -> Response:
    existing = (
        saved_replies.get_reply(session, form.reply_id) if form.reply_id is not None else None
    )
    saved_replies.save(
        session, by=agent, title=form.title, body=form.body, active=form.active, reply=existing
    )
    return RedirectResponse("/admin/saved-replies", status_code=303)
