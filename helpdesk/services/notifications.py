"""Notifications: following tickets, telling followers what happened, the agent's list.

Who hears of a change in a ticket: its followers and its assignee, never the agent who
made it; an agent mentioned in a note hears of it as a mention and follows the ticket from
then on. The ``on_*`` functions are steps: they add rows in the unit of work of the action
they report (a note, a reply, a status or an assignment; mail-in's group writer calls
``on_incoming`` once per group, one statement). Notifications are mailed by
the worker (``helpdesk.services.notification_mail``) to agents who asked for it.

``notify_admins`` is for the rest of the core: a notice to every active admin, e.g. that
a mailbox needs to be connected again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, String, and_, func, insert, literal, union, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from helpdesk.db import transaction
from helpdesk.i18n import N_, gettext
from helpdesk.models import (
    Agent,
    Message,
    Notification,
    NotificationKind,
    NotifyEmail,
    Role,
    Ticket,
    TicketFollower,
    UTCDateTime,
    utcnow,
)
from helpdesk.services import mentions
from helpdesk.services.errors import NotFound

NOTIFICATIONS = Notification.__table__  # type: ignore[attr-defined]
PAGE_SIZE = 50

#: What each kind says; ``%(actor)s`` and ``%(ticket)s`` (``#1042``) are filled in.
TEXTS: dict[str, str] = {
    NotificationKind.mention: N_("%(actor)s mentioned you in %(ticket)s"),
    NotificationKind.note: N_("%(actor)s added a note to %(ticket)s"),
    NotificationKind.incoming: N_("New mail from the customer in %(ticket)s"),
    NotificationKind.reply: N_("%(actor)s replied in %(ticket)s"),
    NotificationKind.status: N_("%(actor)s set %(ticket)s to %(status)s"),
    NotificationKind.assigned: N_("%(actor)s assigned %(ticket)s to %(assignee)s"),
}

UNASSIGNED = N_("%(actor)s unassigned %(ticket)s")


# Following ---------------------------------------------------------------------------


def is_following(session: Session, *, ticket_id: int, agent: Agent) -> bool:
    return session.get(TicketFollower, (ticket_id, agent.id)) is not None


def follow(session: Session, *, ticket: Ticket, agent: Agent) -> None:
    """Follow the ticket (a unit of work; following twice is following)."""
    try:
        with transaction(session):
            _follow(session, ticket.id or 0, [agent.id or 0])
    except IntegrityError:  # a second click won the race: followed all the same
        pass


def unfollow(session: Session, *, ticket: Ticket, agent: Agent) -> None:
    """Stop following the ticket (the assignee still hears of it as the assignee)."""
    with transaction(session):
        row = session.get(TicketFollower, (ticket.id, agent.id))
        if row is not None:
            session.delete(row)


def _follow(session: Session, ticket_id: int, agent_ids: Iterable[int]) -> None:
    wanted = set(agent_ids)
    if not wanted:
        return
    have = set(
        session.exec(
            select(TicketFollower.agent_id).where(
                TicketFollower.ticket_id == ticket_id, col(TicketFollower.agent_id).in_(wanted)
            )
        )
    )
    for agent_id in sorted(wanted - have):
        session.add(TicketFollower(ticket_id=ticket_id, agent_id=agent_id))
    session.flush()


def followers(session: Session, ticket_id: int) -> list[Agent]:
    return list(
        session.exec(
            select(Agent)
            .join(TicketFollower, col(TicketFollower.agent_id) == Agent.id)
            .where(TicketFollower.ticket_id == ticket_id)
            .order_by(col(Agent.name))
        )
    )


# Telling ------------------------------------------------------------------------------


def _audience(session: Session, ticket_ids: Sequence[int]) -> dict[int, set[int]]:
    """Each ticket's followers and assignee (active agents only), in two queries."""
    result: dict[int, set[int]] = {t: set() for t in ticket_ids}
    if not ticket_ids:
        return result
    active = col(Agent.active).is_(True)
    rows = session.exec(
        select(TicketFollower.ticket_id, TicketFollower.agent_id)
        .join(Agent, col(Agent.id) == TicketFollower.agent_id)
        .where(col(TicketFollower.ticket_id).in_(ticket_ids), active)
    )
    for ticket_id, agent_id in rows:
        result[ticket_id].add(agent_id)
    assigned = session.exec(
        select(Ticket.id, Ticket.assignee_id)
        .join(Agent, col(Agent.id) == Ticket.assignee_id)
        .where(col(Ticket.id).in_(ticket_ids), active)
    )
    for assigned_ticket, assignee in assigned:
        if assigned_ticket is not None and assignee is not None:
            result[assigned_ticket].add(assignee)
    return result


