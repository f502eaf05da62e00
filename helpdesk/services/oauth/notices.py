"""Telling the admins that a mailbox's OAuth grant needs a reconnect (besides the banner)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from helpdesk.db import transaction
from helpdesk.i18n import N_, translations
from helpdesk.models import Agent, Mailbox, MailboxOAuth, OutboundKind, Role, utcnow
from helpdesk.services import outgoing
from helpdesk.services.oauth.grants import paused_mailboxes
from helpdesk.settings import get_settings


def notify_admins(session: Session, *, oauth: MailboxOAuth) -> int:
    """Mail every active admin, in their language, that the mailbox needs a reconnect;
    sent through another mailbox that can send (none: the page banner only). Commits.

    Once per refusal: the key names the moment the grant was marked.
    """
    mailbox = session.get(Mailbox, oauth.mailbox_id)
    sender = session.exec(
        select(Mailbox)
        .where(
            Mailbox.active == True,  # noqa: E712 - SQL
            col(Mailbox.smtp_host).is_not(None),
            Mailbox.id != oauth.mailbox_id,
            col(Mailbox.id).not_in(paused_mailboxes()),
        )
        .order_by(col(Mailbox.id))
    ).first()
    if mailbox is None or sender is None:
        return 0
    admins = session.exec(
        select(Agent).where(Agent.role == Role.admin, Agent.active == True)  # noqa: E712
    ).all()
    values = {
        "address": mailbox.address,
        "reason": oauth.status_reason or "",
        "url": f"{get_settings().base_url.rstrip('/')}/admin/mailboxes/{mailbox.id}",
    }
    moment = (oauth.status_at or utcnow()).strftime("%Y%m%d%H%M%S")
    with transaction(session):
        for admin in admins:
            words = translations(admin.language)
            outgoing.queue_mail(
                session,
                mailbox=sender,
                to=[admin.email],
                subject=words.gettext(RECONNECT_SUBJECT) % values,
                text=words.gettext(RECONNECT_TEXT) % values,
                kind=OutboundKind.notice,
                idempotency_key=f"oauth-reconnect:{mailbox.id}:{moment}:{admin.id}",
            )
    return len(admins)


RECONNECT_SUBJECT = N_("Mailbox %(address)s must be connected again")
RECONNECT_TEXT = N_(
    "The mail provider refused the sign-in of the mailbox %(address)s: %(reason)s\n\n"
    "Fetching and sending for this mailbox are paused; replies wait in the outbox and go "
    "once it is connected again. Connect it on its settings page:\n%(url)s\n"
)
