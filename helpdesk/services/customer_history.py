"""The ticket sidebar's customer history: the customer's other tickets, calls and invoices.

The customer is the ticket's linked E-tunnus user, or, without one, its sender address.
Each list is the latest ``LIMIT`` (one query each, none per row); the sidebar's "show all"
goes to the user's page or to the inbox searched for the address. Invoices come from the
plugins (``helpdesk_customer_history``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from sqlalchemy import or_
from sqlmodel import Session, col, select

from helpdesk.hookspecs import HistoryItem
from helpdesk.models import Call, EtunnusUser, Ticket
from helpdesk.plugins import collect, hook

#: How many of each kind the sidebar shows.
LIMIT = 5


@dataclass
class CustomerHistory:
    """What the sidebar shows; ``more_*`` says there are older ones behind ``all_url``."""

    tickets: list[Ticket] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    invoices: list[HistoryItem] = field(default_factory=list)
    more_tickets: bool = False
    more_calls: bool = False
    more_invoices: bool = False
    all_url: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.tickets or self.calls or self.invoices)


def customer_history(
    session: Session, ticket: Ticket, user: EtunnusUser | None = None, *, limit: int = LIMIT
) -> CustomerHistory:
    """The customer's latest other tickets, calls and invoices (``user``: the linked one)."""
    if user is None and ticket.user_id is not None:
        user = session.get(EtunnusUser, ticket.user_id)
    history = CustomerHistory()
    query = select(Ticket).where(col(Ticket.id) != ticket.id)
    if user is not None:
        call_tickets = select(Call.ticket_id).where(Call.user_id == user.id)
        query = query.where(or_(col(Ticket.user_id) == user.id, col(Ticket.id).in_(call_tickets)))
        history.all_url = f"/users/{user.etunnus}"
    elif ticket.customer_email:
        query = query.where(col(Ticket.customer_email) == ticket.customer_email)
        history.all_url = "/tickets?" + urlencode({"status": "", "q": ticket.customer_email})
    else:
        return history
    tickets = list(
        session.exec(
            query.order_by(col(Ticket.last_message_at).desc(), col(Ticket.id).desc()).limit(
                limit + 1
            )
        )
    )
    history.tickets, history.more_tickets = tickets[:limit], len(tickets) > limit
    if user is None:
        return history
    calls = list(
        session.exec(
            select(Call)
            .where(Call.user_id == user.id)
            .order_by(col(Call.started_at).desc(), col(Call.id).desc())
            .limit(limit + 1)
        )
    )
    history.calls, history.more_calls = calls[:limit], len(calls) > limit
    invoices = collect(
        hook().helpdesk_customer_history(session=session, user=user, limit=limit + 1)
    )
    history.invoices, history.more_invoices = invoices[:limit], len(invoices) > limit
    return history
