"""GET requests never write: every GET route of the app, the invoice plugin's included.

Each route is called by a logged-in agent with ids of rows that exist (a ticket with a
message, an attachment and a queued reply, a mailbox, a user, a synced invoice), and
fails if any INSERT, UPDATE or DELETE ran. A new GET route fails here until its path
parameters are given below.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import factories
import pytest
from netvisor_sandbox import serve_netvisor
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from statements import statements_run
from webclient import Client
from webroutes import all_routes

from helpdesk.blobs import BlobStore
from helpdesk.db import ReadOnlySession
from helpdesk.models import Agent, ApiToken, Attachment, EtunnusUser, OutboundMail
from helpdesk.services import agents as agent_service
from helpdesk.services import replies, saved_views, tags
from helpdesk.settings import get_settings
from helpdesk.web.deps import CurrentAgent, SessionDep
from plugins.invoices.models import Invoice
from plugins.invoices.sandboxes.demo import ensure_demo_users
from plugins.invoices.sync import sync_unsent

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
PARAM = re.compile(r"\{([^}]+)\}")
#: Query strings that make a route do its real work (search, lookup).
QUERIES = {
    "/tickets": "?q=lasku&tag=Lasku",
    "/users": "?q=Matti",
    "/calls/lookup": "?q=100102",
    "/calls/pick": "?etunnus=100102",
    "/tickets/{ticket_id}/links/search": "?q=Matti",
    "/api/v1/tickets": "?q=lasku",
    "/api/v1/users": "?q=Matti",
}
GET_PATHS = sorted({r.path for r in all_routes() if r.method == "GET"})


def _writes(seen: list[str]) -> list[str]:
    return [s for s in seen if WRITE.match(s)]


@pytest.fixture
def params(session: Session, admin: Agent, data_dir: object) -> Iterator[dict[str, str]]:
    """A value for every path parameter of the app's GET routes, each naming a real row."""
    with serve_netvisor() as sandbox:
        mp = pytest.MonkeyPatch()
        mp.setenv("HELPDESK_NETVISOR_URL", sandbox.url)
        ensure_demo_users(session)
        assert sync_unsent(session, sandbox.client(), datetime.now(UTC)).ok
        invoice = session.exec(select(Invoice).order_by(Invoice.id)).first()
        assert invoice is not None
        user = session.exec(select(EtunnusUser).where(EtunnusUser.etunnus == "100102")).one()
        mailbox = factories.mailbox(session)
        ticket = factories.ticket(session, mailbox=mailbox, text="Lasku 1001020007, T. 100102")
        message = factories.message(session, ticket, text="Liite mukana")
        store = BlobStore(get_settings().blob_dir)
        message.raw_sha256 = store.put(b"From: a@example.fi\r\nSubject: raw\r\n\r\nhei\r\n")
        attachment = Attachment(
            message_id=message.id,
            filename="kuva.png",
            content_type="image/png",
            size=12,
            sha256=store.put(b"\x89PNG\r\n\x1a\nfake"),
        )
        session.add_all([message, attachment])
        session.commit()
        replies.reply(session, ticket=ticket, agent=admin, body="Hei, katsomme asiaa.")
        outbound = session.exec(select(OutboundMail)).one()
        tag, _ = tags.tag_tickets(session, tickets=[ticket], name="Lasku", by=admin)
        view = saved_views.create(
            session, agent=admin, name="Laskut", filters={"tag": "Lasku", "q": "lasku"}, shared=True
        )
        yield {
            "tag_id": str(tag.id),
            "view_id": str(view.id),
            "ticket_id": str(ticket.id),
            "message_id": str(message.id),
            "attachment_id": str(attachment.id),
            "outbound_id": str(outbound.id),
            "mailbox_id": str(mailbox.id),
            "etunnus": user.etunnus,
            "invoice_id": str(invoice.id),
            "day": "2026-12-03",  # a business day of the same-day report
            "name": "calls",  # a report's CSV
        }
        mp.undo()


def test_every_get_route_writes_nothing(
    params: dict[str, str], logged_in: Client, engine: Engine
) -> None:
    problems: list[str] = []
    for path in GET_PATHS:
        url = PARAM.sub(lambda m: params[m.group(1)], path) + QUERIES.get(path, "")
        for headers in ({}, {"HX-Request": "true"}):
            with statements_run(engine) as seen:
                response = logged_in.get(url, headers=headers, follow_redirects=False)
            if response.status_code >= 400:
                problems.append(f"{url} {headers}: {response.status_code}")
            problems += [f"{url} {headers}: {s}" for s in _writes(seen)]
    assert problems == [], '\n'.join(problems)


def test_a_write_inside_a_get_fails_loudly(logged_in: Client, session: Session, app) -> None:
    @app.get("/test-writes-in-a-get")
    def writes(agent: CurrentAgent, db: SessionDep) -> str:
        db.add(Attachment(message_id=1, filename="x", size=1, sha256="a" * 64))
        db.flush()
        return "written"

    with pytest.raises(ReadOnlySession):
        logged_in.get("/test-writes-in-a-get")


def test_a_token_get_reads_and_its_use_is_written_after_at_most_every_5_minutes(
    client: Client, session: Session, admin: Agent, engine: Engine
) -> None:
    token = agent_service.create_token(session, agent=admin)
    row = session.exec(select(ApiToken)).one()
    headers = {"Authorization": f"Bearer {token}"}
    with statements_run(engine) as seen:
        assert client.get("/api/v1/tickets", headers=headers).status_code == 200
    # The one write is the token's own short unit after the response (a background task).
    assert [s.split()[0:2] for s in _writes(seen)] == [["UPDATE", "api_token"]]
    session.refresh(row)
    assert row.last_used_at is not None
    with statements_run(engine) as seen:
        assert client.get("/api/v1/tickets", headers=headers).status_code == 200
    assert _writes(seen) == []  # used a moment ago: nothing to write
    row.last_used_at = datetime.now(UTC) - timedelta(minutes=6)
    session.add(row)
    session.commit()
    with statements_run(engine) as seen:
        assert client.get("/api/v1/tickets", headers=headers).status_code == 200
    assert len(_writes(seen)) == 1

