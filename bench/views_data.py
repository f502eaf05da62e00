"""Tags and saved views for the inbox bench: tags on a share of the tickets and the bench
agent's saved views (every one is counted each time the views list loads).

- ``Lasku`` on every 10th ticket (a common tag), ``Kiire`` on every 200th (a rare one);
- six views: a tag, a rare tag among the active tickets, one mailbox's open tickets, the
  agent's own, a common search word, and every ticket (status "all").
"""

from __future__ import annotations

import json

from inbox_data import BENCH_AGENT, MAILBOXES
from sqlalchemy import text
from sqlalchemy.engine import Engine

TAGS = (("Lasku", 10), ("Kiire", 200))
VIEWS = (
    ("Laskut", {"tag": "Lasku", "status": ""}),
    ("Kiireet", {"tag": "Kiire", "status": "active"}),
    ("Asiakaspalvelu auki", {"mailbox": MAILBOXES[0], "status": "open"}),
    ("Minun", {"assignee": "me", "status": "active"}),
    ("Maksut", {"q": "maksu", "status": ""}),
    ("Kaikki", {"status": ""}),
)


def add_tags_and_views(engine: Engine) -> int:
    """Tag the tickets and save the views (idempotent); how many ticket tags exist."""
    with engine.begin() as conn:
        if conn.execute(text("SELECT count(*) FROM tag")).scalar_one() == 0:
            for name, every in TAGS:
                tag_id = conn.execute(
                    text(
                        "INSERT INTO tag (name, key, created_at) "
                        "VALUES (:name, :key, CURRENT_TIMESTAMP) RETURNING id"
                    ),
                    {"name": name, "key": name.casefold()},
                ).scalar_one()
                conn.execute(
                    text(
                        "INSERT INTO ticket_tag (ticket_id, tag_id) "
                        "SELECT id, :tag FROM ticket WHERE id % :every = 0"
                    ),
                    {"tag": tag_id, "every": every},
                )
            agent = conn.execute(
                text("SELECT id FROM agent WHERE email = :email"), {"email": BENCH_AGENT}
            ).scalar_one()
            for name, filters in VIEWS:
                conn.execute(
                    text(
                        "INSERT INTO saved_view (name, agent_id, shared, filters, created_at) "
                        "VALUES (:name, :agent, false, :filters, CURRENT_TIMESTAMP)"
                    ),
                    {"name": name, "agent": agent, "filters": json.dumps(filters)},
                )
        return int(conn.execute(text("SELECT count(*) FROM ticket_tag")).scalar_one())
