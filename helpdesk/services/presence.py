"""Who else is in a ticket: a row per agent and ticket, refreshed by the page every ~15 s.

It lives in the database so that it works with several web processes; a row not
refreshed within ``FRESH`` is ignored (the agent closed the tab).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from helpdesk.db import transaction
from helpdesk.models import Agent, PresenceState, TicketPresence, utcnow

#: The page polls every 15 s; two missed polls and the agent is gone.
FRESH = timedelta(seconds=40)


@dataclass(frozen=True)
class Present:
    agent: Agent
    state: PresenceState


def touch(session: Session, *, ticket_id: int, agent: Agent, state: PresenceState) -> None:
    """Record that ``agent`` is viewing or composing in the ticket now."""
    now = utcnow()
    with transaction(session):
        row = session.exec(
            select(TicketPresence).where(
                TicketPresence.ticket_id == ticket_id, TicketPresence.agent_id == agent.id
            )
        ).first()
        if row is None:
            row = TicketPresence(ticket_id=ticket_id, agent_id=agent.id or 0)
        row.state, row.seen_at = state, now
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            pass  # the same agent's other tab inserted it a moment ago; its row is as good


def leave(session: Session, *, ticket_id: int, agent: Agent) -> None:
    with transaction(session):
        session.exec(
            delete(TicketPresence).where(
                col(TicketPresence.ticket_id) == ticket_id,
                col(TicketPresence.agent_id) == agent.id,
            )
        )


def others(session: Session, *, ticket_id: int, agent: Agent) -> list[Present]:
    """Other agents in the ticket right now, composers first."""
    since = utcnow() - FRESH
    rows = session.exec(
        select(TicketPresence, Agent)
        .join(Agent, col(Agent.id) == TicketPresence.agent_id)
        .where(
            TicketPresence.ticket_id == ticket_id,
            TicketPresence.agent_id != agent.id,
            col(TicketPresence.seen_at) >= since,
        )
    ).all()
    found = [Present(agent=a, state=PresenceState(p.state)) for p, a in rows]
    return sorted(found, key=lambda p: (p.state != PresenceState.composing, p.agent.name))
