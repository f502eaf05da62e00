"""The official Finvoice 3.0 XSD (``schema/Finvoice3.0.xsd``, see ``schema/SOURCE.md``).

Loaded once per process. The schema is the judge of structure: element order, required
elements, lengths and number patterns; what it cannot say is in ``bank_rules``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from lxml import etree

from plugins.invoices.finvoice.problems import FinvoiceProblem

SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "Finvoice3.0.xsd"
#: The published file's sha256; a test holds the vendored copy to it.
SCHEMA_SHA256 = "03ba971b4eeb002e06e7d503a89ed58b67cf0516284b206bf25f664799d3b4c8"
#: The version line the file carries (its second line).
SCHEMA_VERSION = "Modified 17.12.2020 (back to version 11/2019"

# One validation at a time: a schema object's error log is shared by its callers.
_LOCK = threading.Lock()


def safe_parser() -> etree.XMLParser:
    """A parser that resolves no entities and reaches no network."""
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


@lru_cache(maxsize=1)
def finvoice_schema() -> etree.XMLSchema:
    """The Finvoice 3.0 schema, parsed once."""
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH), parser=safe_parser()))


def schema_problems(document: etree._ElementTree) -> list[FinvoiceProblem]:
    """What the XSD finds wrong with a parsed message (empty when it is valid)."""
    schema = finvoice_schema()
    with _LOCK:
        if schema.validate(document):
            return []
        # lxml-stubs declare the error log opaque; it iterates over _LogEntry values.
        errors = list(cast("Iterable[Any]", schema.error_log))
    return [
        FinvoiceProblem(
            path=error.path or "", message=error.message, source="schema", line=error.line
        )
        for error in errors
    ]
