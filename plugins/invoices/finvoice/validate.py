"""Judge a Finvoice 3.0 message: the official XSD, then the bank and guideline rules.

:func:`validate_finvoice` returns every problem found, each with the element's path and a
message; an empty list means the message is valid. The writer runs it on its own output
before returning a message, and the tests on every message they generate.
"""

from __future__ import annotations

from lxml import etree

from plugins.invoices.finvoice.bank_rules import PAYMENT_RULES
from plugins.invoices.finvoice.invoice_rules import INVOICE_RULES
from plugins.invoices.finvoice.problems import FinvoiceProblem
from plugins.invoices.finvoice.xsd import safe_parser, schema_problems

#: The rules beyond the XSD: the payment details', then the invoice's own.
RULES = (*PAYMENT_RULES, *INVOICE_RULES)
#: The character set of Finvoice messages (guideline 9.3).
MESSAGE_ENCODING = "ISO-8859-15"


def validate_finvoice(xml: bytes) -> list[FinvoiceProblem]:
    """Check a Finvoice 3.0 message against the XSD and the bank rules; [] when it is valid."""
    try:
        root = etree.fromstring(xml, parser=safe_parser())
    except etree.XMLSyntaxError as error:
        return [FinvoiceProblem("", f"not well-formed XML: {error}", source="xml")]
    document = root.getroottree()
    problems = schema_problems(document)
    encoding = (document.docinfo.encoding or "").upper()
    if encoding not in (MESSAGE_ENCODING, "ISO8859-15"):
        problems.append(
            FinvoiceProblem(
                "",
                f"the message is in {encoding or 'UTF-8'}; Finvoice messages are"
                f" {MESSAGE_ENCODING} (guideline 9.3)",
            )
        )
    if root.tag == "Finvoice":
        problems.extend(problem for rule in RULES for problem in rule(root))
    return problems
