"""The mailbox's Sent folder: where a copy of each sent mail is kept, and where we look
for a mail whose fate is unknown (a worker killed mid-send) before sending it again."""

from __future__ import annotations

import ipaddress

from helpdesk.mail.imap.session import SEEN, ImapSession, ImapSettings
from helpdesk.mail.outbound.smtp import SmtpSettings
from helpdesk.models import Mailbox, MailboxAuth
from helpdesk.services.oauth.tokens import token_source

DEFAULT_SENT = "Sent"
_DEFAULT_SMTP_PORTS = {"ssl": 465, "starttls": 587, "none": 25}
_DEFAULT_IMAP_PORTS = {"ssl": 993, "starttls": 143, "none": 143}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def smtp_settings(mailbox: Mailbox) -> SmtpSettings:
    """SMTP settings of a mailbox; refuses a password over plain text to a remote host."""
    if not mailbox.smtp_host:
        raise ValueError(f"The mailbox {mailbox.address} has no SMTP server configured")
    security = str(mailbox.smtp_security)
    oauth = mailbox.auth == MailboxAuth.xoauth2
    if security == "none" and (mailbox.smtp_user or oauth) and not is_loopback(mailbox.smtp_host):
        raise ValueError(
            f"The mailbox {mailbox.address} would send its SMTP password unencrypted; "
            "use ssl or starttls"
        )
    return SmtpSettings(
        host=mailbox.smtp_host,
        port=mailbox.smtp_port or _DEFAULT_SMTP_PORTS[security],
        # XOAUTH2 names the mailbox; the token says who may use it.
        username=(mailbox.smtp_user or mailbox.address) if oauth else mailbox.smtp_user,
        password=None if oauth else mailbox.smtp_password,
        security=security,  # type: ignore[arg-type]
        xoauth2=token_source(mailbox.id or 0) if oauth else None,
    )


def imap_settings(mailbox: Mailbox) -> ImapSettings | None:
    """IMAP settings of a mailbox, or None when it has none (no Sent copy then)."""
    if not (mailbox.imap_host and mailbox.imap_user):
        return None
    security = str(mailbox.imap_security)
    return ImapSettings(
        host=mailbox.imap_host,
        port=mailbox.imap_port or _DEFAULT_IMAP_PORTS[security],
        username=mailbox.imap_user,
        password=mailbox.imap_password or "",
        security=security,  # type: ignore[arg-type]
        xoauth2=token_source(mailbox.id or 0) if mailbox.auth == MailboxAuth.xoauth2 else None,
    )


def sent_folder(imap: ImapSession, mailbox: Mailbox) -> str:
    r"""The configured folder, else the one flagged ``\Sent``, else ``Sent`` (created)."""
    name = mailbox.sent_folder or imap.find_special_use("\\Sent") or DEFAULT_SENT
    imap.ensure_folder(name)
    return name


def find_copy(imap: ImapSession, mailbox: Mailbox, message_id: str) -> bool:
    """True when the Sent folder holds a mail with this Message-ID (no angle brackets)."""
    folder = sent_folder(imap, mailbox)
    return bool(imap.search_header(folder, "Message-ID", f"<{message_id}>"))


def keep_copy(mailbox: Mailbox, message_id: str, raw: bytes) -> bool:
    """Append ``raw`` to the Sent folder unless it is there already (some servers save
    submitted mail themselves, and a retry after a crash must not add a second copy).
    Returns False when the mailbox has no IMAP account; raises ``ImapError`` on failure."""
    settings = imap_settings(mailbox)
    if settings is None:
        return False
    with ImapSession(settings) as imap:
        if not find_copy(imap, mailbox, message_id):
            imap.append(sent_folder(imap, mailbox), raw, flags=(SEEN,))
    return True


def was_sent(mailbox: Mailbox, message_id: str) -> bool | None:
    """Whether the Sent folder shows the mail as sent; None when we cannot look."""
    settings = imap_settings(mailbox)
    if settings is None:
        return None
    with ImapSession(settings) as imap:
        return find_copy(imap, mailbox, message_id)
