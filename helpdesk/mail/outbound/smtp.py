"""Hand one finished message to an SMTP server (smtplib).

``send_raw`` either returns which recipients the server took, or raises an
``SmtpTemporaryError`` (try again later) or ``SmtpPermanentError`` (the server said
no for good), each carrying the server's own words for the agent to read.
"""

from __future__ import annotations

import base64
import contextlib
import smtplib
import ssl
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

Security = Literal["none", "ssl", "starttls"]

# Where in the conversation a failure happened. "connect", "tls" and "auth" point
# at the account settings; "mail", "rcpt" and "data" at this particular message.
Stage = Literal["connect", "tls", "auth", "mail", "rcpt", "data"]


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send a shared mailbox's mail."""

    host: str
    port: int
    username: str | None
    password: str | None = field(repr=False)
    security: Security
    timeout: float = 60.0
    verify_tls: bool = True
    helo_name: str | None = None  # None: smtplib asks the OS for our FQDN
    #: For AUTH XOAUTH2 (instead of the password): returns an access token; called again
    #: with the refused token when the server refuses it, for a fresh one.
    xoauth2: Callable[[str | None], str] | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class SendResult:
    """The server took the message for ``accepted``; ``refused`` maps address to reply."""

    accepted: list[str]
    refused: dict[str, tuple[int, str]]


