"""No import cycles and no project imports hidden in functions, in the core and the plugins.

The graph (tests/import_graph.py) counts every import, including those inside functions;
``python tests/import_graph.py`` prints what it finds in the whole tree. Which module may
import which (the layers, the plugin boundary) is import-linter's job (``make
lint-imports``, the contracts in pyproject.toml); this graph also reads the plugins'
Alembic revisions, which import-linter does not see (they are not in a package).
"""

from __future__ import annotations

import pytest
from import_graph import Graph, Import, build, report

#: Why the invoice plugin's entry points import on first use (see plugins/invoices/hooks.py).
_ON_FIRST_USE = (
    "the core loads the plugins' entry points at the start of every helpdesk command: the "
    "pages, linker, jobs, sync and dispatch load when their hook or command first runs (a "
    "third of a command's start, python -X importtime); importing them all eagerly also "
    "exposed a worker race (issue 13, phase 1)"
)
_SANDBOX_ON_FIRST_USE = (
    "the sandboxes' plugin loads at every command's start too; a sandbox (a FastAPI app) "
    "and the demo's sync through the whole plugin load when their command or hook runs"
)

#: Function-level project imports that are meant to stay, each with its reason: loading
#: something heavy that most processes never need. Keyed by "path: statement".
ALLOWED_IN_FUNCTIONS: dict[str, str] = {
    "plugins/invoices/hooks.py: from plugins.invoices import jobs": _ON_FIRST_USE,
    "plugins/invoices/hooks.py: from plugins.invoices import korjattava": _ON_FIRST_USE,
    "plugins/invoices/hooks.py: from plugins.invoices import linker": _ON_FIRST_USE,
    "plugins/invoices/hooks.py: from plugins.invoices.web import actions, api, api_actions, pages, "
    "reports": _ON_FIRST_USE,
    "plugins/invoices/hooks.py: from plugins.invoices.web import slots": _ON_FIRST_USE,
    "plugins/invoices/hooks.py: from plugins.invoices.settings import production_problems": (
        _ON_FIRST_USE
    ),
    "plugins/invoices/cli.py: from plugins.invoices.dispatch.runner import run_due": _ON_FIRST_USE,
    "plugins/invoices/cli.py: from plugins.invoices.sync import run_sync": _ON_FIRST_USE,
    "plugins/invoices/sandboxes/cli.py: from plugins.invoices.sandboxes.maventa import "
    "run_maventa_sandbox": _SANDBOX_ON_FIRST_USE,
    "plugins/invoices/sandboxes/cli.py: from plugins.invoices.sandboxes.netvisor.app import "
    "run_sandbox": _SANDBOX_ON_FIRST_USE,
    "plugins/invoices/sandboxes/cli.py: from plugins.invoices.sync import run_sync": (
        _SANDBOX_ON_FIRST_USE
    ),
    "plugins/invoices/sandboxes/hooks.py: from plugins.invoices.sandboxes.demo import seed": (
        _SANDBOX_ON_FIRST_USE
    ),
}

#: import_module calls whose target is computed, each with its reason.
ALLOWED_DYNAMIC: dict[str, str] = {}


@pytest.fixture(scope="module")
def graph() -> Graph:
    return build()


def _key(imp: Import) -> str:
    return f"{imp.path}: {imp.statement}"


def test_no_import_cycles(graph: Graph) -> None:
    assert graph.cycles() == [], report(graph)


def test_no_project_imports_inside_functions(graph: Graph) -> None:
    hidden = [str(imp) for imp in graph.function_imports() if _key(imp) not in ALLOWED_IN_FUNCTIONS]
    assert hidden == [], report(graph)
    found = {_key(imp) for imp in graph.function_imports()}
    assert set(ALLOWED_IN_FUNCTIONS) <= found, "stale entry"


def test_every_dynamic_import_is_known(graph: Graph) -> None:
    unknown = [str(imp) for imp in graph.dynamic if _key(imp) not in ALLOWED_DYNAMIC]
    assert unknown == [], report(graph)
    assert set(ALLOWED_DYNAMIC) <= {_key(imp) for imp in graph.dynamic}, "stale entry"


def test_plugin_revisions_import_only_the_plugin_api(graph: Graph) -> None:
    # The contract "plugins import nothing of the core but helpdesk.plugin_api" for the
    # Alembic revisions of a plugin's branch, which import-linter cannot see.
    revisions = [imp for imp in graph.imports if ".migrations.versions." in imp.importer]
    assert revisions, "the graph no longer reads the plugins' revisions"
    reaching = [
        str(imp)
        for imp in revisions
        if imp.importer.startswith("plugins")
        and imp.imported.startswith("helpdesk")
        and imp.imported != "helpdesk.plugin_api"
    ]
    assert reaching == []


def test_the_graph_sees_imports_inside_functions(tmp_path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text(
        "import importlib\n\n"
        "def later():\n"
        "    from pkg.a import name\n\n"
        "def dynamic(x):\n"
        "    importlib.import_module('pkg.c')\n"
        "    importlib.import_module(x)\n"
    )
    (package / "c.py").write_text("from . import a\n")
    graph = build(tmp_path, ["pkg"])
    assert graph.cycles() == [["pkg.a", "pkg.b", "pkg.c"]]
    assert [(i.importer, i.imported) for i in graph.function_imports()] == [
        ("pkg.b", "pkg.a"),
        ("pkg.b", "pkg.c"),
    ]
    assert [i.statement for i in graph.dynamic] == ["importlib.import_module(x)"]
