"""Shared set-up for outbox tests: a mailbox wired to the test SMTP and Dovecot servers."""

from __future__ import annotations

from typing import Any

import factories
from mailservers import MailUser, SmtpServer
from sqlmodel import Session

from helpdesk.models import Mailbox


def wired_mailbox(
    session: Session, smtp: SmtpServer, box_user: MailUser | None, **values: Any
) -> Mailbox:
    """A mailbox that sends through ``smtp`` and keeps its mail in ``box_user``'s Dovecot."""
    imap: dict[str, Any] = {}
    if box_user is not None:
        imap = {
            "imap_host": box_user.host,
            "imap_port": box_user.port,
            "imap_user": box_user.name,
            "imap_password": box_user.password,
            "imap_security": "none",
        }
    return factories.mailbox(
        session,
        address=box_user.address if box_user else None,
        display_name=values.pop("display_name", "E-tunnus asiakaspalvelu"),
        signature=values.pop("signature", "Ystävällisin terveisin\nE-tunnus asiakaspalvelu"),
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        smtp_security="none",
        **imap,
        **values,
    )
