"""helpdesk.mail.imap.session against a real Dovecot."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from mailservers import DovecotServer, MailUser, free_port

from helpdesk.mail.imap.session import (
    FolderStatus,
    ImapConnectionError,
    ImapError,
    ImapLoginError,
    ImapSession,
    ImapSettings,
)

pytestmark = pytest.mark.dovecot

MakeUser = Callable[..., MailUser]


def settings_for(user: MailUser, **overrides: object) -> ImapSettings:
    values: dict[str, object] = {
        "host": user.host,
        "port": user.port,
        "username": user.name,
        "password": user.password,
        "security": "none",
        "timeout": 10.0,
    }
    values.update(overrides)
    return ImapSettings(**values)  # type: ignore[arg-type]


def message(n: int, message_id: str | None = None, body: str = "Hei!") -> bytes:
    mid = message_id or f"<msg-{n}-{time.monotonic_ns()}@asiakas.example.fi>"
    return (
        f"From: Asiakas <asiakas@example.fi>\r\n"
        f"To: tuki@example.fi\r\n"
        f"Subject: Viesti {n}\r\n"
        f"Message-ID: {mid}\r\n"
        f"Date: Mon, 02 Jun 2025 10:00:0{n % 10} +0300\r\n"
        f"MIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: 8bit\r\n"
        f"\r\n"
        f"{body} {n}\r\n"
    ).encode()


def test_fetch_returns_exact_bytes_in_uid_order(
    dovecot: DovecotServer, mail_user: MakeUser
) -> None:
    user = mail_user()
    raws = [message(1), message(2, body="Hyvää päivää, äö"), message(3) + b"x" * 5000 + b"\r\n"]
    uids = [dovecot.append(user.name, raw) for raw in raws]

    with ImapSession(settings_for(user)) as session:
        status = session.select("INBOX")
        assert status.exists == 3
        assert status.uidnext == uids[-1] + 1
        assert session.uids_since(0) == uids
        # Tiny batches: one message per fetch, forced by the byte cap too.
        fetched = list(session.fetch_raw(uids, batch=2, max_batch_bytes=100))

    assert [m.uid for m in fetched] == uids
    assert [m.raw for m in fetched] == raws


def test_uids_since_ignores_the_star_match_below_last_uid(
    dovecot: DovecotServer, mail_user: MakeUser
) -> None:
    user = mail_user()
    first = dovecot.append(user.name, message(1))
    second = dovecot.append(user.name, message(2))

    with ImapSession(settings_for(user)) as session:
        session.select("INBOX")
        assert session.uids_since(first) == [second]
        # "n:*" matches the last message even when n is above every UID.
        assert session.uids_since(second) == []
        assert session.uids_since(second + 100) == []


def test_empty_folder(mail_user: MakeUser) -> None:
    user = mail_user()
    with ImapSession(settings_for(user)) as session:
        status = session.select("INBOX")
        assert status.exists == 0
        assert session.uids_since(0) == []
        assert list(session.fetch_raw([])) == []


def test_fetch_leaves_unseen_and_mark_seen_sets_seen(
    dovecot: DovecotServer, mail_user: MakeUser
) -> None:
    user = mail_user()
    uid = dovecot.append(user.name, message(1))
    other = dovecot.append(user.name, message(2))

    with ImapSession(settings_for(user)) as session:
        session.select("INBOX")
        [fetched] = list(session.fetch_raw([uid]))
        assert "\\Seen" not in fetched.flags
        assert all("\\Seen" not in m.flags for m in dovecot.fetch_messages(user.name))

        session.mark_seen([uid])

    flags = {m.uid: m.flags for m in dovecot.fetch_messages(user.name)}
    assert "\\Seen" in flags[uid]
    assert "\\Seen" not in flags[other]


def test_fetch_reports_existing_flags(dovecot: DovecotServer, mail_user: MakeUser) -> None:
    user = mail_user()
    uid = dovecot.append(user.name, message(1), flags=["\\Seen", "\\Flagged"])
    with ImapSession(settings_for(user)) as session:
        session.select("INBOX")
        [fetched] = list(session.fetch_raw([uid]))
    assert {"\\Seen", "\\Flagged"} <= set(fetched.flags)


def test_uidvalidity_is_stable_and_changes_after_reset(
    dovecot: DovecotServer, mail_user: MakeUser
) -> None:
    user = mail_user()
    raws = [message(1), message(2)]
    for raw in raws:
        dovecot.append(user.name, raw)

    with ImapSession(settings_for(user)) as session:
        before = session.select("INBOX")
    with ImapSession(settings_for(user)) as session:
        assert session.select("INBOX") == before

    dovecot.reset_uidvalidity(user.name)

    with ImapSession(settings_for(user)) as session:
        after = session.select("INBOX")
        assert after.uidvalidity != before.uidvalidity
        assert after.exists == 2
        uids = session.uids_since(0)
        assert [m.raw for m in session.fetch_raw(uids)] == raws
    assert isinstance(after, FolderStatus)


def test_reset_uidvalidity_of_another_folder(dovecot: DovecotServer, mail_user: MakeUser) -> None:
    user = mail_user()
    dovecot.append(user.name, message(1), folder="Sent")
    before = dovecot.uidvalidity(user.name, "Sent")
    dovecot.reset_uidvalidity(user.name, "Sent")
    assert dovecot.uidvalidity(user.name, "Sent") != before
    assert len(dovecot.fetch_all(user.name, "Sent")) == 1


def test_idle_wakes_up_on_new_mail(dovecot: DovecotServer, mail_user: MakeUser) -> None:
    user = mail_user()
    with ImapSession(settings_for(user)) as session:
        session.select("INBOX")
        assert session.has_capability("IDLE")

        timer = threading.Timer(0.3, dovecot.append, args=(user.name, message(1)))
        timer.start()
        started = time.monotonic()
        try:
            assert session.idle_wait(timeout=10) is True
        finally:
            timer.join()
        assert time.monotonic() - started < 2.0

        # Out of IDLE again: ordinary commands work and see the message.
        assert session.uids_since(0) == [1]


def test_idle_times_out_without_mail(mail_user: MakeUser) -> None:
    user = mail_user()
    with ImapSession(settings_for(user)) as session:
        session.select("INBOX")
        started = time.monotonic()
        assert session.idle_wait(timeout=0.5) is False
        assert 0.4 < time.monotonic() - started < 3.0
        assert session.noop() is False


def test_idle_reissues_before_the_limit(
    dovecot: DovecotServer, mail_user: MakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    import helpdesk.mail.imap.session as imap

    monkeypatch.setattr(imap, "IDLE_REISSUE_SECONDS", 0.2)
    user = mail_user()
    with ImapSession(settings_for(user)) as session:
        session.select("INBOX")
        idles: list[float] = []
        real_idle_once = session._idle_once

        def counting_idle_once(seconds: float) -> bool:
            idles.append(seconds)
            return real_idle_once(seconds)

        monkeypatch.setattr(session, "_idle_once", counting_idle_once)
        timer = threading.Timer(0.7, dovecot.append, args=(user.name, message(1)))
        timer.start()
        try:
            assert session.idle_wait(timeout=5) is True
        finally:
            timer.join()
    assert len(idles) >= 3
    assert max(idles) <= 0.2


def test_idle_raises_when_the_server_dies(dovecot: DovecotServer, mail_user: MakeUser) -> None:
    user = mail_user()
    with ImapSession(settings_for(user)) as session:
        session.select("INBOX")
        timer = threading.Timer(0.3, dovecot.kill)
        timer.start()
        started = time.monotonic()
        try:
            with pytest.raises(ImapError):
                session.idle_wait(timeout=10)
        finally:
            timer.join()
        assert time.monotonic() - started < 5
        assert not session.connected


def test_noop_sees_new_mail(dovecot: DovecotServer, mail_user: MakeUser) -> None:
    user = mail_user()
    with ImapSession(settings_for(user)) as session:
        session.select("INBOX")
        dovecot.append(user.name, message(1))
        assert session.noop() is True


def test_find_special_use_finds_sent(mail_user: MakeUser) -> None:
    user = mail_user()
    with ImapSession(settings_for(user)) as session:
        assert session.find_special_use("\\Sent") == "Sent"
        assert session.find_special_use("\\sent") == "Sent"
        assert session.find_special_use("\\Archive") is None


def test_append_returns_uid_and_sets_flags(dovecot: DovecotServer, mail_user: MakeUser) -> None:
    user = mail_user()
    raw = message(1)
    with ImapSession(settings_for(user)) as session:
        uid = session.append("Sent", raw)
        second = session.append("Sent", message(2), flags=())
    assert uid is not None and second == uid + 1
    [stored, unflagged] = dovecot.fetch_messages(user.name, "Sent")
    assert (stored.uid, stored.raw) == (uid, raw)
    assert "\\Seen" in stored.flags
    assert "\\Seen" not in unflagged.flags


def test_search_header_matches_message_id_exactly(
    dovecot: DovecotServer, mail_user: MakeUser
) -> None:
    user = mail_user()
    wanted = dovecot.append(user.name, message(1, "<abc@helpdesk.example.fi>"), folder="Sent")
    dovecot.append(user.name, message(2, "<xabc@helpdesk.example.fi>"), folder="Sent")
    dovecot.append(user.name, message(3), folder="Sent")

    with ImapSession(settings_for(user)) as session:
        assert session.search_header("Sent", "Message-ID", "<abc@helpdesk.example.fi>") == [wanted]
        assert session.search_header("Sent", "Message-ID", "<nothing@example.fi>") == []


def test_move(dovecot: DovecotServer, mail_user: MakeUser) -> None:
    user = mail_user()
    raws = [message(1), message(2), message(3)]
    uids = [dovecot.append(user.name, raw) for raw in raws]
    with ImapSession(settings_for(user)) as session:
        session.ensure_folder("Käsitelty")
        session.select("INBOX")
        session.move(uids[:2], "Käsitelty")
    assert dovecot.fetch_all(user.name) == raws[2:]
    assert dovecot.fetch_all(user.name, "Käsitelty") == raws[:2]


def test_move_without_move_capability_expunges_only_those_uids(
    dovecot: DovecotServer, mail_user: MakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = mail_user()
    raws = [message(1), message(2), message(3)]
    uids = [dovecot.append(user.name, raw) for raw in raws]
    # Someone else's message already flagged \Deleted must survive our expunge.
    keep = dovecot.append(user.name, message(4), flags=["\\Deleted"])
    with ImapSession(settings_for(user)) as session:
        real = session.has_capability
        monkeypatch.setattr(session, "has_capability", lambda name: name != "MOVE" and real(name))
        session.ensure_folder("Archive")
        session.select("INBOX")
        session.move([uids[0]], "Archive")
    remaining = dovecot.fetch_messages(user.name)
    assert [m.uid for m in remaining] == [*uids[1:], keep]
    assert dovecot.fetch_all(user.name, "Archive") == raws[:1]


def test_ensure_folder_is_idempotent(dovecot: DovecotServer, mail_user: MakeUser) -> None:
    user = mail_user()
    with ImapSession(settings_for(user)) as session:
        session.ensure_folder("Tiketit")
        session.ensure_folder("Tiketit")
        assert session.select("Tiketit").exists == 0


def test_server_killed_mid_fetch_raises(dovecot: DovecotServer, mail_user: MakeUser) -> None:
    user = mail_user()
    uids = [dovecot.append(user.name, message(n)) for n in range(1, 5)]
    with ImapSession(settings_for(user, timeout=5.0)) as session:
        session.select("INBOX")
        stream = session.fetch_raw(uids, batch=1)
        assert next(stream).uid == uids[0]
        dovecot.kill()
        started = time.monotonic()
        with pytest.raises(ImapConnectionError) as caught:
            list(stream)
        assert time.monotonic() - started < 5
        assert not session.connected
    assert user.password not in str(caught.value)


def test_unresponsive_server_times_out(dovecot: DovecotServer, mail_user: MakeUser) -> None:
    user = mail_user()
    with ImapSession(settings_for(user, timeout=1.0)) as session:
        session.select("INBOX")
        dovecot.pause()
        started = time.monotonic()
        try:
            with pytest.raises(ImapConnectionError, match="timed out"):
                session.noop()
        finally:
            dovecot.resume()
        assert time.monotonic() - started < 4


def test_wrong_password(mail_user: MakeUser) -> None:
    user = mail_user()
    with pytest.raises(ImapLoginError) as caught:
        ImapSession(settings_for(user, password="väärä-salasana-123")).connect()
    assert "väärä-salasana-123" not in str(caught.value)
    assert user.name in str(caught.value)


def test_connection_refused() -> None:
    settings = ImapSettings("127.0.0.1", free_port(), "tuki", "x", "none", timeout=2.0)
    with pytest.raises(ImapConnectionError):
        ImapSession(settings).connect()


def test_starttls_not_offered(mail_user: MakeUser) -> None:
    user = mail_user()
    with pytest.raises(ImapError, match="STARTTLS"):
        ImapSession(settings_for(user, security="starttls")).connect()


def test_commands_need_a_connection_and_a_folder(mail_user: MakeUser) -> None:
    user = mail_user()
    session = ImapSession(settings_for(user))
    with pytest.raises(ImapError, match="not connected"):
        session.select("INBOX")
    with session:
        with pytest.raises(ImapError, match="no folder selected"):
            session.uids_since(0)
        with pytest.raises(ImapError):
            session.select("Ei-olemassa")
    session.close()  # closing twice is harmless


def test_non_ascii_password_logs_in(mail_user: MakeUser) -> None:
    user = mail_user(password="sälasana-öö")
    with ImapSession(settings_for(user)) as session:
        assert session.select("INBOX").exists == 0


def test_reconnect_after_server_restart(dovecot: DovecotServer, mail_user: MakeUser) -> None:
    user = mail_user()
    raw = message(1)
    dovecot.append(user.name, raw)
    with ImapSession(settings_for(user)) as session:
        before = session.select("INBOX")
        dovecot.restart()
        with pytest.raises(ImapConnectionError):
            session.noop()
        assert not session.connected
        session.connect()
        assert session.select("INBOX") == before
        assert [m.raw for m in session.fetch_raw(session.uids_since(0))] == [raw]
