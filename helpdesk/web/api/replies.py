"""Replies and new conversations over JSON: queued through the outbox like the UI's."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError

from helpdesk.models import Message
from helpdesk.services import agents as agent_service
from helpdesk.services import mailboxes as mailbox_service
from helpdesk.services import replies
from helpdesk.services import tickets as ticket_service
from helpdesk.services.errors import NotFound, ServiceError
from helpdesk.values import Id, Key, Line, Text, as_id
from helpdesk.web.api.tickets import MessageRead, TicketDetail, message_out, ticket_detail
from helpdesk.web.deps import CurrentAgent, SessionDep

router = APIRouter(tags=["replies"])


class AttachmentData(BaseModel):
    """A file in a JSON request: its bytes in base64."""

    filename: Line = Field(max_length=500)
    content_type: Line = Field(default="application/octet-stream", max_length=255)
    data: str


class ReplyCreate(BaseModel):
    """``POST /tickets/{id}/replies``; ``to`` defaults to the ticket's customer."""

    body: Text
    to: list[Line] | None = None
    cc: list[Line] = Field(default_factory=list)
    bcc: list[Line] = Field(default_factory=list)
    attachments: list[AttachmentData] = Field(default_factory=list)
    include_quote: bool = False
    expected_last_message_id: Id | None = None
    confirm: bool = False


class ReplyRead(MessageRead):
    """The queued reply, and its outbox row (for ``/outbox/{id}/cancel``)."""

    outbound_id: int | None


class OutboxRead(BaseModel):
    """An outgoing mail's state after undo or retry."""

    id: int
    status: str


class ConversationCreate(BaseModel):
    """``POST /tickets``: a new ticket that starts with our mail.

    ``to`` is an address or a 6-digit e-tunnus number; ``mailbox`` an address or id.
    """

    mailbox: Line
    to: Line
    subject: Line
    body: Text
    cc: list[Line] = Field(default_factory=list)
    bcc: list[Line] = Field(default_factory=list)
    attachments: list[AttachmentData] = Field(default_factory=list)


def _reply_schema() -> dict[str, Any]:
    """``ReplyCreate`` for the OpenAPI document: the body is read by hand (JSON or a form),
    so FastAPI does not list it. Its ``AttachmentData`` is a component already (the body
    of ``POST /tickets``), so the reference points there instead of to a ``$defs`` that
    OpenAPI has no place for."""
    schema = ReplyCreate.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return schema


