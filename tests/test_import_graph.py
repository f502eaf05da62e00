"""No import cycles, no project imports hidden in functions, the core never imports plugins.

The graph (tests/import_graph.py) counts every import, including those inside functions;
``python tests/import_graph.py`` prints what it finds in the whole tree.
"""

from __future__ import annotations

import pytest
from import_graph import Graph, Import, build, report

# TODO(issue 13): plugins/ is being restructured on its own branch (s13-plugin). Once it
# is merged, drop in_checked_area so that every test below holds for the whole tree; until
# then the report still lists what it has left.


def in_checked_area(module: str) -> bool:
    """The core (helpdesk.mail included): the part whose imports are clean already."""
    return module.startswith("helpdesk")


#: Function-level project imports that are meant to stay, each with its reason (a heavy
#: optional dependency is the only good one). Keyed by "path: statement".
ALLOWED_IN_FUNCTIONS: dict[str, str] = {}

#: import_module calls whose target is computed, each with its reason.
ALLOWED_DYNAMIC: dict[str, str] = {}


@pytest.fixture(scope="module")
def graph() -> Graph:
    return build()


def _key(imp: Import) -> str:
    return f"{imp.path}: {imp.statement}"


def test_no_import_cycles(graph: Graph) -> None:
    cycles = [group for group in graph.cycles() if any(in_checked_area(m) for m in group)]
    assert cycles == [], report(graph)


def test_no_project_imports_inside_functions(graph: Graph) -> None:
    hidden = [
        str(imp)
        for imp in graph.function_imports()
        if in_checked_area(imp.importer) and _key(imp) not in ALLOWED_IN_FUNCTIONS
    ]
    assert hidden == [], report(graph)


def test_every_dynamic_import_is_known(graph: Graph) -> None:
    unknown = [str(imp) for imp in graph.dynamic if _key(imp) not in ALLOWED_DYNAMIC]
    assert unknown == [], report(graph)
    assert set(ALLOWED_DYNAMIC) <= {_key(imp) for imp in graph.dynamic}, "stale entry"


def test_the_core_never_imports_a_plugin(graph: Graph) -> None:
    reaching = [
        str(imp)
        for imp in graph.imports
        if imp.importer.startswith("helpdesk") and imp.imported.startswith("plugins")
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
