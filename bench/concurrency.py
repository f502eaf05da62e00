"""Web and worker on one SQLite file: mail arrival while the API is polled, GETs under a lock.

    python bench/concurrency.py [--mails N] [--rate R] [--hold S] [--code DIR]

1. Starts a private Dovecot (tests/mailservers.py), a fresh SQLite file with one shared
   mailbox on it, ``helpdesk serve`` (uvicorn) and ``helpdesk worker`` as subprocesses,
   and an agent with an API token.
2. Baseline: N mails APPENDed one at a time with nobody using the web; arrival to ticket is
   the time from the APPEND to the mail's message row (p50/p95).
3. The same with the app polled R times a second, as a team with the inbox open does (half
   the inbox list's htmx refresh with a session cookie, half ``GET /api/v1/tickets`` with a
   token), with the GET latencies seen meanwhile.
4. GET latency while another process holds SQLite's write lock (``BEGIN IMMEDIATE`` and an
   UPDATE, held S seconds), against the same GETs with no lock held.

Prints figures and ratios against the same-run baselines; targets are shown, not asserted
(arrival p95 < 2 s while polled at 20/s; every GET < 1 s under the lock). ``--code DIR``
runs the web and the worker from another checkout (e.g. the main branch) to compare.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT / "tests"))

from inbox import _free_port, _pct  # noqa: E402
from ingest import env_for, setup_helpdesk, start_dovecot  # noqa: E402
from mailgen import mail  # noqa: E402
from mailservers import DovecotServer  # noqa: E402

PYTHON = sys.executable
EMAIL, PASSWORD = "bench@e-tunnus.fi", "bench-salasana-1"
HOLD_SCRIPT = r"""
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
conn.execute("BEGIN IMMEDIATE")
conn.execute("UPDATE mailbox SET display_name = display_name")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
print("released", flush=True)
"""


def pct(values: list[float], p: float) -> float:
    return _pct(values, p / 100)


def describe(label: str, values: list[float]) -> str:
    if not values:
        return f"{label}: no samples"
    return (
        f"{label}: n={len(values)} p50 {statistics.median(values) * 1000:,.0f} ms"
        f"  p95 {pct(values, 95) * 1000:,.0f} ms  max {max(values) * 1000:,.0f} ms"
    )


class App:
    """``helpdesk serve`` and ``helpdesk worker`` on one SQLite file, run from ``code``."""

    def __init__(self, workdir: Path, dovecot: DovecotServer, user: str, code: Path) -> None:
        self.db_path = workdir / f"bench-{uuid.uuid4().hex[:6]}.db"
        self.url = f"sqlite:///{self.db_path}"
        self.data_dir = workdir / "data"
        self.code = code
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen[bytes]] = []
        setup_helpdesk(self.url, self.data_dir, dovecot, user)
        self.run("agent", "create", EMAIL, "--name", "Bench", "--password", PASSWORD)
        self.token = self.run("agent", "token", EMAIL).strip().splitlines()[-1]

    def browser(self) -> httpx.Client:
        """A client logged in as the bench agent with the session cookie."""
        client = httpx.Client(base_url=self.base, timeout=120)
        found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert found, "the login page has no CSRF token"
        form = {"email": EMAIL, "password": PASSWORD, "csrf_token": found.group(1)}
        answer = client.post("/login", data=form)
        if answer.status_code != 303 or "/login" in answer.headers.get("location", ""):
            raise SystemExit(f"the bench agent could not log in: {answer.status_code}")
        return client

    def run(self, *args: str) -> str:
        proc = subprocess.run(
            [PYTHON, "-m", "helpdesk", *args],
            cwd=self.code,
            env=env_for(self.url, self.data_dir),
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise SystemExit(f"helpdesk {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
        return proc.stdout

    def start(self, log_dir: Path) -> None:
        env = env_for(self.url, self.data_dir)
        for name, args in (
            ("serve", ["serve", "--port", str(self.port)]),
            ("worker", ["worker"]),
        ):
            log = (log_dir / f"{name}.log").open("wb")
            self.procs.append(
                subprocess.Popen(
                    [PYTHON, "-m", "helpdesk", *args],
                    cwd=self.code,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        while time.monotonic() < deadline:
            if self.scalar("SELECT last_sync_at FROM mailbox"):
                return
            time.sleep(0.05)
        raise SystemExit("the web or the worker did not start within 60 s")

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()

    def scalar(self, sql: str) -> object:
        conn = sqlite3.connect(self.db_path, timeout=30)
        try:
            return conn.execute(sql).fetchone()[0]
        finally:
            conn.close()


class Poller:
    """GETs at ``rate`` per second from a few threads, as browsers with the inbox open."""

    def __init__(self, app: App, rate: float, threads: int = 4) -> None:
        self.app, self.rate, self.threads = app, rate, threads
        self.stop = threading.Event()
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.workers: list[threading.Thread] = []

    def _loop(self, offset: float) -> None:
        interval = self.threads / self.rate
        next_at = time.monotonic() + offset
        token = {"Authorization": f"Bearer {self.app.token}"}
        # Half the GETs are the inbox list's htmx refresh (a logged-in browser), half the
        # JSON API's ticket list (a script with a token).
        inbox = {"HX-Request": "true", "HX-Target": "ticket-list"}
        with contextlib.closing(self.app.browser()) as client:
            n = 0
            while not self.stop.is_set():
                delay = next_at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                next_at += interval
                path, headers = ("/tickets", inbox) if n % 2 else ("/api/v1/tickets", token)
                n += 1
                started = time.perf_counter()
                try:
                    response = client.get(path, headers=headers)
                    if response.status_code >= 400:
                        self.errors.append(f"{path}: {response.status_code}")
                except httpx.HTTPError as exc:
                    self.errors.append(f"{path}: {exc}")
                self.latencies.append(time.perf_counter() - started)

    def __enter__(self) -> Poller:
        for i in range(self.threads):
            thread = threading.Thread(target=self._loop, args=(i / self.rate,), daemon=True)
            thread.start()
            self.workers.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.workers:
            thread.join(130)


def arrivals(app: App, dovecot: DovecotServer, user: str, mails: int, tag: str) -> list[float]:
    """APPEND one mail at a time; seconds from each APPEND to its message row."""
    samples: list[float] = []
    before = int(app.scalar("SELECT count(*) FROM message") or 0)
    with dovecot.client(user) as client:
        for i in range(mails):
            client.append("INBOX", mail(subject=f"{tag} {i} äö"))
            sent = time.perf_counter()
            while int(app.scalar("SELECT count(*) FROM message") or 0) < before + i + 1:
                if time.perf_counter() - sent > 120:
                    raise SystemExit("a mail did not arrive within 120 s")
                time.sleep(0.005)
            samples.append(time.perf_counter() - sent)
            time.sleep(0.1)
    return samples


def gets_for(app: App, seconds: float) -> list[float]:
    """Sequential GETs of the inbox API for ``seconds``; each one's latency."""
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {app.token}"}
    with httpx.Client(base_url=app.base, headers=headers, timeout=120) as client:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            started = time.perf_counter()
            client.get("/api/v1/tickets").raise_for_status()
            latencies.append(time.perf_counter() - started)
            time.sleep(0.05)
    return latencies


