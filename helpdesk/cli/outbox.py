"""``helpdesk outbox``: send what is due, list the outbox, send a failed mail again."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from sqlmodel import col, select

from helpdesk.db import session_scope
from helpdesk.mail.outbound.outbox import FlushSummary, flush_due
from helpdesk.models import OutboundMail
from helpdesk.services import outgoing
from helpdesk.services.errors import ServiceError

outbox_app = typer.Typer(help="The outgoing mail queue.", no_args_is_help=True)


@outbox_app.command("flush")
def flush(
    limit: Annotated[int, typer.Option(help="At most this many mails per round.")] = 50,
) -> None:
    """Send every mail that is due, then exit; prints a JSON summary."""
    total = FlushSummary()
    while True:
        summary = flush_due(limit=limit)
        for key, value in summary.as_dict().items():
            current = getattr(total, key)
            setattr(total, key, current + value)
        # A full round may have left more due mail behind; an empty or partial one did not.
        if summary.claimed < limit:
            break
    typer.echo(json.dumps(total.as_dict()))


@outbox_app.command("list")
def list_mail(
    status: Annotated[
        str | None, typer.Option(help="queued, sending, sent, failed or cancelled.")
    ] = None,
    limit: Annotated[int, typer.Option(help="Newest first, this many.")] = 50,
) -> None:
    """List outgoing mail, newest first, one JSON object per line."""
    with session_scope() as session:
        query = select(OutboundMail).order_by(col(OutboundMail.id).desc()).limit(limit)
        if status:
            query = query.where(OutboundMail.status == status)
        for row in session.exec(query):
            typer.echo(
                json.dumps(
                    {
                        "id": row.id,
                        "status": str(row.status),
                        "kind": str(row.kind),
                        "ticket_id": row.ticket_id,
                        "from": row.envelope_from,
                        "to": row.recipients,
                        "subject": row.subject,
                        "attempts": row.attempts,
                        "next_attempt_at": row.next_attempt_at.isoformat(),
                        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
                        "last_error": row.last_error,
                    },
                    ensure_ascii=False,
                )
            )


@outbox_app.command("retry")
def retry(outbound_id: int) -> None:
    """Queue a failed mail again (the same Message-ID, so never a different mail)."""
    with session_scope() as session:
        try:
            row = outgoing.get_outbound(session, outbound_id)
            outgoing.retry(session, outbound=row, agent=None)
        except ServiceError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        typer.echo(f"queued {outbound_id} again")
