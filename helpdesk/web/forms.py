"""What the pages' form models share: how a browser's form fields are read.

Each page declares its form as a pydantic model taken with ``Annotated[Model, Form()]``.
Browsers send every field as text and FastAPI leaves empty fields out, so a model's
defaults say what an empty field means. A field that cannot be read gives the page's
usual error ("Some fields are missing or invalid", see ``helpdesk.web.app``), never a
raw 422; values that need the database or give their own message are checked by the
route or the service, as before. Text fields are ``Line`` or ``Text`` and ids ``Id``
(``helpdesk.values``), so a NUL, a lone surrogate, an over-long value or an id no column
holds is that same error, never a database error.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import UploadFile
from pydantic import BeforeValidator

from helpdesk.i18n import gettext
from helpdesk.services import replies
from helpdesk.services.errors import ServiceError
from helpdesk.settings import get_settings
from helpdesk.values import as_id


def _ticked(value: Any) -> bool:
    return value is not None


#: An id typed or chosen in a form: ASCII digits; anything else reads as no id.
OptionalId = Annotated[int | None, BeforeValidator(as_id)]

#: A checkbox: ticked when the browser sends the field, whatever its value.
Checkbox = Annotated[bool, BeforeValidator(_ticked)]


async def read_attachments(files: list[UploadFile]) -> list[replies.AttachmentIn]:
    """The uploaded files as attachments; refused as a whole when over the size limit."""
    limit = get_settings().max_attachment_bytes
    result, total = [], 0
    for upload in files:
        if not upload.filename:
            continue  # the empty file input of a form sent without files
        data = await upload.read(limit + 1 - total)
        total += len(data)
        if total > limit:
            raise ServiceError(
                gettext("The attachments are larger than the limit of %(mb).0f MB")
                % {"mb": limit / 1048576}
            )
        result.append(
            replies.AttachmentIn(
                filename=upload.filename,
                content_type=upload.content_type or "application/octet-stream",
                data=data,
            )
        )
    return result
