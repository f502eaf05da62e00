"""The values and errors of the IMAP layer, and the turning of library failures into them.

:mod:`helpdesk.mail.imap.session` re-exports the names; callers import them from there.
"""

from __future__ import annotations

import contextlib
import imaplib
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from imapclient import exceptions as imap_exceptions

Security = Literal["none", "ssl", "starttls"]


@dataclass(frozen=True)
class ImapSettings:
    """Where and how to reach one shared mailbox."""

    host: str
    port: int
    username: str
    password: str = field(repr=False)
    security: Security
    timeout: float = 30.0
    verify_tls: bool = True
    #: For XOAUTH2 (instead of the password): returns an access token; called again with
    #: the refused token when the server refuses it, for a fresh one.
    xoauth2: Callable[[str | None], str] | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class FolderStatus:
    """What SELECT told us about a folder."""

    uidvalidity: int
    uidnext: int | None  # servers may omit it (RFC 3501 6.3.1)
    exists: int


class FetchedMessage(NamedTuple):
    """One message exactly as the server stores it."""

    uid: int
    raw: bytes
    flags: tuple[str, ...]
    #: (sha256, size) of a large message streamed into a blob store; ``raw`` is then b"".
    blob: tuple[str, int] | None = None


class ImapError(Exception):
    """An IMAP operation failed; the message is safe to log and show."""


class ImapLoginError(ImapError):
    """The server refused the credentials: retrying will not help."""


class ImapConnectionError(ImapError):
    """The connection failed, dropped or timed out: reconnect and try again later."""


@contextlib.contextmanager
def translate_errors(
    action: str, describe: Callable[[str, str], str], drop: Callable[[], None]
) -> Iterator[None]:
    """Turn imapclient, imaplib and socket failures into ImapError.

    ``describe(action, detail)`` words the message; ``drop()`` forgets a connection
    that can no longer be used, so the next call reconnects.
    """
    try:
        yield
    except ImapError:
        raise
    except imap_exceptions.LoginError as exc:
        raise ImapLoginError(describe(action, _error_text(exc))) from None
    except imaplib.IMAP4.abort as exc:
        drop()
        raise ImapConnectionError(describe(action, _error_text(exc))) from None
    except imaplib.IMAP4.error as exc:
        raise ImapError(describe(action, _error_text(exc))) from None
    except UnicodeError:
        raise ImapError(describe(action, "text the server cannot take")) from None
    except TimeoutError:
        drop()
        raise ImapConnectionError(describe(action, "timed out")) from None
    except ssl.SSLError as exc:
        drop()
        raise ImapConnectionError(describe(action, f"TLS error: {exc}")) from None
    except OSError as exc:
        drop()
        raise ImapConnectionError(describe(action, exc.strerror or type(exc).__name__)) from None


def _error_text(exc: BaseException) -> str:
    parts = [a.decode(errors="replace") if isinstance(a, bytes) else str(a) for a in exc.args]
    return " ".join(parts) or type(exc).__name__
