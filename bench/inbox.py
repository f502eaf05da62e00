"""Inbox and reports benchmark: 100,000 tickets / 500,000 Finnish messages, timed over HTTP.

    python bench/inbox.py [--tickets N] [--requests R] [--db sqlite,postgresql] [--keep]

For each database (a fresh SQLite file under var/bench/, a fresh PostgreSQL database
that is dropped afterwards; both migrated by Alembic) the data is bulk-generated, the
app is started under uvicorn in a subprocess, a bench agent logs in, and each case is
requested R times. Two figures per case: the server time from the ``Server-Timing``
header (added by bench/inbox_server.py; middleware, route, queries and rendering) and
the client round-trip on loopback. Baselines from the same run: ``/healthz`` over HTTP
and a raw SQL SELECT of 50 tickets. Prints figures only; targets are shown, not asserted.

The reports (``bench/reports_data.py`` adds closings, calls and invoices first, then the
tickets' stored clocks are backfilled as migration 0012 does) are timed as the Reports
page and as each ``/api/v1/reports/...``, over the default twelve weeks and over a whole
year, the longest period a report takes.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
from inbox_data import (
    BENCH_AGENT,
    BENCH_PASSWORD,
    MAILBOXES,
    Dataset,
    etunnus_queries,
    generate,
    rare_terms,
)
from reports_data import add_report_rows, report_period
from sqlalchemy import text
from sqlalchemy.engine import Engine
from views_data import add_tags_and_views

from helpdesk import migrate
from helpdesk.db import make_engine
from helpdesk.service_hours import ServiceCalendar
from helpdesk.services import ticket_clocks

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get(
    "HELPDESK_BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TARGETS_MS = {
    "inbox": 50,
    "inbox filtered": 50,
    "next page": 50,
    "ticket": 50,
    "tags: inbox filter": 50,
    "tags: views list 6 counts": 150,
}
SEARCH_TARGET_MS = 150
#: The status counts come after the list; a search's count of each status stops at 100.
COUNTS_TARGET_MS = 150
REPORT_TARGET_MS = 500
REPORTS = ("times", "volume", "calls", "backlog", "agents", "same-day")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CURSOR = re.compile(r"cursor=([A-Za-z0-9_-]+)")
COMMON_WORDS = ("lasku", "asiakas", "kiitos", "maksu", "postitse")
#: The second word of the two-word searches.
TWO_WORD_SECONDS = ("helsinki", "virtanen", "verkkolaskuna", "palautui")
#: Words as an agent types them for what customers wrote inflected or in compounds: each
#: matches through the lemmas (pankki: pankkipäivän; osoite: osoitteeseen), not as a prefix.
FINNISH_QUERIES = (
    "pankki",
    "osoite",
    "pankin",
    "laskun",
    "kirjautuminen",
    "tunnus",
    "posti",
    "asiakkaan",
    "palkan maksu",
    "osoite lasku",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Timings:
    """Server and round-trip milliseconds per case."""

    def __init__(self) -> None:
        self.server: dict[str, list[float]] = {}
        self.client: dict[str, list[float]] = {}

    def add(self, case: str, server_ms: float, client_ms: float) -> None:
        self.server.setdefault(case, []).append(server_ms)
        self.client.setdefault(case, []).append(client_ms)


def _get(http: httpx.Client, timings: Timings, case: str, url: str, **kw: object) -> httpx.Response:
    started = time.perf_counter()
    response = http.get(url, **kw)  # type: ignore[arg-type]
    client_ms = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{case}: {url} answered {response.status_code}")
    header = response.headers.get("server-timing", "")
    server_ms = float(header.split("dur=")[1]) if "dur=" in header else float("nan")
    timings.add(case, server_ms, client_ms)
    return response


def _login(http: httpx.Client) -> None:
    token = CSRF.search(http.get("/login").text)
    assert token, "no CSRF token on the login page"
    answer = http.post(
        "/login",
        data={"email": BENCH_AGENT, "password": BENCH_PASSWORD, "csrf_token": token.group(1)},
    )
    assert answer.status_code == 303, answer.text


def _raw_select(engine: Engine, timings: Timings, n: int) -> None:
    query = text(
        "SELECT id, number, subject, status, last_message_at FROM ticket "
        "WHERE status IN ('open', 'pending') ORDER BY last_message_at DESC, id DESC LIMIT 50"
    )
    with engine.connect() as conn:
        for _ in range(n):
            started = time.perf_counter()
            rows = conn.execute(query).all()
            ms = (time.perf_counter() - started) * 1000
            assert len(rows) == 50
            timings.add("baseline: raw SELECT 50", ms, ms)


def run_cases(http: httpx.Client, data: Dataset, engine: Engine, n: int, only: str = "") -> Timings:
    rng = random.Random(7)
    timings = Timings()
    _raw_select(engine, timings, n)
    cases: dict[str, Callable[[], object]] = {
        "baseline: /healthz": lambda: _get(http, timings, "baseline: /healthz", "/healthz"),
        "inbox": lambda: _get(http, timings, "inbox", "/tickets"),
        "inbox filtered": lambda: _get(
            http,
            timings,
            "inbox filtered",
            "/tickets",
            params={
                "status": rng.choice(("open", "pending", "active", "closed")),
                "mailbox": rng.choice(MAILBOXES),
                "assignee": str(rng.choice(data.agent_ids)),
            },
        ),
        "ticket": lambda: _get(
            http, timings, "ticket", f"/tickets/{rng.choice(data.five_message_tickets)}"
        ),
        "search common": lambda: _get(
            http,
            timings,
            "search common",
            "/tickets",
            params={"q": rng.choice(COMMON_WORDS), "status": ""},
        ),
        "search common+active": lambda: _get(
            http,
            timings,
            "search common+active",
            "/tickets",
            params={"q": rng.choice(COMMON_WORDS), "status": "active"},
        ),
        "search two words": lambda: _get(
            http,
            timings,
            "search two words",
            "/tickets",
            params={
                "q": f"{rng.choice(COMMON_WORDS)} {rng.choice(TWO_WORD_SECONDS)}",
                "status": "",
            },
        ),
        "search finnish inflected": lambda: _get(
            http,
            timings,
            "search finnish inflected",
            "/tickets",
            params={"q": rng.choice(FINNISH_QUERIES), "status": ""},
        ),
        "search finnish+active": lambda: _get(
            http,
            timings,
            "search finnish+active",
            "/tickets",
            params={"q": rng.choice(FINNISH_QUERIES), "status": "active"},
        ),
        "search etunnus number": lambda: _get(
            http,
            timings,
            "search etunnus number",
            "/tickets",
            params={"q": rng.choice(data.etunnus_numbers), "status": ""},
        ),
        "search rare": lambda: _get(
            http,
            timings,
            "search rare",
            "/tickets",
            params={"q": rng.choice(data.rare_words), "status": ""},
        ),
    }
    # The status counts a filtered list loads after itself (htmx, with the form's values).
    searches: dict[str, Callable[[], str]] = {
        "common": lambda: rng.choice(COMMON_WORDS),
        "two words": lambda: f"{rng.choice(COMMON_WORDS)} {rng.choice(TWO_WORD_SECONDS)}",
        "finnish": lambda: rng.choice(FINNISH_QUERIES),
    }
    for kind, words in searches.items():
        case = f"counts: search {kind}"
        cases[case] = lambda case=case, words=words: _get(  # type: ignore[misc]
            http, timings, case, "/tickets/counts", params={"q": words()}
        )
    # Tags and saved views: the tag filter, and the views list with a count per view.
    cases["tags: inbox filter"] = lambda: _get(
        http,
        timings,
        "tags: inbox filter",
        "/tickets",
        params={"tag": rng.choice(("Lasku", "Kiire")), "status": rng.choice(("active", ""))},
    )
    cases["tags: views list 6 counts"] = lambda: _get(
        http, timings, "tags: views list 6 counts", "/tickets/views", headers={"HX-Request": "true"}
    )
    year_start, year_end = report_period(366)
    year = {"from": year_start.isoformat(), "to": year_end.isoformat()}
    cases["reports page 12 wk"] = lambda: _get(http, timings, "reports page 12 wk", "/reports")
    cases["reports page 1 yr"] = lambda: _get(
        http, timings, "reports page 1 yr", "/reports", params=year
    )
    for report in REPORTS:
        for span, params in (("12 wk", {}), ("1 yr", year)):
            case = f"report {report} {span}"
            cases[case] = lambda case=case, report=report, params=params: _get(  # type: ignore[misc]
                http, timings, case, f"/api/v1/reports/{report}", params=params
            )
    for name, call in cases.items():
        if only and only not in name and not name.startswith("baseline"):
            continue
        for _ in range(3):  # warm-up, not counted
            call()
        timings.server.pop(name, None)
        timings.client.pop(name, None)
        for _ in range(n):
            call()
    if not only or only in "next page":
        _next_pages(http, timings, rng, n)
    return timings


def _next_pages(http: httpx.Client, timings: Timings, rng: random.Random, n: int) -> None:
    """Follow 'Show more' as htmx does, up to 40 pages deep, from a few starting filters."""
    fragment = {"HX-Request": "true", "HX-Target": "ticket-rows"}
    done = 0
    while done < n:
        params = {"status": rng.choice(("active", "", "closed"))}
        page = http.get("/tickets", params=params)
        for _ in range(min(40, n - done)):
            found = CURSOR.search(page.text)
            if not found:
                break
            page = _get(
                http,
                timings,
                "next page",
                "/tickets",
                params={**params, "cursor": found.group(1)},
                headers=fragment,
            )
            done += 1


def _start_server(url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "HELPDESK_DATABASE_URL": url, "HELPDESK_ENVIRONMENT": "development"}
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "inbox_server.py"), str(port)], env=env, cwd=ROOT
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(base + "/healthz").status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the server did not start")


def _report(db: str, data: Dataset, timings: Timings) -> None:
    base = statistics.median(timings.server["baseline: raw SELECT 50"])
    print(
        f"\n== {db}: {data.tickets:,} tickets, {data.messages:,} messages "
        f"(generated in {data.seconds:.0f} s)"
    )
    print(
        f"{'case':26} {'server p50':>10} {'p95':>8} {'rtt p50':>8} {'p95':>8} {'×base':>7}  target"
    )
    for case, values in timings.server.items():
        client = timings.client[case]
        target = (
            SEARCH_TARGET_MS
            if case.startswith("search")
            else COUNTS_TARGET_MS
            if case.startswith("counts")
            else REPORT_TARGET_MS
            if case.startswith("report")
            else TARGETS_MS.get(case)
        )
        p95 = _pct(values, 0.95)
        verdict = "" if target is None else f"p95<{target}: {'ok' if p95 < target else 'MISSED'}"
        print(
            f"{case:26} {_pct(values, 0.5):10.1f} {p95:8.1f} {_pct(client, 0.5):8.1f} "
            f"{_pct(client, 0.95):8.1f} {statistics.median(values) / base:7.1f}  {verdict}"
        )


def _prepare(db: str, tickets: int, pg_name: str) -> str:
    if db == "sqlite":
        folder = ROOT / "var" / "bench"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"inbox-{tickets}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    admin = make_engine(PG_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{pg_name}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + pg_name


def _drop_pg(name: str) -> None:
    admin = make_engine(PG_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def bench(db: str, args: argparse.Namespace) -> None:
    pg_name = args.pg_database or f"helpdesk_bench_{uuid.uuid4().hex[:8]}"
    reuse = bool(args.pg_database or args.sqlite_file)
    url = (
        f"sqlite:///{args.sqlite_file}"
        if db == "sqlite" and args.sqlite_file
        else (
            PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + pg_name
            if reuse and db == "postgresql"
            else _prepare(db, args.tickets, pg_name)
        )
    )
    try:
        engine = make_engine(url)
        # Kept databases are brought up to the newest revision too (tables added since).
        migrate.upgrade(url)
        data = _describe(engine) if reuse else generate(engine, tickets=args.tickets)
        if not reuse:
            print(f"report rows: {add_report_rows(engine)}")
            # The rows are bulk-inserted, not written through the services: the tickets'
            # stored clocks come from the same backfill migration 0012 runs (timed here).
            started = time.perf_counter()
            with engine.begin() as conn:
                measured = ticket_clocks.backfill(conn, ServiceCalendar())
            print(
                f"clocks backfilled: {measured:,} tickets in {time.perf_counter() - started:.1f} s"
            )
        print(f"ticket tags: {add_tags_and_views(engine)}")
        if not reuse:
            # The backfill rewrote every ticket row: fresh statistics and visibility map, as
            # autovacuum would give a database some time after migrating.
            _vacuum(engine)
        proc, base = _start_server(url)
        try:
            with httpx.Client(base_url=base, timeout=120) as http:
                _login(http)
                timings = run_cases(http, data, engine, args.requests, args.only)
        finally:
            proc.terminate()
            proc.wait(10)
        engine.dispose()
        _report(db, data, timings)
    finally:
        if db == "postgresql" and not args.keep and not reuse:
            _drop_pg(pg_name)
        elif db == "postgresql":
            print(f"kept PostgreSQL database {pg_name}")


def _vacuum(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE ticket"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE ticket"))


def _describe(engine: Engine) -> Dataset:
    """Dataset facts from an existing bench database (``--keep`` runs, for re-measuring)."""
    from inbox_text import FinnishMail

    data = Dataset()
    with engine.connect() as conn:
        data.tickets = conn.execute(text("SELECT count(*) FROM ticket")).scalar_one()
        data.messages = conn.execute(text("SELECT count(*) FROM message")).scalar_one()
        data.agent_ids = list(conn.execute(text("SELECT id FROM agent")).scalars())
        data.five_message_tickets = list(
            conn.execute(
                text("SELECT id FROM ticket WHERE message_count = 5 ORDER BY random() LIMIT 5000")
            ).scalars()
        )
        data.etunnus_numbers = etunnus_queries(
            list(
                conn.execute(
                    text("SELECT etunnus FROM etunnus_user ORDER BY random() LIMIT 20")
                ).scalars()
            )
        )
    data.rare_words = rare_terms(engine, FinnishMail())
    return data


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--only", default="", help="only the cases whose name has this text")
    parser.add_argument("--requests", type=int, default=100, help="timed requests per case")
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--pg-database", help="re-measure an existing (kept) PostgreSQL database")
    parser.add_argument("--sqlite-file", help="re-measure an existing SQLite bench file")
    args = parser.parse_args()
    for db in args.db.split(","):
        bench(db, args)


if __name__ == "__main__":
    main()
