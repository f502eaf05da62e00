"""The plugin's layout keeps its promises: layers, no cycles, the sandboxes apart.

Read from the source with ``ast``, so imports inside functions count as much as the others;
only the entry points the core loads (``hooks.py``, ``cli.py``) import inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PLUGIN = Path(__file__).resolve().parents[3] / "plugins" / "invoices"
SANDBOXES = "plugins.invoices.sandboxes"
#: The plugin's parts, highest first: a part imports only parts in lower layers (the
#: sandboxes, development and tests only, may import any of them).
LAYERS = (
    {"hooks"},
    {"cli", "jobs", "web"},
    {"korjattava"},
    {"sync"},
    {"dispatch"},
    {"queue", "search", "linker"},
    {"settings"},
    {"models"},
    {"rules", "netvisor", "maventa", "finvoice"},
)
#: The entry points the core loads at every command's start import the rest on first use
#: (hooks.py says why); nothing else imports inside a function.
ENTRY_POINTS = {
    "plugins.invoices.hooks",
    "plugins.invoices.cli",
    "plugins.invoices.sandboxes.hooks",
    "plugins.invoices.sandboxes.cli",
}


def _name(path: Path) -> str:
    parts = list(path.relative_to(PLUGIN.parents[1]).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(path): path for path in PLUGIN.rglob("*.py") if "migrations" not in path.parts}


def _targets(module: str, node: ast.Import | ast.ImportFrom, package: bool) -> list[str]:
    """The plugin modules an import statement loads."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            here = module.split(".") if package else module.split(".")[:-1]
            base = ".".join(here[: len(here) - node.level + 1] + ([base] if base else []))
        names = [f"{base}.{alias.name}" for alias in node.names]
    found = []
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name:
            found.append(name)
    return found


def _imports() -> list[tuple[str, str, bool]]:
    """(importer, imported, inside a function) for every import between plugin modules."""
    edges = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        late = {
            id(node)
            for function in ast.walk(tree)
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
            for node in ast.walk(function)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in _targets(module, node, path.name == "__init__.py"):
                    if target != module:
                        edges.append((module, target, id(node) in late))
    return edges


EDGES = _imports()


def _part(module: str) -> str:
    return module.split(".")[2] if module.count(".") >= 2 else ""


def test_parts_import_only_lower_layers() -> None:
    layer = {part: index for index, parts in enumerate(LAYERS) for part in parts}
    parts = {_part(module) for module in MODULES} - {"", "sandboxes"}
    assert parts == set(layer), "a new part of the plugin needs its place in LAYERS"
    upward = [
        (importer, imported)
        for importer, imported, _ in EDGES
        if _part(importer) not in ("", "sandboxes", _part(imported))
        and not layer.get(_part(importer), -1) < layer.get(_part(imported), -1)
        and not imported.startswith(SANDBOXES)
    ]
    assert upward == []


def test_no_import_cycles() -> None:
    graph: dict[str, set[str]] = {module: set() for module in MODULES}
    for importer, imported, _ in EDGES:
        graph[importer].add(imported)
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            pytest.fail("import cycle: " + " -> ".join([*path[path.index(module) :], module]))
        if module in done:
            return
        for imported in sorted(graph[module]):
            visit(imported, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


def test_imports_inside_functions_only_in_the_entry_points() -> None:
    late = {importer for importer, _, inside in EDGES if inside}
    assert late <= ENTRY_POINTS


def test_production_code_never_imports_the_sandboxes() -> None:
    # Only the development commands and the demo hook reach them, when they run.
    leaks = [
        (importer, imported)
        for importer, imported, inside in EDGES
        if imported.startswith(SANDBOXES)
        and not importer.startswith(SANDBOXES)
        and not (inside and importer in ENTRY_POINTS)
    ]
    assert leaks == []


def test_every_package_says_what_it_is_and_may_import() -> None:
    for module, path in MODULES.items():
        if path.name == "__init__.py" and module.count(".") == 2:
            docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
            assert "May import" in docstring, module
