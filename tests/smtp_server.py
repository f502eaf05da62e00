"""An aiosmtpd SMTP server for tests that delivers into :mod:`dovecot_server` mailboxes.

The fixtures that start it are in :mod:`mailservers`; this module is the server itself.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from dovecot_server import MAIL_DOMAIN, DovecotServer, free_port


@dataclass(frozen=True)
class ReceivedMail:
    """One SMTP transaction the test server accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    login: str | None


@dataclass
class _Failure:
    stage: str
    code: int
    message: str
    times: int


@dataclass
class _SmtpState:
    received: list[ReceivedMail] = field(default_factory=list)
    failures: list[_Failure] = field(default_factory=list)
    rejected: dict[str, tuple[int, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_failure(self, stage: str) -> _Failure | None:
        with self.lock:
            for failure in self.failures:
                if failure.stage == stage:
                    failure.times -= 1
                    if failure.times <= 0:
                        self.failures.remove(failure)
                    return failure
        return None


class SmtpServer:
    """An aiosmtpd server on loopback that delivers into Dovecot mailboxes.

    A recipient is delivered to the Dovecot user named in ``routes`` or, failing
    that, to the user whose name is the local part of ``<name>@example.fi``.
    """

    host = "127.0.0.1"

    def __init__(
        self,
        dovecot: DovecotServer | None = None,
        routes: dict[str, str] | None = None,
        *,
        reject_unknown: bool = True,
        credentials: tuple[str, str] | None = None,
        xoauth2_introspection_url: str | None = None,
    ) -> None:
        self.dovecot = dovecot
        self.routes = {k.lower(): v for k, v in (routes or {}).items()}
        self.reject_unknown = reject_unknown
        self.credentials = credentials
        #: With it the server takes AUTH XOAUTH2 only, each token checked there (RFC 7662).
        self.xoauth2_introspection_url = xoauth2_introspection_url
        self.port = free_port()
        self._state = _SmtpState()
        self._controller: Controller | None = None

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    @property
    def received(self) -> list[ReceivedMail]:
        """A copy of every accepted transaction so far, oldest first."""
        with self._state.lock:
            return list(self._state.received)

    def route(self, address: str, user: str) -> None:
        self.routes[address.lower()] = user

    def resolve(self, address: str) -> str | None:
        """The Dovecot user that gets mail for *address*, if any."""
        address = address.lower()
        if address in self.routes:
            return self.routes[address]
        local, _, domain = address.rpartition("@")
        if self.dovecot is not None and domain == MAIL_DOMAIN and self.dovecot.has_user(local):
            return local
        return None

    def fail_next(
        self,
        code: int = 451,
        message: str = "4.3.0 Temporary failure, try again later",
        *,
        stage: str = "data",
        times: int = 1,
    ) -> None:
        """Answer the next *times* MAIL, RCPT or DATA commands (per *stage*) with an error."""
        if stage not in ("mail", "rcpt", "data"):
            raise ValueError(stage)
        with self._state.lock:
            self._state.failures.append(_Failure(stage, code, message, times))

    def reject_rcpt(
        self, address: str, code: int = 550, message: str = "5.1.1 Mailbox unavailable"
    ) -> None:
        with self._state.lock:
            self._state.rejected[address.lower()] = (code, message)

    def start(self) -> None:
        if self._controller is not None:
            return
        oauth = self.xoauth2_introspection_url is not None
        controller = Controller(
            _XOAuth2Handler(self) if oauth else _Handler(self),
            hostname=self.host,
            port=self.port,
            ready_timeout=10.0,
            enable_SMTPUTF8=True,
            authenticator=self._authenticate if self.credentials else None,
            # AUTH is enforced in handle_MAIL: aiosmtpd's own auth_required warns
            # on every connection when there is no TLS.
            auth_require_tls=False,
            auth_exclude_mechanism=["LOGIN", "PLAIN"] if oauth else None,
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def down(self) -> None:
        """Stop listening, as an unreachable server would."""
        self.stop()

    def up(self) -> None:
        """Listen again on the same port."""
        self.start()

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if self.credentials is None or not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = self.credentials
        ok = auth_data.login.decode() == login and auth_data.password.decode() == password
        return AuthResult(success=ok, handled=False, auth_data=auth_data.login.decode())

    def _deliver(self, envelope: ReceivedMail) -> None:
        if self.dovecot is None:
            return
        for rcpt in envelope.rcpt_tos:
            user = self.resolve(rcpt)
            if user is not None:
                self.dovecot.append(user, envelope.data)


class _Handler:
    """aiosmtpd hooks; the state lives on the SmtpServer."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        needs_auth = self.server.credentials or self.server.xoauth2_introspection_url
        if needs_auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        failure = self.server._state.take_failure("mail")
        if failure is not None:
            return f"{failure.code} {failure.message}"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        failure = self.server._state.take_failure("rcpt")
        if failure is not None:
            return f"{failure.code} {failure.message}"
        with self.server._state.lock:
            rejected = self.server._state.rejected.get(address.lower())
        if rejected is not None:
            return f"{rejected[0]} {rejected[1]}"
        if self.server.reject_unknown and self.server.resolve(address) is None:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        failure = self.server._state.take_failure("data")
        if failure is not None:
            return f"{failure.code} {failure.message}"
        data = envelope.original_content or b""
        login = session.auth_data if isinstance(session.auth_data, str) else None
        mail = ReceivedMail(
            mail_from=envelope.mail_from or "",
            rcpt_tos=tuple(envelope.rcpt_tos),
            data=data,
            login=login,
        )
        try:
            await asyncio.get_running_loop().run_in_executor(None, self.server._deliver, mail)
        except Exception as exc:
            return f"451 4.3.0 Delivery to Dovecot failed: {exc}"
        with self.server._state.lock:
            self.server._state.received.append(mail)
        return "250 2.0.0 OK: queued"


class _XOAuth2Handler(_Handler):
    """Takes AUTH XOAUTH2 (the Google/Microsoft SASL profile), checking each token at the
    OAuth server's introspection endpoint as Dovecot's oauth2 passdb does."""

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        if len(args) == 2:
            blob = args[1]
        else:
            answer = await server.challenge_auth("")
            if not isinstance(answer, bytes):
                return AuthResult(success=False)
            blob = base64.b64encode(answer).decode()
        try:
            fields = dict(
                part.split("=", 1)
                for part in base64.b64decode(blob, validate=True).decode().split("\x01")
                if "=" in part
            )
        except (ValueError, UnicodeError):
            return AuthResult(success=False, handled=False)
        user = fields.get("user", "")
        token = fields.get("auth", "").removeprefix("Bearer ")
        url = self.server.xoauth2_introspection_url or ""
        info = await asyncio.get_running_loop().run_in_executor(
            None, lambda: httpx.post(url, data={"token": token}, timeout=10).json()
        )
        if info.get("active") is True and info.get("username") == user:
            return AuthResult(success=True, auth_data=user)
        # RFC 7628 / Google's XOAUTH2: the error as a challenge, the client answers empty.
        await server.challenge_auth(json.dumps({"status": "401", "schemes": "bearer"}))
        return AuthResult(
            success=False, handled=False, message="535 5.7.8 Username and token not accepted"
        )
