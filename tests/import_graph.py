"""The project's import graph, read from the source: every import statement counts.

Imports inside functions, under ``if TYPE_CHECKING:`` and in ``try`` blocks are edges
like any other, and ``importlib.import_module("literal")`` is one too: a cycle hidden in a
function is still a cycle. An ``import_module`` whose argument is not a literal cannot be
resolved; it is listed in :attr:`Graph.dynamic` so that a test can decide about each one.

An edge goes to the module named by the import, as grimp (under import-linter) draws it:
``from helpdesk.web.pages import ticket`` points at ``helpdesk.web.pages.ticket``,
``from helpdesk.models import Ticket`` at ``helpdesk.models``. Imports of anything outside
the scanned packages are left out: they cannot close a cycle.

``python tests/import_graph.py`` prints the cycles and the function-level imports of the
whole tree.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("helpdesk", "plugins")


@dataclass(frozen=True)
class Import:
    """One import statement (or literal ``import_module`` call) of a project module."""

    importer: str
    imported: str
    path: str
    line: int
    #: The statement runs inside a function or method, not when the module loads.
    in_function: bool
    statement: str

    def __str__(self) -> str:
        where = " (in a function)" if self.in_function else ""
        return f"{self.path}:{self.line}: {self.statement}{where}"


@dataclass
class Graph:
    """Modules of the scanned packages and the imports between them."""

    modules: dict[str, Path] = field(default_factory=dict)
    imports: list[Import] = field(default_factory=list)
    #: ``import_module`` calls whose argument is not a literal: not resolvable statically.
    dynamic: list[Import] = field(default_factory=list)

    def edges(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {name: set() for name in self.modules}
        for imp in self.imports:
            if imp.imported != imp.importer:
                out[imp.importer].add(imp.imported)
        return out

    def cycles(self) -> list[list[str]]:
        """Groups of modules that import each other (strongly connected, two or more)."""
        return [sorted(group) for group in _strongly_connected(self.edges()) if len(group) > 1]

    def imports_within(self, group: Iterable[str]) -> list[Import]:
        """The imports that tie a cycle's modules together."""
        members = set(group)
        return [i for i in self.imports if i.importer in members and i.imported in members]

    def function_imports(self) -> list[Import]:
        return [i for i in self.imports if i.in_function]


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def build(root: Path = ROOT, packages: Iterable[str] = PACKAGES) -> Graph:
    graph = Graph()
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            graph.modules[module_name(path, root)] = path
    for name, path in graph.modules.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, in_function in _walk(tree, in_function=False):
            targets = _targets(node, name, is_package)
            if not targets:
                continue
            statement = ast.unparse(node).splitlines()[0]
            found: set[str] = set()
            for target in targets:
                resolved = _resolve(target, graph.modules) if target is not None else None
                if target is not None and (resolved is None or resolved in found):
                    continue  # outside the scanned packages, or already recorded
                record = Import(
                    importer=name,
                    imported=resolved or "",
                    path=str(path.relative_to(root)),
                    line=node.lineno,
                    in_function=in_function,
                    statement=statement,
                )
                if resolved is None:
                    graph.dynamic.append(record)
                else:
                    found.add(resolved)
                    graph.imports.append(record)
    return graph


def _walk(node: ast.AST, *, in_function: bool) -> Iterator[tuple[ast.AST, bool]]:
    for child in ast.iter_child_nodes(node):
        yield child, in_function
        nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
        yield from _walk(child, in_function=nested)


def _targets(node: ast.AST, module: str, is_package: bool) -> list[str | None]:
    """Dotted names an import statement may load (a ``from`` import: each name and the
    module itself, since ``from a import b`` is ``a.b`` when that is a module)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            anchor = module.split(".")
            if not is_package:
                anchor = anchor[:-1]
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, base] if base else anchor)
        return [f"{base}.{alias.name}" for alias in node.names if alias.name != "*"] or [base]
    if isinstance(node, ast.Call) and _is_import_module(node.func):
        arg = node.args[0] if node.args else None
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return [arg.value]
        return [None]
    return []


def _is_import_module(func: ast.expr) -> bool:
    if isinstance(func, ast.Attribute):
        return func.attr == "import_module"
    return isinstance(func, ast.Name) and func.id in {"import_module", "__import__"}


def _resolve(dotted: str, modules: dict[str, Path]) -> str | None:
    """The deepest scanned module that ``dotted`` names (``a.b.Name`` -> ``a.b``)."""
    parts = dotted.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def _strongly_connected(edges: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative so that deep graphs do not hit the recursion limit."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[set[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    group: set[str] = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.add(member)
                        if member == node:
                            break
                    groups.append(group)
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(edges[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return groups


def report(graph: Graph) -> str:
    lines: list[str] = []
    cycles = graph.cycles()
    lines.append(f"{len(cycles)} import cycle(s)")
    for group in cycles:
        lines.append("  " + " <-> ".join(group))
        lines.extend(f"    {imp}" for imp in graph.imports_within(group))
    inside = graph.function_imports()
    lines.append(f"{len(inside)} project import(s) inside functions")
    lines.extend(f"  {imp}" for imp in inside)
    lines.append(f"{len(graph.dynamic)} dynamic import(s) that cannot be resolved")
    lines.extend(f"  {imp}" for imp in graph.dynamic)
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(report(build()) + "\n")
