"""``helpdesk search``: the full-text index of messages (lemmas for Finnish search)."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from helpdesk import words
from helpdesk.db import session_scope
from helpdesk.services import search_index

search_app = typer.Typer(help="The search index of messages.", no_args_is_help=True)


@search_app.command("reindex")
def reindex(
    batch: Annotated[
        int, typer.Option(min=1, max=10_000, help="Messages per unit of work.")
    ] = search_index.BATCH,
) -> None:
    """Give every message without them the lemmas that search uses.

    Messages written before migration 0017, or indexed while Voikko was
    missing (by the Snowball fallback), are indexed again, oldest first,
    in batches of one short transaction each; the helpdesk keeps running
    meanwhile. Stopped, it goes on where it was when run again.
    """
    lemmatiser = words.lemmatiser()
    done = 0
    started = time.monotonic()
    with session_scope() as session:
        left = search_index.pending(session)
        typer.echo(f"{left} messages to index with {lemmatiser.name}")
        after = 0
        while True:
            result = search_index.reindex_batch(session, after_id=after, size=batch)
            if result.last_id is None:
                break
            done += result.indexed
            after = result.last_id
            typer.echo(f"indexed {done}/{left} (up to message {after})")
        rate = done / max(time.monotonic() - started, 1e-6)
        typer.echo(f"done: {done} messages indexed ({rate:.0f}/s)")
