"""Mail-in benchmark: ``helpdesk mail fetch --once`` from a real Dovecot, with a same-run baseline.

    python bench/ingest.py [--messages N] [--db sqlite,postgresql] [--latency-mails M]
                           [--skip-memory] [--code DIR]

1. Starts a private Dovecot (tests/mailservers.py) and APPENDs N generated Finnish mails
   (a third plain text, a third HTML, a third with a PDF attachment).
2. Baseline: raw IMAP ``UID FETCH BODY.PEEK[]`` of the same mails in batches of 50, each
   parsed with ``email.message_from_bytes(policy=default)``.
3. For each database (fresh SQLite file, fresh PostgreSQL database; both migrated), runs
   ``helpdesk mail fetch --once`` as a subprocess and times it: wall time (process start
   included) and the import span (first to last committed ``inbound_mail`` row).
4. Arrival-to-ticket latency with IDLE: a ``helpdesk mail fetch`` watcher runs while mails
   are APPENDed one at a time; time from APPEND to the message row (p50/p95).
5. Peak RSS increase for importing one mail with a 25 MB attachment (in a subprocess,
   VmHWM, else ``resource.getrusage``), after a warm-up import of a small mail in the
   same process.

``--code DIR`` runs ``helpdesk`` from another checkout (``git archive main | tar -x -C DIR``)
with this one's Python environment, to compare two versions on the same mails.

Prints figures only; targets are shown, not asserted.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

from imapclient import IMAPClient
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from mailgen import mail, mixed  # noqa: E402
from mailservers import DovecotServer, dovecot_binary  # noqa: E402

from helpdesk.db import make_engine  # noqa: E402

#: The checkout ``helpdesk`` runs from (``--code DIR``: another one, to compare).
CODE = ROOT
PG_ADMIN_URL = os.environ.get(
    "HELPDESK_BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PYTHON = sys.executable


def env_for(url: str, data_dir: Path) -> dict[str, str]:
    return os.environ | {
        "HELPDESK_DATABASE_URL": url,
        "HELPDESK_DATA_DIR": str(data_dir),
        "HELPDESK_ENVIRONMENT": "development",
    }


def helpdesk(url: str, data_dir: Path, *args: str, check: bool = True) -> str:
    proc = subprocess.run(
        [PYTHON, "-m", "helpdesk", *args],
        cwd=CODE,
        env=env_for(url, data_dir),
        capture_output=True,
        text=True,
    )
    if check and proc.returncode != 0:
        raise SystemExit(f"helpdesk {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return proc.stdout


def fresh_database(kind: str, workdir: Path) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:6]}.db'}", None
    name = f"helpdesk_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name, name


def drop_database(name: str | None) -> None:
    if name is None:
        return
    admin = make_engine(PG_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def setup_helpdesk(url: str, data_dir: Path, dovecot: DovecotServer, user: str) -> None:
    helpdesk(url, data_dir, "migrate")
    helpdesk(
        url,
        data_dir,
        "mailbox",
        "add",
        "asiakaspalvelu@e-tunnus.fi",
        "--imap-host",
        dovecot.host,
        "--imap-port",
        str(dovecot.port),
        "--imap-user",
        user,
        "--imap-password",
        dovecot.password(user),
        "--imap-security",
        "none",
    )


def start_dovecot(prefix: str) -> tuple[Path, DovecotServer, str]:
    """A temporary directory and a private Dovecot with one mail user (its name third)."""
    binary = dovecot_binary()
    if binary is None:
        raise SystemExit("Dovecot is not installed (apt-get install dovecot-imapd)")
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    dovecot = DovecotServer(binary)
    dovecot.start()
    user = "asiakaspalvelu"
    dovecot.add_user(user, "salasana-123")
    return workdir, dovecot, user


def append_all(dovecot: DovecotServer, user: str, raws: list[bytes]) -> None:
    with dovecot.client(user) as client:
        for i in range(0, len(raws), 200):
            client.multiappend("INBOX", raws[i : i + 200])


def baseline(dovecot: DovecotServer, user: str) -> tuple[int, float]:
    """Raw IMAP FETCH + stdlib parse of every mail in INBOX: (count, seconds)."""
    started = time.perf_counter()
    client = IMAPClient(dovecot.host, dovecot.port, ssl=False, timeout=60)
    client.login(user, dovecot.password(user))
    client.select_folder("INBOX", readonly=True)
    uids = client.search("ALL")
    n = 0
    for i in range(0, len(uids), 50):
        data = client.fetch(uids[i : i + 50], ["BODY.PEEK[]"])
        for item in data.values():
            msg = email.message_from_bytes(item[b"BODY[]"], policy=email.policy.default)
            msg.get_body(preferencelist=("plain", "html"))
            n += 1
    client.logout()
    return n, time.perf_counter() - started


def fetch_run(kind: str, workdir: Path, dovecot: DovecotServer, user: str) -> dict[str, float]:
    url, pg_name = fresh_database(kind, workdir)
    data_dir = workdir / f"data-{kind}"
    try:
        setup_helpdesk(url, data_dir, dovecot, user)
        started = time.perf_counter()
        helpdesk(url, data_dir, "mail", "fetch", "--once")
        wall = time.perf_counter() - started
        engine = make_engine(url)
        with engine.connect() as conn:
            first, last, rows = conn.execute(
                text("SELECT min(fetched_at), max(fetched_at), count(*) FROM inbound_mail")
            ).one()
        engine.dispose()
        if isinstance(first, str):  # SQLite hands raw timestamps back as text
            first, last = datetime.fromisoformat(first), datetime.fromisoformat(last)
        span = (last - first).total_seconds() if rows > 1 else wall
        return {"imported": float(rows), "wall": wall, "span": span}
    finally:
        drop_database(pg_name)
        shutil.rmtree(data_dir, ignore_errors=True)


def latency_run(workdir: Path, dovecot: DovecotServer, mails: int) -> list[float]:
    user = f"latency-{uuid.uuid4().hex[:6]}"
    dovecot.add_user(user, "salasana-123")
    url, _ = fresh_database("sqlite", workdir)
    data_dir = workdir / "data-latency"
    setup_helpdesk(url, data_dir, dovecot, user)
    watcher = subprocess.Popen(
        [PYTHON, "-m", "helpdesk", "mail", "fetch"],
        cwd=CODE,
        env=env_for(url, data_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    engine = make_engine(url)
    samples: list[float] = []

    def messages() -> int:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM message")).scalar_one())

    try:
        deadline = time.monotonic() + 30
        with engine.connect() as conn:
            while time.monotonic() < deadline:
                synced = conn.execute(text("SELECT last_sync_at FROM mailbox")).scalar()
                if synced:
                    break
                time.sleep(0.05)
        time.sleep(0.5)
        with dovecot.client(user) as client:
            for i in range(mails):
                client.append("INBOX", mail(subject=f"Viive {i} äö"))
                sent = time.perf_counter()
                while messages() < i + 1:
                    if time.perf_counter() - sent > 30:
                        raise SystemExit("a mail did not arrive within 30 s")
                    time.sleep(0.005)
                samples.append(time.perf_counter() - sent)
                time.sleep(0.05)
    finally:
        watcher.terminate()
        watcher.wait(20)
        engine.dispose()
    return samples


MEMORY_SCRIPT = r"""
import json, resource, sys
from helpdesk import migrate
from helpdesk.db import new_session
from helpdesk.mail.inbound.watch import fetch_once

