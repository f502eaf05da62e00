"""Attachment and raw-source downloads: always as files, never rendered by the browser."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.responses import FileResponse

from helpdesk.blobs import BlobStore
from helpdesk.mail.parsing.filenames import neutral_filename
from helpdesk.models import Attachment, Message
from helpdesk.services.errors import NotFound
from helpdesk.settings import get_settings
from helpdesk.values import Id
from helpdesk.web.deps import CurrentAgent, SessionDep

router = APIRouter()

#: Image types we show inline in the thread; everything else is only downloaded.
INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def blob_store() -> BlobStore:
    return BlobStore(get_settings().blob_dir)


def _file(sha256: str, filename: str, content_type: str, disposition: str) -> Response:
    store = blob_store()
    if not store.exists(sha256):
        raise NotFound("The file is missing from the store")
    response = FileResponse(
        store.path(sha256),
        media_type=content_type,
        filename=filename,
        content_disposition_type=disposition,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _name(att: Attachment) -> str:
    """The name the browser is given: neutralised, whatever was stored (``neutral_filename``)."""
    return neutral_filename(att.filename, f"attachment-{att.id}")


@router.get("/attachments/{attachment_id}", include_in_schema=False)
def download(attachment_id: Id, session: SessionDep, agent: CurrentAgent) -> Response:
    att = session.get(Attachment, attachment_id)
    if att is None:
        raise NotFound("No such attachment")
    return _file(att.sha256, _name(att), "application/octet-stream", "attachment")


@router.get("/attachments/{attachment_id}/inline", include_in_schema=False)
def inline_image(attachment_id: Id, session: SessionDep, agent: CurrentAgent) -> Response:
    att = session.get(Attachment, attachment_id)
    if att is None or att.content_type.lower() not in INLINE_IMAGE_TYPES:
        raise NotFound("No such image")
    return _file(att.sha256, _name(att), att.content_type.lower(), "inline")


@router.get("/messages/{message_id}/raw", include_in_schema=False)
def raw_source(message_id: Id, session: SessionDep, agent: CurrentAgent) -> Response:
    message = session.get(Message, message_id)
    if message is None or not message.raw_sha256:
        raise NotFound("This message has no stored source")
    return _file(message.raw_sha256, f"message-{message_id}.eml", "message/rfc822", "attachment")
