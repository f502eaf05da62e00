"""A private Dovecot (IMAP) server for tests, in a temporary directory on a free port.

The fixtures that start it are in :mod:`mailservers`; this module is the server itself.
"""

from __future__ import annotations

import contextlib
import grp
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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imapclient import IMAPClient
from imapclient.imap_utf7 import encode as encode_utf7

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

    def imap_fields(self) -> dict[str, Any]:
        """The account as ``add_mailbox`` keyword arguments (plain IMAP on loopback)."""
        return {
            "imap_host": self.host,
            "imap_port": self.port,
            "imap_user": self.name,
            "imap_password": self.password,
            "imap_security": "none",
        }


@dataclass(frozen=True)
class StoredMessage:
    """A message as Dovecot holds it."""

    uid: int
    flags: tuple[str, ...]
    raw: bytes


_CONFIG_TEMPLATE = """\
# Written by tests/dovecot_server.py for one test session.
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
  mechanisms = plain login
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

    def __init__(
        self, binary: str = DOVECOT_BINARY, *, oauth2_introspection_url: str | None = None
    ) -> None:
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
            + (self._oauth2_settings(oauth2_introspection_url) if oauth2_introspection_url else "")
        )

    def _oauth2_settings(self, introspection_url: str) -> str:
        """XOAUTH2 and OAUTHBEARER checked by Dovecot 2.3's oauth2 passdb at the test OAuth
        server's RFC 7662 endpoint (doc.dovecot.org/2.3/configuration_manual/authentication/
        oauth2: ``introspection_mode = post``, ``username_attribute``, ``active_attribute``)."""
        args = self.root / "dovecot-oauth2.conf.ext"
        args.write_text(
            f"introspection_mode = post\n"
            f"introspection_url = {introspection_url}\n"
            "force_introspection = yes\n"
            "username_attribute = username\n"
            "active_attribute = active\n"
            "active_value = true\n"
        )
        return (
            "auth_mechanisms = plain login oauthbearer xoauth2\n"
            f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {args}\n}}\n"
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