def _mailed(session: Session, agent_ids: Iterable[int]) -> set[int]:
    """Of ``agent_ids``, those who want their notifications by mail too."""
    ids = set(agent_ids)
    if not ids:
        return set()
    wanted = select(Agent).where(
        col(Agent.id).in_(ids), Agent.notify_email == NotifyEmail.immediately
    )
    return {a.id for a in session.exec(wanted) if a.id is not None}


def _add(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert notification rows in one statement, marking those to be mailed."""
    if not rows:
        return
    mailed = _mailed(session, (r["agent_id"] for r in rows))
    now = utcnow()
    for row in rows:
        row.setdefault("params", {})
        row.setdefault("message_id", None)
        row.setdefault("ticket_id", None)
        row.setdefault("actor_id", None)
        row |= {"created_at": now, "read_at": None, "mail_due": row["agent_id"] in mailed}
    session.flush()
    session.connection().execute(insert(NOTIFICATIONS), rows)


def _tell(
    session: Session,
    *,
    ticket: Ticket,
    kind: NotificationKind,
    actor: Agent | None,
    message_id: int | None = None,
    params: Mapping[str, Any] | None = None,
    also: Iterable[int] = (),
    besides: Iterable[int] = (),
) -> None:
    ticket_id = ticket.id or 0
    audience = (_audience(session, [ticket_id])[ticket_id] | set(also)) - set(besides)
    if actor is not None and actor.id is not None:
        audience.discard(actor.id)
    _add(
        session,
        [
            {
                "agent_id": agent_id,
                "kind": kind,
                "ticket_id": ticket_id,
                "message_id": message_id,
                "actor_id": actor.id if actor else None,
                "params": dict(params or {}),
            }
            for agent_id in sorted(audience)
        ],
    )


def on_note(session: Session, *, ticket: Ticket, note: Message, actor: Agent) -> None:
    """A note: its mentions kept and told (they follow from now on), followers told."""
    found = mentions.resolve(session, note.text)
    mentioned = {a.id or 0 for a in found.values()} - {actor.id or 0}
    mentions.record(session, message_id=note.id or 0, found=found)
    _tell(
        session,
        ticket=ticket,
        kind=NotificationKind.note,
        actor=actor,
        message_id=note.id,
        besides=mentioned,
    )
    ticket_id = ticket.id or 0
    _add(
        session,
        [
            {
                "agent_id": agent_id,
                "kind": NotificationKind.mention,
                "ticket_id": ticket_id,
                "message_id": note.id,
                "actor_id": actor.id,
            }
            for agent_id in sorted(mentioned)
        ],
    )
    _follow(session, ticket_id, mentioned)


def on_reply(session: Session, *, ticket: Ticket, message_id: int | None, actor: Agent) -> None:
    _tell(session, ticket=ticket, kind=NotificationKind.reply, actor=actor, message_id=message_id)


def on_status(session: Session, *, ticket: Ticket, actor: Agent | None) -> None:
    _tell(
        session,
        ticket=ticket,
        kind=NotificationKind.status,
        actor=actor,
        params={"status": str(ticket.status)},
    )


def on_assign(
    session: Session, *, ticket: Ticket, old_assignee_id: int | None, actor: Agent | None
) -> None:
    """The old assignee, the new one and the followers hear of it."""
    _tell(
        session,
        ticket=ticket,
        kind=NotificationKind.assigned,
        actor=actor,
        params={"assignee_id": ticket.assignee_id},
        also=[old_assignee_id] if old_assignee_id else [],
    )


def on_incoming(session: Session, message_ids: Sequence[int]) -> None:
    """Customer mail written by mail-in: one INSERT ... SELECT for the whole group.

    The database finds each message's followers and assignee (active agents, each once)
    and writes their rows itself, so a group costs one statement however many are told;
    a group of new tickets (nobody follows them yet) writes nothing.
    """
    if not message_ids:
        return
    ids = list(message_ids)
    messages = Message.__table__  # type: ignore[attr-defined]
    tickets = Ticket.__table__  # type: ignore[attr-defined]
    followers = TicketFollower.__table__  # type: ignore[attr-defined]
    agents = Agent.__table__  # type: ignore[attr-defined]
    told = (
        messages.c.ticket_id,
        messages.c.id.label("message_id"),
        (agents.c.notify_email == NotifyEmail.immediately.value).label("mail_due"),
    )
    by_following = (
        sa_select(followers.c.agent_id, *told)
        .select_from(messages)
        .join(followers, followers.c.ticket_id == messages.c.ticket_id)
        .join(agents, and_(agents.c.id == followers.c.agent_id, agents.c.active.is_(True)))
        .where(messages.c.id.in_(ids))
    )
    by_assignment = (
        sa_select(tickets.c.assignee_id, *told)
        .select_from(messages)
        .join(tickets, tickets.c.id == messages.c.ticket_id)
        .join(agents, and_(agents.c.id == tickets.c.assignee_id, agents.c.active.is_(True)))
        .where(messages.c.id.in_(ids))
    )
    # UNION: an assignee who also follows is told once.
    audience = union(by_following, by_assignment).subquery()
    rows = sa_select(
        audience.c.agent_id,
        literal(str(NotificationKind.incoming), String(16)),
        audience.c.ticket_id,
        audience.c.message_id,
        literal({}, JSON()),
        literal(utcnow(), UTCDateTime()),
        audience.c.mail_due,
    )
    columns = ["agent_id", "kind", "ticket_id", "message_id", "params", "created_at", "mail_due"]
    session.flush()
    session.connection().execute(insert(NOTIFICATIONS).from_select(columns, rows))


def notify_admins(
    session: Session,
    *,
    message: str,
    params: Mapping[str, str | int] | None = None,
    ticket: Ticket | None = None,
    actor: Agent | None = None,
) -> int:
    """Tell every active admin ``message`` (a catalog id marked with ``N_``, with
    ``%(name)s`` placeholders filled from ``params``); returns how many were told.

    A unit of work that joins the caller's when called inside one. Admins who asked for
    mail get it too.
    """
    with transaction(session):
        admins = session.exec(
            select(Agent.id).where(Agent.role == Role.admin, col(Agent.active).is_(True))
        )
        rows = [
            {
                "agent_id": agent_id,
                "kind": NotificationKind.admin,
                "ticket_id": ticket.id if ticket else None,
                "actor_id": actor.id if actor else None,
                "params": {"message": message, "values": dict(params or {})},
            }
            for agent_id in admins
            if agent_id is not None and (actor is None or agent_id != actor.id)
        ]
        _add(session, rows)
    return len(rows)


# Reading ------------------------------------------------------------------------------


def unread_count(session: Session, agent: Agent) -> int:
    """The badge: one count on ``ix_notification_agent_unread``."""
    return session.exec(
        select(func.count())
        .select_from(Notification)
        .where(Notification.agent_id == agent.id, col(Notification.read_at).is_(None))
    ).one()


@dataclass(frozen=True)
class Shown:
    """A notification with what its text needs."""

    notification: Notification
    ticket: Ticket | None
    actor: Agent | None
    text: str

    @property
    def url(self) -> str:
        n = self.notification
        if self.ticket is None:
            return "/notifications"
        anchor = f"#m{n.message_id}" if n.message_id else ""
        return f"/tickets/{self.ticket.id}{anchor}"


def describe(
    n: Notification,
    *,
    ticket: Ticket | None,
    actor: Agent | None,
    names: Mapping[int, str],
    translate: Any = gettext,
) -> str:
    """The notification in words, in the language of ``translate``."""
    if n.kind == NotificationKind.admin:
        values = dict(n.params.get("values") or {})
        text = translate(str(n.params.get("message") or ""))
        try:
            return str(text % values) if values else str(text)
        except (KeyError, TypeError, ValueError):
            return str(text)
    values = {
        "actor": actor.name if actor else translate("Someone"),
        "ticket": f"#{ticket.number}" if ticket else "",
        "status": translate(str(n.params.get("status", ""))),
        "assignee": names.get(int(n.params.get("assignee_id") or 0)) or translate("nobody"),
    }
    return str(translate(TEXTS.get(n.kind, "%(ticket)s")) % values)


def shown(session: Session, rows: Sequence[Notification], translate: Any = gettext) -> list[Shown]:
    """Rows with their tickets and agents (two queries) and their text."""
    ticket_ids = {n.ticket_id for n in rows if n.ticket_id}
    tickets = {t.id: t for t in session.exec(select(Ticket).where(col(Ticket.id).in_(ticket_ids)))}
    agent_ids = {n.actor_id for n in rows if n.actor_id} | {
        int(n.params["assignee_id"]) for n in rows if n.params.get("assignee_id")
    }
    agents = {a.id: a for a in session.exec(select(Agent).where(col(Agent.id).in_(agent_ids)))}
    names = {i: a.name for i, a in agents.items() if i is not None}
    result = []
    for n in rows:
        ticket = tickets.get(n.ticket_id) if n.ticket_id else None
        actor = agents.get(n.actor_id) if n.actor_id else None
        text = describe(n, ticket=ticket, actor=actor, names=names, translate=translate)
        result.append(Shown(notification=n, ticket=ticket, actor=actor, text=text))
    return result


def list_for(
    session: Session,
    agent: Agent,
    *,
    unread_only: bool = False,
    before: int | None = None,
    limit: int = PAGE_SIZE,
) -> list[Shown]:
    """The agent's notifications, newest first (``before``: an id, for the next page)."""
    query = select(Notification).where(Notification.agent_id == agent.id)
    if unread_only:
        query = query.where(col(Notification.read_at).is_(None))
    if before is not None:
        query = query.where(col(Notification.id) < before)
    rows = list(session.exec(query.order_by(col(Notification.id).desc()).limit(limit)))
    return shown(session, rows)


def get_own(session: Session, agent: Agent, notification_id: int) -> Notification:
    found = session.get(Notification, notification_id)
    if found is None or found.agent_id != agent.id:
        raise NotFound(N_("No such notification"))
    return found


def mark_read(session: Session, *, agent: Agent, ids: Sequence[int] | None = None) -> int:
    """Mark the agent's notifications read (``ids``, or all); returns how many changed."""
    stmt = update(NOTIFICATIONS).where(
        NOTIFICATIONS.c.agent_id == agent.id, NOTIFICATIONS.c.read_at.is_(None)
    )
    if ids is not None:
        if not ids:
            return 0
        stmt = stmt.where(NOTIFICATIONS.c.id.in_(list(ids)))
    with transaction(session):
        changed = session.connection().execute(stmt.values(read_at=utcnow())).rowcount
    return int(changed or 0)


def open_one(session: Session, *, agent: Agent, notification_id: int) -> Shown:
    """Mark one notification read and answer where it leads."""
    found = get_own(session, agent, notification_id)
    mark_read(session, agent=agent, ids=[notification_id])
    session.refresh(found)
    return shown(session, [found])[0]


def set_email_preference(session: Session, *, agent: Agent, value: NotifyEmail) -> None:
    """The profile's "also by email" choice (a unit of work)."""
    with transaction(session):
        fresh = session.get(Agent, agent.id)
        assert fresh is not None
        fresh.notify_email = NotifyEmail(value).value
        session.add(fresh)
