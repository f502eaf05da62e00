"""Small steps that only annotate a ParsedMail; a failing filter never blocks the mailbox.

``autoreply`` (auto-replies, lists, loops), ``bounce`` (delivery reports and the mail
they bounce) and ``threading_keys`` (the Message-IDs and ``[#1042]`` tag a mail may
continue), run in that order by ``run_filters``.

A pure format package: it may import ``helpdesk.mail.parsing`` and the standard library;
no database, no network, nothing else of helpdesk.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from helpdesk.mail.filters.autoreply import detect_auto_reply
from helpdesk.mail.filters.bounce import detect_bounce
from helpdesk.mail.filters.threading_keys import annotate_threading
from helpdesk.mail.parsing.parsed import ParsedMail

logger = logging.getLogger(__name__)

MailFilter = Callable[[ParsedMail], None]

# Bounce runs before threading so that the bounced message's id is a thread candidate.
DEFAULT_FILTERS: tuple[MailFilter, ...] = (detect_auto_reply, detect_bounce, annotate_threading)


def run_filters(mail: ParsedMail, filters: Sequence[MailFilter] = DEFAULT_FILTERS) -> ParsedMail:
    """Run each filter on ``mail``; a filter that raises is logged and noted in parse_errors."""
    for mail_filter in filters:
        name = getattr(mail_filter, "__name__", repr(mail_filter))
        try:
            mail_filter(mail)
        except Exception as exc:  # one bad filter must not block the mailbox
            logger.exception("mail filter %s failed on %s", name, mail.raw_sha256)
            mail.parse_errors.append(f"filter {name}: {exc!r}")
    return mail


__all__ = ["DEFAULT_FILTERS", "MailFilter", "run_filters"]
