"""Notifications by mail, for agents who asked for it on their profile page.

The worker's job (``core:notification-mail``) takes the rows marked ``mail_due`` and
queues one mail each through the outbox, from the ticket's mailbox if it can send, else
from the first mailbox that can. The outbox key is ``notification:<id>``, and queuing the
mail and clearing the mark are one unit of work, so a notification is mailed exactly once
however often the job runs or crashes. The mail says only what the notification page
says (who did what in which ticket, its subject) and links to the ticket: no message
text, nothing of a ticket the agent would not see in the app; an agent deactivated or
who switched mail off since gets nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlmodel import Session, col, select

from helpdesk.db import end_read, transaction
from helpdesk.i18n import translations
from helpdesk.models import Agent, Mailbox, Notification, NotifyEmail, OutboundKind
from helpdesk.services import notifications
from helpdesk.services.outgoing import queue_mail
from helpdesk.settings import get_settings

log = logging.getLogger(__name__)

BATCH = 50


def _sender(session: Session, mailbox_id: int | None) -> Mailbox | None:
    if mailbox_id is not None:
        own = session.get(Mailbox, mailbox_id)
        if own is not None and own.can_send:
            return own
    for mailbox in session.exec(select(Mailbox).order_by(col(Mailbox.id))):
        if mailbox.can_send:
            return mailbox
    return None


def mail_due(session: Session, *, limit: int = BATCH) -> int:
    """Queue the due notification mails; returns how many were queued."""
    rows = list(
        session.exec(
            select(Notification)
            .where(col(Notification.mail_due).is_(True))
            .order_by(col(Notification.id))
            .limit(limit)
        )
    )
    queued = 0
    for row in rows:
        agent = session.get(Agent, row.agent_id)
        mail: tuple[Mailbox, str, str] | None = None
        if agent is not None and agent.active and agent.notify_email == NotifyEmail.immediately:
            translate = translations(agent.language or "fi").gettext
            shown = notifications.shown(session, [row], translate)[0]
            mailbox = _sender(session, shown.ticket.mailbox_id if shown.ticket else None)
            if mailbox is None:
                log.warning("notification %s not mailed: no mailbox can send", row.id)
            else:
                mail = (mailbox, shown.text, _body(shown, translate))
        end_read(session)
        with transaction(session):
            session.refresh(row)
            if not row.mail_due:
                continue  # another run took it
            row.mail_due = False
            session.add(row)
            if mail is None or agent is None:
                continue
            mailbox, subject, body = mail
            queue_mail(
                session,
                mailbox=mailbox,
                to=[agent.email],
                to_names={agent.email: agent.name},
                subject=subject,
                text=body,
                kind=OutboundKind.notice,
                idempotency_key=f"notification:{row.id}",
            )
            queued += 1
    return queued


def _body(shown: notifications.Shown, translate: Callable[[str], str]) -> str:
    base = get_settings().base_url.rstrip("/")
    lines = [shown.text, ""]
    if shown.ticket is not None:
        lines.append(f"#{shown.ticket.number} {shown.ticket.subject}".rstrip())
    lines += [
        f"{base}{shown.url}",
        "",
        translate("You get this mail because you asked for notifications by email."),
        f"{base}/profile",
    ]
    return "\n".join(lines) + "\n"


def run_job(session: Session) -> int:
    """The worker's periodic task."""
    return mail_due(session)
