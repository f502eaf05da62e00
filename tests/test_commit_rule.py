"""The one commit rule (docs/architecture.md, "Transactions"), checked on the source.

The product commits only through ``helpdesk.db.transaction``: ``.commit()`` is called in
helpdesk/db.py alone; the two older ways to compose writes, a ``commit=`` flag and
``stage_*`` functions beside the committing ones, do not come back; and the adapters (web
routes, CLI commands, hooks, parsing and filters) never open a unit of work themselves:
they call services.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("helpdesk", "plugins")
#: The only module that may call ``.commit()``: where ``transaction`` lives.
COMMIT_HOME = "helpdesk/db.py"
#: Modules that call services and never open a unit of work of their own.
ADAPTERS = (
    "helpdesk/web/",
    "helpdesk/cli/",
    "helpdesk/mail/parsing/",
    "helpdesk/mail/filters/",
    "helpdesk/mail/compose.py",
    "plugins/invoices/web/",
    "plugins/invoices/cli.py",
    "plugins/invoices/hooks.py",
)

COMMIT = ".commit() call"
FLAG = "commit= flag"
STAGE = "stage_* function"
UNIT_IN_ADAPTER = "unit of work opened in an adapter"

#: TODO(s13-queue merge): the queue branch converts these files to ``db.transaction``
#: (helpdesk/workqueue.py under the outbox and invoice dispatch). The lead removes each
#: entry when merging it; ``test_pending_entries_are_still_needed`` fails while one is stale.
PENDING: dict[str, set[str]] = {}


class Breach(NamedTuple):
    path: str
    line: int
    kind: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind}"


def _called_name(node: ast.expr) -> str | None:
    """``f`` of ``f(...)`` or of ``x.f(...)``."""
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name):
            return func.id
        if isinstance(func, ast.Attribute):
            return func.attr
    return None


def breaches(source: str, path: str) -> Iterator[Breach]:
    """Every place in ``source`` (the module at ``path``) that breaks the rule."""
    adapter = path.startswith(ADAPTERS)
    for node in ast.walk(ast.parse(source, filename=path)):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "commit" and path != COMMIT_HOME:
                yield Breach(path, line, COMMIT)
            if any(k.arg == "commit" for k in node.keywords):
                yield Breach(path, line, FLAG)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if node.name.startswith("stage_"):
                yield Breach(path, line, STAGE)
            args = node.args
            names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
            if "commit" in names:
                yield Breach(path, line, FLAG)
        elif isinstance(node, ast.Attribute | ast.Name):
            name = node.attr if isinstance(node, ast.Attribute) else node.id
            if name.startswith("stage_"):
                yield Breach(path, line, STAGE)
        elif (
            adapter
            and isinstance(node, ast.With | ast.AsyncWith)
            and any(_called_name(item.context_expr) == "transaction" for item in node.items)
        ):
            yield Breach(path, line, UNIT_IN_ADAPTER)


def _product_breaches() -> list[Breach]:
    found = []
    for package in PACKAGES:
        for file in sorted((ROOT / package).rglob("*.py")):
            path = file.relative_to(ROOT).as_posix()
            if "/migrations/" in path:
                continue
            found += breaches(file.read_text(encoding="utf-8"), path)
    return found


@pytest.fixture(scope="module")
def product() -> list[Breach]:
    return _product_breaches()


def test_the_product_commits_only_through_db_transaction(product: list[Breach]) -> None:
    unexpected = [str(b) for b in product if b.kind not in PENDING.get(b.path, set())]
    assert unexpected == [], (
        "Write in a `with db.transaction(session):` block in a service or a pipeline "
        "runner; compose services by calling them inside an outer block (it joins), not "
        "with commit= or stage_*; adapters call services. See docs/architecture.md."
    )


def test_pending_entries_are_still_needed(product: list[Breach]) -> None:
    present = {(b.path, b.kind) for b in product}
    stale = [f"{p}: {k}" for p, kinds in PENDING.items() for k in kinds if (p, k) not in present]
    assert stale == [], "converted: remove these entries from PENDING"


def test_the_checker_sees_each_idiom() -> None:
    source = """
def stage_update(session): ...
def queue(session, *, commit=True): ...
def action(session, people, db):
    people.stage_create(session)
    queue(session, commit=False)
    session.commit()
    with db.transaction(session):
        pass
"""
    kinds = [b.kind for b in breaches(source, "helpdesk/web/pages/x.py")]
    assert sorted(kinds) == sorted([STAGE, FLAG, STAGE, FLAG, COMMIT, UNIT_IN_ADAPTER])
    assert [b.kind for b in breaches("session.commit()", COMMIT_HOME)] == []
    assert [b.kind for b in breaches(source, "helpdesk/services/x.py")].count(UNIT_IN_ADAPTER) == 0