def _files(items: list[AttachmentData]) -> list[replies.AttachmentIn]:
    result = []
    for item in items:
        try:
            data = base64.b64decode(item.data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ServiceError(f"Attachment {item.filename} is not valid base64") from exc
        result.append(replies.AttachmentIn(item.filename, item.content_type, data=data))
    return result


async def _payload(request: Request) -> ReplyCreate:
    """The reply as JSON, or as a form (multipart with files)."""
    content_type = request.headers.get("content-type", "")
    try:
        if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
            # A form (also when the CSRF check has read it already: it is kept, the stream
            # is not)
            form = await request.form()
            fields: dict[str, Any] = {
                k: str(form.get(k)) for k in ("body", "expected_last_message_id") if form.get(k)
            }
            for key in ("to", "cc", "bcc"):
                fields[key] = [str(v) for v in form.getlist(key)] or None
            fields["confirm"] = str(form.get("confirm", "")).lower() in ("1", "true", "yes")
            payload = ReplyCreate.model_validate({k: v for k, v in fields.items() if v is not None})
            uploads = [f for f in form.getlist("attachments") if not isinstance(f, str)]
            payload.attachments = [
                AttachmentData(
                    filename=u.filename or "liite",
                    content_type=u.content_type or "application/octet-stream",
                    data=base64.b64encode(await u.read()).decode(),
                )
                for u in uploads
            ]
            return payload
        return ReplyCreate.model_validate(await request.json())
    except ValidationError as exc:
        # The same 422 and field errors as a body FastAPI reads itself.
        raise RequestValidationError(
            [{**err, "loc": ("body", *err["loc"])} for err in exc.errors()]
        ) from exc
    except (ValueError, RecursionError) as exc:  # not JSON (or nested past the parser)
        raise RequestValidationError(
            [{"loc": ("body",), "msg": "The body is not valid JSON", "type": "json_invalid"}]
        ) from exc


@router.post(
    "/tickets/{ticket_id}/replies",
    status_code=201,
    response_model=ReplyRead,
    openapi_extra={"requestBody": {"content": {"application/json": {"schema": _reply_schema()}}}},
)
async def api_reply(
    ticket_id: Id,
    request: Request,
    session: SessionDep,
    agent: CurrentAgent,
    idempotency_key: Annotated[Key | None, Header()] = None,
) -> dict[str, Any]:
    """Queue a reply to the customer (JSON with base64 attachments, or multipart).

    The same ``Idempotency-Key`` returns the same message and sends nothing more. With
    ``expected_last_message_id`` older than the ticket's newest reply or note by someone
    else, answers 409 ``newer_message`` unless ``confirm`` is true.
    """
    payload = await _payload(request)
    ticket = ticket_service.get_ticket(session, ticket_id)
    message = replies.reply(
        session,
        ticket=ticket,
        agent=agent,
        body=payload.body,
        to=payload.to,
        cc=payload.cc,
        bcc=payload.bcc,
        attachments=_files(payload.attachments),
        include_quote=payload.include_quote,
        expected_last_message_id=payload.expected_last_message_id,
        confirm=payload.confirm,
        idempotency_key=f"api:{agent.id}:{idempotency_key}" if idempotency_key else None,
    )
    return queued_out(session, message)


def queued_out(session: SessionDep, message: Message) -> dict[str, Any]:
    """A queued message as ``ReplyRead``: the message and its outbox row's id."""
    files = ticket_service.attachments_by_message(session, [message])
    authors = {a.id or 0: a for a in agent_service.list_agents(session)}
    body = message_out(message, files.get(message.id or 0, []), authors)
    outbound = replies.for_messages(session, [message.id or 0]).get(message.id or 0)
    body["outbound_id"] = outbound.id if outbound else None
    return body


@router.post("/tickets", status_code=201, response_model=TicketDetail)
def api_start_conversation(
    change: ConversationCreate,
    session: SessionDep,
    agent: CurrentAgent,
    idempotency_key: Annotated[Key | None, Header()] = None,
) -> TicketDetail:
    """Open a ticket by writing to a customer address or an E-tunnus user."""
    mailbox = (
        mailbox_service.get_mailbox(session, mailbox_id)
        if (mailbox_id := as_id(change.mailbox)) is not None
        else mailbox_service.by_address(session, change.mailbox)
    )
    if mailbox is None:
        raise NotFound(f"No mailbox {change.mailbox}")
    ticket = replies.start_conversation(
        session,
        mailbox=mailbox,
        agent=agent,
        to=change.to,
        subject=change.subject,
        body=change.body,
        cc=change.cc,
        bcc=change.bcc,
        attachments=_files(change.attachments),
        idempotency_key=f"api:{agent.id}:{idempotency_key}" if idempotency_key else None,
    )
    return ticket_detail(session, ticket)


@router.post("/outbox/{outbound_id}/cancel", response_model=OutboxRead)
def api_cancel(outbound_id: Id, session: SessionDep, agent: CurrentAgent) -> dict[str, Any]:
    """Undo send while the mail is still queued."""
    row = replies.cancel(session, outbound=replies.get_outbound(session, outbound_id), agent=agent)
    return {"id": row.id, "status": str(row.status)}


@router.post("/outbox/{outbound_id}/retry", response_model=OutboxRead)
def api_retry(outbound_id: Id, session: SessionDep, agent: CurrentAgent) -> dict[str, Any]:
    """Send a failed mail again."""
    row = replies.retry(session, outbound=replies.get_outbound(session, outbound_id), agent=agent)
    return {"id": row.id, "status": str(row.status)}