def peak_kb():
    # VmHWM starts afresh at exec; ru_maxrss on Linux keeps the peak of the forking
    # parent (this benchmark, holding all generated mails), which would hide growth.
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

migrate.upgrade()
# Warm up every code path with a small mail first (already in the folder as UID 1).
fetch_once()
before = peak_kb()
sys.stdin.readline()  # the big mail is appended now
result = fetch_once()
after = peak_kb()
print(json.dumps({"before_kb": before, "after_kb": after, "imported": result.counts.imported}))
"""


def memory_run(workdir: Path, dovecot: DovecotServer) -> dict[str, int]:
    user = f"memory-{uuid.uuid4().hex[:6]}"
    dovecot.add_user(user, "salasana-123")
    url, _ = fresh_database("sqlite", workdir)
    data_dir = workdir / "data-memory"
    setup_helpdesk(url, data_dir, dovecot, user)
    dovecot.append(user, mail(subject="Pieni"))
    proc = subprocess.Popen(
        [PYTHON, "-c", MEMORY_SCRIPT],
        cwd=CODE,
        env=env_for(url, data_dir),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.1)
    big = os.urandom(25 * 1024 * 1024)
    # Wait until the warm-up fetch is done (its message row exists) before appending.
    engine = make_engine(url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with engine.connect() as conn:
                if conn.execute(text("SELECT count(*) FROM message")).scalar_one():
                    break
        except Exception:
            pass
        time.sleep(0.05)
    engine.dispose()
    dovecot.append(user, mail(subject="Iso liite", attachment=("iso-liite.pdf", big)))
    out, err = proc.communicate("go\n", timeout=300)
    if proc.returncode != 0:
        raise SystemExit(err[-3000:])
    import json

    return dict(json.loads(out.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--latency-mails", type=int, default=50)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument(
        "--code", type=Path, default=ROOT, help="checkout to run helpdesk from (to compare)"
    )
    args = parser.parse_args()
    global CODE
    CODE = args.code.resolve()
    print(f"helpdesk from {CODE}")
    workdir, dovecot, user = start_dovecot("helpdesk-bench-ingest-")
    try:
        print(f"generating and appending {args.messages} mails ...", flush=True)
        raws = mixed(args.messages)
        size = sum(len(r) for r in raws)
        started = time.perf_counter()
        append_all(dovecot, user, raws)
        print(f"  {size / 1e6:.1f} MB appended in {time.perf_counter() - started:.1f} s")

        n, seconds = baseline(dovecot, user)
        base_rate = n / seconds
        print(f"baseline  raw IMAP FETCH + message_from_bytes: {n} mails, {base_rate:,.0f} msg/s")
        for kind in [k for k in args.db.split(",") if k]:
            run = fetch_run(kind, workdir, dovecot, user)
            wall_rate = args.messages / run["wall"]
            span_rate = args.messages / run["span"]
            print(
                f"{kind:<11}helpdesk mail fetch --once: {wall_rate:,.0f} msg/s wall "
                f"(process start included; ratio {wall_rate / base_rate:.2f}x), "
                f"{span_rate:,.0f} msg/s importing (ratio {span_rate / base_rate:.2f}x; "
                "target >= 0.5x)"
            )
        if args.latency_mails:
            samples = sorted(latency_run(workdir, dovecot, args.latency_mails))
            p50 = statistics.median(samples)
            p95 = samples[max(0, int(len(samples) * 0.95) - 1)]
            print(
                f"IDLE arrival-to-ticket over {len(samples)} mails: p50 {p50 * 1000:.0f} ms, "
                f"p95 {p95 * 1000:.0f} ms, max {samples[-1] * 1000:.0f} ms (target p95 < 2 s)"
            )
        if not args.skip_memory:
            mem = memory_run(workdir, dovecot)
            grew = (mem["after_kb"] - mem["before_kb"]) / 1024
            print(
                f"25 MB attachment: peak RSS {mem['before_kb'] / 1024:.0f} -> "
                f"{mem['after_kb'] / 1024:.0f} MB, +{grew:.0f} MB (target < 100 MB)"
            )
    finally:
        dovecot.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