class SmtpError(Exception):
    """Sending failed; ``str()`` is a message fit for the agent and the log."""

    def __init__(
        self,
        message: str,
        *,
        stage: Stage,
        code: int | None = None,
        server_message: str = "",
        refused: dict[str, tuple[int, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.stage = stage
        self.code = code
        self.server_message = server_message
        self.refused = refused or {}


class SmtpTemporaryError(SmtpError):
    """4xx, unreachable, dropped or timed out: queue and try again later.

    At stage "data" the server may have taken the message before the connection
    broke, so a retry can deliver it twice; SMTP gives no way to know.
    """


class SmtpPermanentError(SmtpError):
    """5xx, or every recipient refused for good: retrying the same mail will not help."""


def send_raw(
    settings: SmtpSettings, *, envelope_from: str, recipients: Sequence[str], raw: bytes
) -> SendResult:
    """Send *raw* (CRLF line endings, as written) to *recipients*."""
    if not recipients:
        raise ValueError("send_raw needs at least one recipient")
    with _connection(settings) as smtp:
        options = _mail_options(smtp, settings, envelope_from, recipients, raw)
        try:
            refused_raw = smtp.sendmail(envelope_from, list(recipients), raw, mail_options=options)
        except smtplib.SMTPRecipientsRefused as exc:
            refused = {addr: (code, _decode(msg)) for addr, (code, msg) in exc.recipients.items()}
            raise _all_refused(settings, refused) from None
        except smtplib.SMTPSenderRefused as exc:
            raise _reply_error(settings, "mail", exc.smtp_code, exc.smtp_error) from None
        except smtplib.SMTPDataError as exc:
            raise _reply_error(settings, "data", exc.smtp_code, exc.smtp_error) from None
        except smtplib.SMTPResponseException as exc:
            raise _reply_error(settings, "mail", exc.smtp_code, exc.smtp_error) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise _network_error(settings, "data", exc) from None
    refused = {addr: (code, _decode(msg)) for addr, (code, msg) in refused_raw.items()}
    accepted = [addr for addr in recipients if addr not in refused]
    return SendResult(accepted=accepted, refused=refused)


@contextlib.contextmanager
def _connection(settings: SmtpSettings) -> Iterator[smtplib.SMTP]:
    """A greeted, secured and logged-in connection; QUIT problems are ignored."""
    smtp: smtplib.SMTP
    try:
        if settings.security == "ssl":
            smtp = smtplib.SMTP_SSL(
                settings.host,
                settings.port,
                local_hostname=settings.helo_name,
                timeout=settings.timeout,
                context=_tls_context(settings),
            )
        else:
            smtp = smtplib.SMTP(
                settings.host,
                settings.port,
                local_hostname=settings.helo_name,
                timeout=settings.timeout,
            )
    except smtplib.SMTPResponseException as exc:  # e.g. a 421 or 554 greeting
        raise _reply_error(settings, "connect", exc.smtp_code, exc.smtp_error) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise _network_error(settings, "connect", exc) from None
    try:
        _prepare(smtp, settings)
        yield smtp
    finally:
        # Once DATA is accepted the mail is sent; a failing QUIT must not undo that.
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def _prepare(smtp: smtplib.SMTP, settings: SmtpSettings) -> None:
    stage: Stage = "connect"
    try:
        smtp.ehlo_or_helo_if_needed()
        if settings.security == "starttls":
            stage = "tls"
            if not smtp.has_extn("starttls"):
                raise SmtpPermanentError(
                    _describe(settings, "the server does not offer STARTTLS"), stage=stage
                )
            smtp.starttls(context=_tls_context(settings))
            smtp.ehlo()
        if settings.xoauth2 is not None:
            stage = "auth"
            _xoauth2_login(smtp, settings.username or "", settings.xoauth2)
        elif settings.username:
            stage = "auth"
            _login(smtp, settings.username, settings.password or "")
    except SmtpPermanentError:
        raise
    except smtplib.SMTPNotSupportedError as exc:
        raise SmtpPermanentError(_describe(settings, _decode_arg(exc)), stage=stage) from None
    except smtplib.SMTPResponseException as exc:
        raise _reply_error(settings, stage, exc.smtp_code, exc.smtp_error) from None
    except smtplib.SMTPServerDisconnected as exc:
        raise _network_error(settings, stage, exc) from None
    except smtplib.SMTPException as exc:
        # "No suitable authentication method found" and similar: a settings problem.
        raise SmtpPermanentError(_describe(settings, _decode_arg(exc)), stage=stage) from None
    except OSError as exc:
        raise _network_error(settings, stage, exc) from None


def _login(smtp: smtplib.SMTP, username: str, password: str) -> None:
    if (username + password).isascii():
        smtp.login(username, password)
        return
    # smtplib only sends ASCII credentials; SASL PLAIN itself is UTF-8 (RFC 4616).
    if not smtp.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("SMTP AUTH extension not supported by server.")
    if "PLAIN" not in smtp.esmtp_features["auth"].upper().split():
        raise smtplib.SMTPException("non-ASCII credentials need AUTH PLAIN")
    token = base64.b64encode(b"\0" + username.encode() + b"\0" + password.encode()).decode()
    code, response = smtp.docmd("AUTH", "PLAIN " + token)
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, response)


def _xoauth2_login(smtp: smtplib.SMTP, username: str, source: Callable[[str | None], str]) -> None:
    """AUTH XOAUTH2 (Google's and Microsoft's SASL profile of a bearer token).

    A refused token (it ended before its time) is replaced once and tried again.
    """
    token = source(None)
    try:
        smtp.auth("XOAUTH2", _xoauth2_answer(username, token))
    except smtplib.SMTPAuthenticationError:
        smtp.auth("XOAUTH2", _xoauth2_answer(username, source(token)))


def _xoauth2_answer(username: str, token: str) -> Callable[..., str]:
    def answer(challenge: bytes | None = None) -> str:
        # On a refusal the server sends its error as a challenge; an empty reply ends it.
        return "" if challenge is not None else f"user={username}\x01auth=Bearer {token}\x01\x01"

    return answer


def _mail_options(
    smtp: smtplib.SMTP,
    settings: SmtpSettings,
    envelope_from: str,
    recipients: Sequence[str],
    raw: bytes,
) -> list[str]:
    options = []
    if not raw.isascii() and smtp.has_extn("8bitmime"):
        options.append("BODY=8BITMIME")
    if not all(addr.isascii() for addr in [envelope_from, *recipients]):
        if not smtp.has_extn("smtputf8"):
            raise SmtpPermanentError(
                _describe(settings, "non-ASCII address but the server lacks SMTPUTF8"),
                stage="mail",
            )
        options.append("SMTPUTF8")
    return options


def _tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not settings.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _describe(settings: SmtpSettings, detail: str) -> str:
    message = f"SMTP to {settings.host}:{settings.port} failed: {detail}"
    if settings.password:
        message = message.replace(settings.password, "***")
    return message


def _reply_error(settings: SmtpSettings, stage: Stage, code: int, reply: bytes | str) -> SmtpError:
    text = _decode(reply)
    message = _describe(settings, f"{code} {text}")
    if 500 <= code < 600:
        return SmtpPermanentError(message, stage=stage, code=code, server_message=text)
    return SmtpTemporaryError(message, stage=stage, code=code, server_message=text)


def _all_refused(settings: SmtpSettings, refused: dict[str, tuple[int, str]]) -> SmtpError:
    detail = "; ".join(f"{addr}: {code} {text}" for addr, (code, text) in refused.items())
    message = _describe(settings, f"all recipients refused ({detail})")
    first_code, first_text = next(iter(refused.values()))
    # One temporary refusal is enough to make a retry worthwhile.
    temporary = any(not 500 <= code < 600 for code, _ in refused.values())
    cls = SmtpTemporaryError if temporary else SmtpPermanentError
    return cls(message, stage="rcpt", code=first_code, server_message=first_text, refused=refused)


def _network_error(settings: SmtpSettings, stage: Stage, exc: BaseException) -> SmtpError:
    if isinstance(exc, TimeoutError):
        detail = "timed out"
    elif isinstance(exc, ssl.SSLError):
        detail = f"TLS error: {exc}"
    elif isinstance(exc, OSError) and exc.strerror:
        detail = exc.strerror
    else:
        detail = _decode_arg(exc) or type(exc).__name__
    return SmtpTemporaryError(_describe(settings, detail), stage=stage)


def _decode(value: bytes | str) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


def _decode_arg(exc: BaseException) -> str:
    return " ".join(_decode(a) if isinstance(a, bytes | str) else str(a) for a in exc.args)
