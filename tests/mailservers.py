"""Real mail servers for tests: a private Dovecot (IMAP) and an aiosmtpd SMTP server.

Both listen on free loopback ports and live in temporary directories. The SMTP
server delivers what it accepts into the Dovecot mailboxes of its recipients, so a
reply sent by the helpdesk can be read back over IMAP exactly as a customer would.

Fixtures (load with ``pytest_plugins = ["mailservers"]`` in the root conftest, or
``from mailservers import *`` in a directory's conftest):

- ``dovecot``: one Dovecot per test session.
- ``mail_user``: factory making a fresh, unique Dovecot user per call.
- ``smtp_server``: an SMTP server per test, delivering into ``dovecot``.

Without the ``dovecot`` binary the fixtures fail; set ``HELPDESK_ALLOW_SKIP=1`` to
skip instead (CI installs Dovecot, so a missing binary there is a real failure).
"""

from __future__ import annotations

import asyncio
import contextlib
import grp
import itertools
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from imapclient import IMAPClient
from imapclient.imap_utf7 import encode as encode_utf7

__all__ = [
    "DovecotServer",
    "MailUser",
    "ReceivedMail",
    "SmtpServer",
    "StoredMessage",
    "dovecot",
    "mail_user",
    "pytest_runtest_makereport",
    "smtp_server",
]

DOVECOT_BINARY = "/usr/sbin/dovecot"
MAIL_DOMAIN = "example.fi"


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_greeting(host: str, port: int, prefix: bytes, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1.0) as sock:
                if sock.recv(64).startswith(prefix):
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


@dataclass(frozen=True)
class MailUser:
    """A Dovecot account made for one test."""

    name: str
    password: str
    host: str
    port: int

    @property
    def address(self) -> str:
        """The e-mail address the test SMTP server routes to this user."""
        return f"{self.name}@{MAIL_DOMAIN}"


@dataclass(frozen=True)
class StoredMessage:
    """A message as Dovecot holds it."""

    uid: int
    flags: tuple[str, ...]
    raw: bytes


_CONFIG_TEMPLATE = """\
# Written by tests/mailservers.py for one test session.
instance_name = {instance}
base_dir = {root}/run
state_dir = {root}/state
protocols = imap
listen = 127.0.0.1
log_path = {root}/dovecot.log
auth_verbose = yes
# Tests check wrong passwords; no need to wait out the usual penalty.
auth_failure_delay = 0

ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login

# Mail files belong to an unprivileged system user; Dovecot refuses uid 0.
first_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:{root}/mail/%u
# New mail shows up in IDLE within a second even if inotify misses it.
mailbox_idle_check_interval = 1 secs

# One passwd-file per user: Dovecot re-checks a known file at most once a second,
# but opens a file it has never seen at once, so a new user can log in immediately.
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users/%u
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}

# Dovecot slows every login from an IP after a failed one (auth penalty); tests
# log in wrongly on purpose, so switch the penalty off.
service anvil {{
{chroot}  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}

service imap-login {{
{chroot}  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}

namespace inbox {{
  inbox = yes
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Drafts {{
    special_use = \\Drafts
  }}
  mailbox Trash {{
    special_use = \\Trash
  }}
}}

protocol imap {{
  mail_max_userip_connections = 1000
}}
"""


