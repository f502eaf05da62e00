"""Bulk actions on tickets the agent selected in the inbox: one unit of work for all.

Each ticket changes through the same service as a single action (``tickets.set_status``,
``tickets.assign``, ``tags``), so each is audited as it would be alone; the bulk adds one
``tickets.bulk`` event naming the whole selection. Either every ticket changes or none does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session, col, select

from helpdesk.db import transaction
from helpdesk.i18n import N_, gettext, ngettext
from helpdesk.models import Agent, Ticket, TicketStatus
from helpdesk.services import audit, merging, tags
from helpdesk.services import tickets as ticket_service
from helpdesk.services.errors import NotFound, ServiceError

#: The most tickets one bulk action takes (a few pages of the inbox).
MAX_BULK = 500


class BulkAction(StrEnum):
    status = "status"
    assign = "assign"
    add_tag = "add_tag"
    remove_tag = "remove_tag"
    merge = "merge"


@dataclass(frozen=True)
class BulkResult:
    """What a bulk action did: how many of the selected tickets it changed."""

    action: BulkAction
    selected: int
    changed: int
    status: TicketStatus | None = None
    assignee: Agent | None = None
    tag: str | None = None
    target: Ticket | None = None


def selected_tickets(session: Session, ticket_ids: Sequence[int]) -> list[Ticket]:
    """The tickets by id, in the order given; an unknown id fails the whole selection."""
    ids = list(dict.fromkeys(ticket_ids))
    if not ids:
        raise ServiceError(N_("Select at least one ticket"), field="ids")
    if len(ids) > MAX_BULK:
        raise ServiceError(
            N_("At most %(max)s tickets at a time"), field="ids", params={"max": MAX_BULK}
        )
    found = {t.id: t for t in session.exec(select(Ticket).where(col(Ticket.id).in_(ids)))}
    if len(found) != len(ids):
        raise NotFound(N_("No such ticket"), field="ids")
    return [found[i] for i in ids]


def apply(
    session: Session,
    *,
    ticket_ids: Sequence[int],
    action: BulkAction | str,
    by: Agent,
    status: str | None = None,
    assignee: Agent | None = None,
    tag: str | None = None,
    target: Ticket | None = None,
) -> BulkResult:
    """Do ``action`` to every selected ticket in one transaction (audited per ticket).

    ``merge`` merges the selected tickets into ``target`` (``services.merging``); the
    target may be among the selected, and is then left out of the sources."""
    try:
        kind = BulkAction(action)
    except ValueError as exc:
        raise ServiceError(N_("Unknown action"), field="action") from exc
    if kind is BulkAction.merge:
        if target is None:
            raise ServiceError(N_("Choose the ticket to merge into"), field="target")
        ticket_ids = [i for i in ticket_ids if i != target.id]
    tickets = selected_tickets(session, ticket_ids)
    new_status: TicketStatus | None = None
    if kind is BulkAction.status:
        try:
            new_status = TicketStatus(status or "")
        except ValueError as exc:
            raise ServiceError(N_("Unknown status"), field="status") from exc
    if kind is BulkAction.assign and assignee is not None and not assignee.active:
        raise ServiceError(N_("That agent is not active"), field="assignee")
    if kind in (BulkAction.add_tag, BulkAction.remove_tag):
        tag = tags.clean_name(tag or "")
    with transaction(session):
        changed = 0
        if kind is BulkAction.status and new_status is not None:
            for ticket in tickets:
                before = ticket.status
                ticket_service.set_status(session, ticket=ticket, status=new_status, by=by)
                changed += before != ticket.status
        elif kind is BulkAction.assign:
            new_id = assignee.id if assignee else None
            for ticket in tickets:
                before_id = ticket.assignee_id
                ticket_service.assign(session, ticket=ticket, assignee=assignee, by=by)
                changed += before_id != new_id
        elif kind is BulkAction.merge and target is not None:
            merging.merge_tickets(
                session, target_id=target.id or 0, source_ids=[t.id or 0 for t in tickets], agent=by
            )
            changed = len(tickets)
        elif kind is BulkAction.add_tag:
            label, changed = tags.tag_tickets(session, tickets=tickets, name=tag or "", by=by)
            tag = label.name
        else:
            found = tags.find(session, tag or "")
            if found is None:
                raise NotFound(N_("No such tag"), field="tag")
            changed = tags.untag_tickets(session, tickets=tickets, tag=found, by=by)
            tag = found.name
        audit.record(
            session,
            action="tickets.bulk",
            agent=by,
            object_type="ticket",
            object_id="bulk",
            bulk=str(kind),
            tickets=[t.id for t in tickets],
            changed=changed,
            status=str(new_status) if new_status else None,
            assignee=assignee.id if assignee else None,
            tag=tag,
            target=target.id if target else None,
        )
    return BulkResult(
        action=kind,
        selected=len(tickets),
        changed=changed,
        status=new_status,
        assignee=assignee,
        tag=tag,
        target=target,
    )


def summary(result: BulkResult) -> str:
    """What the bulk action did, in the agent's language ("12 tikettiä suljettu")."""
    n = result.changed
    if result.status is TicketStatus.closed:
        text = ngettext("%(num)s ticket closed", "%(num)s tickets closed", n) % {"num": n}
    elif result.status is TicketStatus.pending:
        text = ngettext("%(num)s ticket set pending", "%(num)s tickets set pending", n) % {"num": n}
    elif result.status is TicketStatus.open:
        text = ngettext("%(num)s ticket reopened", "%(num)s tickets reopened", n) % {"num": n}
    elif result.action is BulkAction.assign and result.assignee is not None:
        text = ngettext(
            "%(num)s ticket assigned to %(name)s", "%(num)s tickets assigned to %(name)s", n
        ) % {"num": n, "name": result.assignee.name}
    elif result.action is BulkAction.assign:
        text = ngettext("%(num)s ticket unassigned", "%(num)s tickets unassigned", n) % {"num": n}
    elif result.action is BulkAction.merge and result.target is not None:
        text = ngettext(
            "%(num)s ticket merged into #%(number)s", "%(num)s tickets merged into #%(number)s", n
        ) % {"num": n, "number": result.target.number}
    elif result.action is BulkAction.add_tag:
        text = ngettext(
            "Tag %(tag)s added to %(num)s ticket", "Tag %(tag)s added to %(num)s tickets", n
        ) % {"num": n, "tag": result.tag}
    else:
        text = ngettext(
            "Tag %(tag)s removed from %(num)s ticket", "Tag %(tag)s removed from %(num)s tickets", n
        ) % {"num": n, "tag": result.tag}
    if n < result.selected:
        text += " " + gettext("(%(num)s unchanged)") % {"num": result.selected - n}
    return text
