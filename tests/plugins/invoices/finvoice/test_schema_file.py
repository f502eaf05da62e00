"""The vendored Finvoice 3.0 XSD is Finance Finland's file, unmodified, and it loads."""

import hashlib

from lxml import etree

from plugins.invoices.finvoice.xsd import (
    SCHEMA_PATH,
    SCHEMA_SHA256,
    SCHEMA_VERSION,
    finvoice_schema,
    schema_problems,
)


def test_the_schema_is_the_published_file_byte_for_byte() -> None:
    # Never edit, reformat or re-save it: see schema/SOURCE.md for where it comes from.
    data = SCHEMA_PATH.read_bytes()
    assert hashlib.sha256(data).hexdigest() == SCHEMA_SHA256
    assert SCHEMA_SHA256 == "03ba971b4eeb002e06e7d503a89ed58b67cf0516284b206bf25f664799d3b4c8"
    lines = data.split(b"\r\n")
    assert lines[1] == f"<!-- {SCHEMA_VERSION} -->".encode()
    assert lines[2] == b"<!-- For Finvoice version 3.0 -->"
    assert (SCHEMA_PATH.parent / "SOURCE.md").read_text(encoding="utf-8").count(SCHEMA_SHA256)


def test_the_schema_is_loaded_once_and_judges_a_message() -> None:
    assert finvoice_schema() is finvoice_schema()
    document = etree.ElementTree(etree.fromstring(b'<Finvoice Version="3.0"/>'))
    [problem] = schema_problems(document)
    assert problem.source == "schema"
    assert problem.path == "/Finvoice"
    assert "Missing child element(s)" in problem.message
    assert "SellerPartyDetails" in problem.message
