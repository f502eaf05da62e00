"""What the ticket page shows of merging, splitting and forwarding (its own include files).

Kept apart from ``ticket_view`` so that the ticket page's other panels and this one change
without touching each other; the merge routes render the panel from here too.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlmodel import Session

from helpdesk.models import Message, Ticket
from helpdesk.services import forwarding, merging


def merge_context(
    session: Session,
    ticket: Ticket,
    messages: Sequence[Message],
    *,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
) -> dict[str, object]:
    """The ``merge`` entry of the ticket page's context: where a merged ticket went, the
    history of merges, splits and forwards, and the forms' state (errors beside fields)."""
    into = merging.resolve_merged(session, ticket) if ticket.merged_into_id else None
    return {
        "merge": {
            "into": into,
            "history": merging.history(session, ticket),
            "mail": [m for m in messages if m.kind in forwarding.FORWARDABLE],
            "splittable": [str(k) for k in merging.SPLITTABLE],
            "token": uuid.uuid4().hex,
            "errors": dict(errors or {}),
            "typed": dict(values or {}),
        }
    }
