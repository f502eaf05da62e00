"""Demo phone calls for ``helpdesk demo``: a known caller, one appended to an open ticket,
and an unknown number, so that the calls list and user pages have something to show."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from helpdesk.models import Agent, Call, CallDirection, EtunnusUser, utcnow
from helpdesk.services import calls


def seed_calls(session: Session, users: dict[str, EtunnusUser], agent: Agent) -> int:
    """Log the demo calls once (nothing is added when any call exists)."""
    if session.exec(select(Call.id)).first() is not None:
        return 0
    now = utcnow()
    aino = users.get("100233")
    open_tickets = calls.open_tickets_of(session, aino) if aino else []
    calls.log_call(
        session,
        by=agent,
        phone="040 123 4567",  # Matti's number: found by the lookup
        started_at=now - timedelta(hours=5),
        duration_seconds=4 * 60 + 10,
        topic="Laskun eräpäivän siirto",
        notes="Kysyi, voiko laskun eräpäivää siirtää viikolla. Neuvottu tekemään hyvitys "
        "ja uusi lasku.",
        close=True,
    )
    if aino is not None:
        calls.log_call(
            session,
            by=agent,
            user=aino,
            ticket=open_tickets[0] if open_tickets else None,
            direction=CallDirection.outgoing,
            started_at=now - timedelta(hours=2),
            duration_seconds=2 * 60 + 45,
            topic="Soitto takaisin",
            notes="Kerroin, että viitenumero toimii ilman välilyöntejä.",
        )
    calls.log_call(
        session,
        by=agent,
        phone="050 999 8877",
        started_at=now - timedelta(minutes=40),
        duration_seconds=95,
        topic="Miten pääsen alkuun?",
        notes="Ei vielä käyttäjä. Ohjattu rekisteröitymään oma.e-tunnus.fi-palvelussa.",
    )
    return 3