class DovecotServer:
    """A private Dovecot instance with passwd-file users and Maildir storage."""

    host = "127.0.0.1"

    def __init__(self, binary: str = DOVECOT_BINARY) -> None:
        self.binary = binary
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="helpdesk-dovecot-"))
        # Dovecot's mail processes run as the mail user and must reach the Maildirs.
        self.root.chmod(0o755)
        self._uid, self._gid = _mail_owner()
        self._users: dict[str, str] = {}
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        for sub in ("run", "state", "mail", "users"):
            (self.root / sub).mkdir()
        os.chown(self.root / "mail", self._uid, self._gid)
        self._last_passwd_write: dict[str, float] = {}
        self.config_path.write_text(
            _CONFIG_TEMPLATE.format(
                instance=f"helpdesk-test-{self.port}",
                root=self.root,
                uid=self._uid,
                gid=self._gid,
                port=self.port,
                # chroot() needs root; unprivileged runs simply go without it.
                chroot="" if os.geteuid() == 0 else "  chroot =\n",
            )
            + _rootless_settings()
        )

    # -- process control -------------------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    @property
    def config_path(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def log_path(self) -> Path:
        return self.root / "dovecot.log"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        """Start Dovecot and wait until it greets on its IMAP port."""
        if self.running:
            return
        stderr = (self.root / "dovecot.stderr").open("ab")
        # Own session so kill() can take the whole process group down at once.
        self._process = subprocess.Popen(
            [self.binary, "-F", "-c", str(self.config_path)],
            stdin=subprocess.DEVNULL,
            stdout=stderr,
            stderr=stderr,
            start_new_session=True,
        )
        stderr.close()
        if not _wait_for_greeting(self.host, self.port, b"* OK", time.monotonic() + timeout):
            self.kill()
            raise RuntimeError(f"Dovecot did not start on port {self.port}.\n{self.log_text()}")

    def stop(self, timeout: float = 10.0) -> None:
        """Shut Dovecot down cleanly; its mail stays for a later start()."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            self.resume()  # a frozen master would never see the TERM
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                return
        # Clients already served may linger for a moment after the master exits.
        self._signal_group(signal.SIGKILL)
        self._process = None

    def kill(self) -> None:
        """Kill Dovecot and all its children at once, as a crash would."""
        process = self._process
        if process is None:
            return
        self._signal_group(signal.SIGKILL)
        process.wait(10)
        self._process = None
        # Stale pid file and sockets would otherwise make the next start refuse.
        with contextlib.suppress(FileNotFoundError):
            (self.root / "run" / "master.pid").unlink()

    def pause(self) -> None:
        """Freeze every Dovecot process: connections stay open but nothing answers."""
        self._signal_group(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal_group(signal.SIGCONT)

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        """Stop Dovecot and remove its directory."""
        if self._process is not None:
            self.resume()
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_text(self, tail: int = 200) -> str:
        parts = []
        for name in ("dovecot.stderr", "dovecot.log"):
            path = self.root / name
            if path.exists():
                lines = path.read_text(errors="replace").splitlines()[-tail:]
                parts.append(f"--- {name} ---\n" + "\n".join(lines))
        return "\n".join(parts)

    def _signal_group(self, signum: int) -> None:
        if self._process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signum)

    # -- users -----------------------------------------------------------------

    def add_user(self, name: str, password: str) -> None:
        """Create or update a user; the next login sees it."""
        if not re.fullmatch(r"[A-Za-z0-9_+-][A-Za-z0-9._+-]*", name):
            raise ValueError(f"unsupported test user name: {name!r}")
        if ":" in password or "\n" in password:
            raise ValueError("a test password may not contain ':' or a newline")
        with self._lock:
            self._users[name] = password
            self._write_passwd(name)

    def password(self, user: str) -> str:
        return self._users[user]

    def has_user(self, user: str) -> bool:
        return user in self._users

    def _write_passwd(self, name: str) -> None:
        path = self.root / "users" / name
        previous = self._last_passwd_write.get(name)
        if previous is not None:
            # Dovecot looks at a file it knows at most once a second, by mtime.
            time.sleep(max(0.0, previous + 1.1 - time.monotonic()))
        tmp = path.with_name(f".{name}.new")  # user names never start with a dot
        tmp.write_text(f"{name}:{{PLAIN}}{self._users[name]}::::::\n")
        tmp.replace(path)
        self._last_passwd_write[name] = time.monotonic()

    # -- mailbox helpers (straight IMAP, independent of the code under test) ---

    @contextlib.contextmanager
    def client(self, user: str) -> Iterator[IMAPClient]:
        """A logged-in imapclient connection as *user*."""
        client = IMAPClient(self.host, self.port, ssl=False, timeout=10)
        try:
            client.login(user, self._users[user])
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def append(
        self, user: str, raw: bytes, folder: str = "INBOX", flags: Iterable[str] = ()
    ) -> int:
        """Put a message into a mailbox and return its UID."""
        with self.client(user) as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            response = client.append(folder, raw, flags=tuple(flags))
        match = re.search(rb"\[APPENDUID \d+ (\d+)\]", response)
        assert match, response
        return int(match.group(1))

    def fetch_messages(self, user: str, folder: str = "INBOX") -> list[StoredMessage]:
        """Every message in a folder with its flags, in UID order, without setting \\Seen."""
        with self.client(user) as client:
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            if not uids:
                return []
            data = client.fetch(uids, ["BODY.PEEK[]", "FLAGS"])
        return [
            StoredMessage(
                uid=uid,
                flags=tuple(
                    f.decode() if isinstance(f, bytes) else str(f) for f in data[uid][b"FLAGS"]
                ),
                raw=data[uid][b"BODY[]"],
            )
            for uid in sorted(data)
        ]

    def fetch_all(self, user: str, folder: str = "INBOX") -> list[bytes]:
        """The raw bytes of every message in a folder, in UID order."""
        return [message.raw for message in self.fetch_messages(user, folder)]

    def uidvalidity(self, user: str, folder: str = "INBOX") -> int:
        with self.client(user) as client:
            status = client.folder_status(folder, [b"UIDVALIDITY"])
        return int(status[b"UIDVALIDITY"])

    def reset_uidvalidity(self, user: str, folder: str = "INBOX") -> None:
        """Make Dovecot forget a folder's UIDs: the messages stay, renumbered from 1,
        under a new UIDVALIDITY (as after a server restore or migration)."""
        mailbox_dir = self._maildir(user, folder)
        if not mailbox_dir.is_dir():
            raise FileNotFoundError(f"no folder {folder!r} for {user!r}")
        # Dovecot picks the next UIDVALIDITY from the per-user dovecot-uidvalidity
        # file, which we keep, so the new value is always larger than the old one.
        doomed = list(mailbox_dir.glob("dovecot-uidlist*")) + list(
            mailbox_dir.glob("dovecot.index*")
        )
        doomed += list((self.root / "mail" / user).glob("dovecot.list.index*"))
        for path in doomed:
            path.unlink()

    def _maildir(self, user: str, folder: str) -> Path:
        base = self.root / "mail" / user
        if folder.upper() == "INBOX":
            return base
        encoded: bytes = encode_utf7(folder)  # Maildir++ names use modified UTF-7
        return base / ("." + encoded.decode("ascii"))


def _mail_owner() -> tuple[int, int]:
    """The uid/gid that owns the Maildirs: ours when unprivileged, else a mail user."""
    if os.geteuid() != 0:
        return os.geteuid(), os.getegid()
    for name in ("mail", "dovecot"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        if entry.pw_uid != 0:
            return entry.pw_uid, entry.pw_gid
    return pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid


def _rootless_settings() -> str:
    """Without root, Dovecot must run its helper processes as ourselves."""
    if os.geteuid() == 0:
        return ""
    me = pwd.getpwuid(os.geteuid()).pw_name
    group = grp.getgrgid(os.getegid()).gr_name
    return (
        f"default_login_user = {me}\n"
        f"default_internal_user = {me}\n"
        f"default_internal_group = {group}\n"
    )


# -- SMTP ------------------------------------------------------------------------


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
    ) -> None:
        self.dovecot = dovecot
        self.routes = {k.lower(): v for k, v in (routes or {}).items()}
        self.reject_unknown = reject_unknown
        self.credentials = credentials
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
        controller = Controller(
            _Handler(self),
            hostname=self.host,
            port=self.port,
            ready_timeout=10.0,
            enable_SMTPUTF8=True,
            authenticator=self._authenticate if self.credentials else None,
            # AUTH is enforced in handle_MAIL: aiosmtpd's own auth_required warns
            # on every connection when there is no TLS.
            auth_require_tls=False,
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
        if self.server.credentials is not None and not session.authenticated:
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


# -- pytest fixtures ---------------------------------------------------------------

_servers: list[DovecotServer] = []
_user_counter = itertools.count(1)


def dovecot_binary() -> str | None:
    """The Dovecot to test with: $HELPDESK_DOVECOT, else the installed one."""
    configured = os.environ.get("HELPDESK_DOVECOT")
    candidates = [configured] if configured else [shutil.which("dovecot"), DOVECOT_BINARY]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def _require_dovecot() -> str:
    binary = dovecot_binary()
    if binary is not None:
        return binary
    message = "Dovecot is not installed (apt-get install dovecot-imapd)"
    if os.environ.get("HELPDESK_ALLOW_SKIP") == "1":
        pytest.skip(message)
    pytest.fail(message + "; set HELPDESK_ALLOW_SKIP=1 to skip these tests instead", pytrace=False)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """One Dovecot for the whole session; make users with ``mail_user``."""
    server = DovecotServer(_require_dovecot())
    _servers.append(server)
    server.start()
    try:
        yield server
    finally:
        _servers.remove(server)
        server.cleanup()


@pytest.fixture
def mail_user(dovecot: DovecotServer) -> Iterator[Callable[..., MailUser]]:
    """Factory: ``mail_user()`` or ``mail_user("asiakas")`` gives a fresh, unique user."""

    # A test may have killed or frozen the shared server; hand the next one a live one.
    dovecot.resume()
    if not dovecot.running:
        dovecot.start()

    def make(prefix: str = "user", password: str | None = None) -> MailUser:
        name = f"{prefix}-{next(_user_counter)}-{uuid.uuid4().hex[:6]}"
        secret = password or f"pw-{uuid.uuid4().hex[:10]}"
        dovecot.add_user(name, secret)
        return MailUser(name=name, password=secret, host=dovecot.host, port=dovecot.port)

    yield make
    dovecot.resume()
    if not dovecot.running:
        dovecot.start()


@pytest.fixture
def smtp_server(dovecot: DovecotServer) -> Iterator[SmtpServer]:
    """An SMTP server for one test that delivers ``<user>@example.fi`` into Dovecot."""
    server = SmtpServer(dovecot)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Attach the Dovecot log to the report of a failed test that used it."""
    report = yield
    if report.failed and "dovecot" in getattr(item, "fixturenames", ()) and _servers:
        title = "dovecot log"
        if all(name != title for name, _ in report.sections):
            report.sections.append((title, _servers[-1].log_text(tail=60)))
    return report
