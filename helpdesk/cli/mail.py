"""``helpdesk mail fetch|import|reprocess`` and ``helpdesk worker``."""

from __future__ import annotations

import json
import logging
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from helpdesk.cli.startup import refuse_unfit_settings
from helpdesk.db import session_scope
from helpdesk.jobs import Worker
from helpdesk.mail.inbound.fetch import blob_store
from helpdesk.mail.inbound.importer import import_paths
from helpdesk.mail.inbound.reprocess import reprocess as run_reprocess
from helpdesk.mail.inbound.reprocess import unparsed_message_ids
from helpdesk.mail.inbound.watch import MailboxWatcher, fetch_once, fetchable
from helpdesk.mail.outbound import sink
from helpdesk.services.mailboxes import by_address

log = logging.getLogger(__name__)

mail_app = typer.Typer(help="Mail in: fetch, import and reprocess.", no_args_is_help=True)


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


@mail_app.command("fetch")
def fetch(
    once: Annotated[bool, typer.Option("--once", help="Fetch once and exit.")] = False,
    mailbox: Annotated[
        str | None, typer.Option("--mailbox", help="Only this mailbox (its address).")
    ] = None,
) -> None:
    """Fetch new mail from the mailboxes' IMAP servers into tickets.

    Without --once, keeps watching (IDLE where offered, else polling) until SIGTERM.
    """
    if once:
        result = fetch_once(mailbox)
        for address, state in result.mailboxes.items():
            typer.echo(f"{address}: {state}", err=True)
        typer.echo(json.dumps(result.counts.as_dict()))
        if result.counts.errors:
            raise typer.Exit(1)
        return
    with session_scope() as session:
        ids = [m.id for m in fetchable(session, mailbox) if m.id is not None]
    if not ids:
        _fail("no mailbox to fetch (active, with IMAP settings)")
    stop = threading.Event()
    watchers = [MailboxWatcher(i, stop) for i in ids]

    def handle(_signum: int, _frame: object) -> None:
        stop.set()
        for watcher in watchers:
            watcher.interrupt()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    for watcher in watchers:
        watcher.start()
    while not stop.wait(1.0):
        pass
    for watcher in watchers:
        if watcher.thread is not None:
            watcher.thread.join(timeout=30)


@mail_app.command("import")
def import_files(
    paths: Annotated[list[Path], typer.Argument(help=".eml files, mbox files, Maildir folders.")],
    mailbox: Annotated[str, typer.Option("--mailbox", help="Mailbox address to file them in.")],
) -> None:
    """Import mail files into a mailbox; the last line printed is JSON counts."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        _fail(f"no such file: {', '.join(missing)}")
    with session_scope() as session:
        box = by_address(session, mailbox)
        if box is None:
            _fail(f"no mailbox {mailbox}")
            return
        counts = import_paths(session, box, paths, store=blob_store())
    for error in counts.errors:
        typer.echo(f"failed: {error}", err=True)
    typer.echo(json.dumps(counts.as_dict()))


@mail_app.command("reprocess")
def reprocess(
    message: Annotated[int | None, typer.Option("--message", help="One message id.")] = None,
    unparsed: Annotated[
        bool, typer.Option("--unparsed", help="Every message flagged as not read fully.")
    ] = False,
) -> None:
    """Run stored raw sources through the parser and filters again (in place)."""
    if (message is None) == (not unparsed):
        _fail("give --message ID or --unparsed")
    with session_scope() as session:
        ids = [message] if message is not None else unparsed_message_ids(session)
        counts = run_reprocess(session, ids, blob_store())
    typer.echo(json.dumps(counts.as_dict()))


def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Run every due job once (all mailboxes), then exit.")
    ] = False,
) -> None:
    """Run the background worker: mailbox IDLE/poll loops and scheduled jobs."""
    refuse_unfit_settings()
    runner = Worker()
    if once:
        typer.echo(json.dumps(runner.run_once()))
        return
    runner.install_signal_handlers()
    runner.run()


def mail_sink(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8025,
    folder: Annotated[str, typer.Option(help="Where the .eml files go.")] = "var/mail-sink",
) -> None:
    """Run a local SMTP server that stores every mail as .eml (the demo's outgoing mail)."""
    typer.echo(f"mail sink on {host}:{port}, storing into {folder}/")
    sink.run(host, port, Path(folder))


def register(app: typer.Typer) -> None:
    """Add ``mail``, ``mail-sink`` and ``worker`` to the main command line."""
    app.add_typer(mail_app, name="mail")
    app.command("worker")(worker)
    app.command("mail-sink")(mail_sink)
