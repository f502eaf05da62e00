"""Notifications on mail-in: what telling followers costs ingest, with a same-run baseline.

    python bench/notifications.py [--tickets 300] [--replies 1500] [--followers 3]
                                  [--rounds 3] [--db URL]

Opens ``--tickets`` tickets by ingesting their first mails, gives each ``--followers``
followers and an assignee, then ingests ``--replies`` customer answers threaded into them
(groups of 50 mails, one transaction each, as ``mail/inbound/fetch.py`` does) twice, on
fresh tickets each time: once as the product does (``notifications.on_incoming``: one read
of followers and one INSERT per group) and once with that step switched off (the
baseline), alternating for ``--rounds``. Mails are parsed before timing; only ingest
and commit are timed. Prints milliseconds per mail for both, the time spent inside
``on_incoming`` itself, their ratio and how many notification rows were written.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
WORK = Path(tempfile.mkdtemp(prefix="bench-notifications-"))
os.environ.setdefault("HELPDESK_ENVIRONMENT", "development")
os.environ["HELPDESK_DATA_DIR"] = str(WORK / "data")  # before the settings are read

import mailgen  # noqa: E402
from sqlmodel import func, select  # noqa: E402

from helpdesk import migrate  # noqa: E402
from helpdesk.blobs import BlobStore  # noqa: E402
from helpdesk.db import new_session, transaction  # noqa: E402
from helpdesk.mail.inbound import writer  # noqa: E402
from helpdesk.mail.inbound.ingest import ingest  # noqa: E402
from helpdesk.mail.inbound.prepare import prepare  # noqa: E402
from helpdesk.mail.inbound.rows import Arrival, Source  # noqa: E402
from helpdesk.models import Agent, Message, Notification, Ticket, TicketFollower  # noqa: E402
from helpdesk.security import hash_password  # noqa: E402
from helpdesk.services import mailboxes, notifications  # noqa: E402
from helpdesk.settings import get_settings  # noqa: E402

GROUP = 50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=300)
    parser.add_argument("--replies", type=int, default=1500)
    parser.add_argument("--followers", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", default=f"sqlite:///{WORK / 'bench.db'}")
    args = parser.parse_args()
    os.environ["HELPDESK_DATABASE_URL"] = args.db  # read when the first session opens

    migrate.upgrade(args.db)
    store = BlobStore(get_settings().blob_dir)
    session = new_session()
    box = mailboxes.add_mailbox(session, address="asiakaspalvelu@e-tunnus.fi", display_name="E")
    with transaction(session):
        agents = [
            Agent(
                email=f"a{i}@e-tunnus.fi",
                name=f"Agentti {i}",
                password_hash=hash_password("x" * 12),
            )
            for i in range(args.followers + 1)
        ]
        session.add_all(agents)
    source = Source(mailbox=box, folder="INBOX", uidvalidity=1)
    uids = iter(range(1, 10**9))

    def ingest_all(raws: list[bytes]) -> float:
        prepared = [prepare(raw, store) for raw in raws]
        started = time.perf_counter()
        for at in range(0, len(prepared), GROUP):
            arrivals = [Arrival(uid=next(uids), prepared=p) for p in prepared[at : at + GROUP]]
            with transaction(session):
                ingest(session, arrivals, source=source, store=store)
        return time.perf_counter() - started

    def round_(label: str, *, tell: bool) -> float:
        ids = [mailgen.message_id() for _ in range(args.tickets)]
        ingest_all([mailgen.mail(msgid=i, subject=f"Kysymys {i[:6]}") for i in ids])
        firsts = session.exec(select(Message.ticket_id).where(Message.message_id.in_(ids))).all()  # type: ignore[attr-defined]
        with transaction(session):
            for ticket_id in firsts:
                session.get(Ticket, ticket_id).assignee_id = agents[0].id  # type: ignore[union-attr]
                for agent in agents[1:]:
                    session.add(TicketFollower(ticket_id=ticket_id, agent_id=agent.id or 0))
        replies = [
            mailgen.mail(in_reply_to=ids[n % len(ids)], subject="Re: kysymys")
            for n in range(args.replies)
        ]
        before = session.exec(select(func.count()).select_from(Notification)).one()
        original = notifications.on_incoming
        inside = [0.0]

        def timed(*a: Any, **k: Any) -> None:
            started = time.perf_counter()
            original(*a, **k)
            inside[0] += time.perf_counter() - started

        writer.notifications.on_incoming = timed if tell else lambda *_a, **_k: None  # type: ignore[method-assign]
        try:
            seconds = ingest_all(replies)
        finally:
            writer.notifications.on_incoming = original  # type: ignore[method-assign]
        made = session.exec(select(func.count()).select_from(Notification)).one() - before
        print(
            f"{label:<28} {seconds * 1000 / args.replies:7.2f} ms/mail"
            f" (of which on_incoming {inside[0] * 1000 / args.replies:.2f})"
            f"  {made} notifications"
        )
        return seconds

    print(
        f"database: {args.db.split('://')[0]}; {args.tickets} tickets, "
        f"{args.followers} followers + assignee each, groups of {GROUP}"
    )
    round_("warm-up (with notifications)", tell=True)
    bases, tolds = [], []
    for _ in range(args.rounds):  # alternated, as the database grows with every round
        bases.append(round_("baseline (no notifications)", tell=False))
        tolds.append(round_("with notifications", tell=True))
    base, told = statistics.median(bases), statistics.median(tolds)
    print(
        f"median ms/mail: baseline {base * 1000 / args.replies:.2f}, "
        f"with notifications {told * 1000 / args.replies:.2f}; ratio {told / base:.2f}"
    )


if __name__ == "__main__":
    main()