def gets_under_lock(app: App, hold: float) -> list[float]:
    holder = subprocess.Popen(
        [PYTHON, "-c", HOLD_SCRIPT, str(app.db_path), str(hold)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    if holder.stdout.readline().strip() != "locked":
        raise SystemExit("the lock holder did not start")
    latencies = gets_for(app, hold - 0.2)
    holder.wait(hold + 60)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mails", type=int, default=30, help="mails per phase")
    parser.add_argument("--rate", type=float, default=20.0, help="API GETs per second")
    parser.add_argument("--hold", type=float, default=5.0, help="seconds the lock is held")
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout to run the app from")
    args = parser.parse_args()
    workdir, dovecot, user = start_dovecot("helpdesk-bench-concurrency-")
    app: App | None = None
    try:
        app = App(workdir, dovecot, user, args.code.resolve())
        app.start(workdir)
        print(f"app from {app.code}, SQLite {app.db_path}")
        print(f"logs in {workdir} (serve.log, worker.log)")

        quiet = arrivals(app, dovecot, user, args.mails, "Hiljaista")
        with Poller(app, args.rate) as poller:
            time.sleep(1.0)
            busy = arrivals(app, dovecot, user, args.mails, "Kiireistä")
        print()
        print("arrival to ticket (APPEND to message row)")
        print("  " + describe("baseline, nobody polling", quiet))
        print("  " + describe(f"app polled {args.rate:g}/s", busy))
        print(
            f"  ratio polled/baseline: p50 {statistics.median(busy) / statistics.median(quiet):.2f}"
            f"  p95 {pct(busy, 95) / pct(quiet, 95):.2f}   (target: p95 < 2 s while polled)"
        )
        print("  " + describe("GETs of the poller meanwhile", poller.latencies))
        if poller.errors:
            print(f"  poller errors: {len(poller.errors)}, first: {poller.errors[0]}")

        free = gets_for(app, args.hold - 0.2)
        held = gets_under_lock(app, args.hold)
        print()
        print(f"GET /api/v1/tickets while another process holds the write lock {args.hold:g} s")
        print("  " + describe("baseline, no lock held", free))
        print("  " + describe("write lock held", held))
        print(
            f"  ratio held/baseline: p50 {statistics.median(held) / statistics.median(free):.2f}"
            f"  max {max(held) / max(free):.2f}   (target: every GET < 1 s under the lock)"
        )
        locked = (workdir / "worker.log").read_text(encoding="utf-8", errors="replace")
        print(f"\n'database is locked' in the worker log: {locked.count('database is locked')}")
    finally:
        if app is not None:
            app.stop()
        dovecot.stop()
        if os.environ.get("HELPDESK_BENCH_KEEP") != "1":
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
