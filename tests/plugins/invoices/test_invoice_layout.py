"""The plugin's layout keeps the promise import-linter cannot check: each package says what it is
and what it may import.

The rest of the layout is checked elsewhere: the parts' layers and the sandboxes kept out of
production code by import-linter (``make lint-imports``, the contracts in pyproject.toml);
cycles and imports inside functions by ``tests/test_import_graph.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

PLUGIN = Path(__file__).resolve().parents[3] / "plugins" / "invoices"


def test_every_package_says_what_it_is_and_may_import() -> None:
    packages = sorted(PLUGIN.glob("*/__init__.py"))
    assert packages
    for path in packages:
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        assert "May import" in docstring, path.parent.name
