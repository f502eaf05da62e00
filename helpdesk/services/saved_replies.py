"""Saved replies: Finnish templates admins keep, filled in for the ticket at hand.

Variables are written in braces, Finnish or English: ``{asiakas}``/``{customer_name}``,
``{tiketti}``/``{ticket_number}``, ``{agentti}``/``{agent_name}``. Anything else in braces
is left as written, and a lone brace is just a brace (which is why this is a small
substitution rather than ``str.format_map``: a stray ``{`` would make that raise).
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from helpdesk.db import transaction
from helpdesk.models import Agent, SavedReply, Ticket, utcnow
from helpdesk.services import audit, reply_text
from helpdesk.services.errors import Conflict, NotFound, ServiceError

VARIABLES = {
    "asiakas": "customer_name",
    "customer_name": "customer_name",
    "tiketti": "ticket_number",
    "ticket_number": "ticket_number",
    "agentti": "agent_name",
    "agent_name": "agent_name",
}


def render(body: str, *, ticket: Ticket | None, agent: Agent) -> str:
    """The template with its variables filled in; unknown ones stay as they are."""
    values = {
        "customer_name": (ticket.customer_name or "") if ticket else "",
        "ticket_number": f"#{ticket.number}" if ticket and ticket.number else "",
        "agent_name": agent.name,
    }

    return reply_text.fill_variables(body, {name: values[key] for name, key in VARIABLES.items()})


def list_replies(session: Session, *, active_only: bool = True) -> list[SavedReply]:
    query = select(SavedReply).order_by(col(SavedReply.title))
    if active_only:
        query = query.where(col(SavedReply.active).is_(True))
    return list(session.exec(query))


def get_reply(session: Session, reply_id: int) -> SavedReply:
    row = session.get(SavedReply, reply_id)
    if row is None:
        raise NotFound("No such saved reply")
    return row


def save(
    session: Session,
    *,
    by: Agent,
    title: str,
    body: str,
    active: bool = True,
    reply: SavedReply | None = None,
) -> SavedReply:
    """Create a saved reply, or change ``reply``; titles are unique (audited)."""
    title = title.strip()
    if not title or not body.strip():
        raise ServiceError("A saved reply needs a title and a text")
    with transaction(session):
        clash = session.exec(select(SavedReply).where(SavedReply.title == title)).first()
        if clash is not None and (reply is None or clash.id != reply.id):
            raise Conflict(f"A saved reply called {title} exists already")
        row = reply or SavedReply(title=title, created_by=by.id)
        row.title, row.body, row.active = title, body, active
        row.updated_by, row.updated_at = by.id, utcnow()
        session.add(row)
        session.flush()
        audit.record(
            session,
            action="saved_reply.update" if reply else "saved_reply.create",
            agent=by,
            object_type="saved_reply",
            object_id=row.id,
            title=title,
        )
    return row


#: Examples for the demo (``helpdesk demo``), in the team's own words.
EXAMPLES = [
    (
        "Lasku lähetetty",
        "Hei {asiakas},\n\nkiitos viestistäsi. Laskusi on nyt tarkistettu ja lähetetty "
        "eteenpäin valitsemallasi toimitustavalla. Se näkyy jatkossa avoimissa saatavissa.\n\n"
        "Viitteesi asiassa on {tiketti}.\n\nTerveisin\n{agentti}",
    ),
    (
        "Laskussa korjattavaa",
        "Hei {asiakas},\n\ntarkistimme laskusi, mutta siinä on korjattavaa ennen kuin voimme "
        "lähettää sen eteenpäin:\n\n- \n\nVoisitko tarkistaa tiedot ja vastata tähän viestiin? "
        "Lähetämme laskun heti, kun tiedot ovat kunnossa.\n\nTerveisin\n{agentti}",
    ),
    (
        "Verkkolaskuosoite puuttuu",
        "Hei {asiakas},\n\nlaskun toimitustavaksi on valittu verkkolasku, mutta asiakkaasi "
        "verkkolaskuosoite tai välittäjätunnus puuttuu. Lähetätkö ne meille vastaamalla tähän "
        "viestiin, niin toimitamme laskun perille.\n\nTerveisin\n{agentti}",
    ),
    (
        "Kiitos yhteydenotosta",
        "Hei {asiakas},\n\nkiitos yhteydenotostasi. Selvitämme asiaa ja palaamme sinulle "
        "viimeistään seuraavana arkipäivänä. Asian numero on {tiketti}.\n\nTerveisin\n{agentti}",
    ),
]


def seed_examples(session: Session, *, by: Agent) -> int:
    """Add the example saved replies that are missing (idempotent); returns how many."""
    have = {r.title for r in list_replies(session, active_only=False)}
    added = 0
    for title, body in EXAMPLES:
        if title not in have:
            save(session, by=by, title=title, body=body)
            added += 1
    return added
