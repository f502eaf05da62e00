"""What goes wrong with a Finvoice message, in words a person can act on.

A message that exists is judged by :func:`~plugins.invoices.finvoice.validate_finvoice`, which
returns :class:`FinvoiceProblem` values. An invoice whose data cannot make a valid message is
refused before anything is written: :class:`FinvoiceRefused` carries each reason in Finnish
(for the agent) and English (for logs and developers). Both are ``ValueError`` so that the
dispatch's build step turns them into a failed step with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class FinvoiceProblem:
    """One thing wrong with a message: where (an element path), what, and who says so.

    ``source`` is ``"xml"`` (not well-formed), ``"schema"`` (the official XSD) or
    ``"rules"`` (the bank and guideline rules the XSD cannot express).
    """

    path: str
    message: str
    source: str = "rules"
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


@dataclass(frozen=True)
class Refusal:
    """Why one invoice cannot be written as Finvoice: the field, in Finnish and in English."""

    field: str
    fi: str
    en: str


class FinvoiceRefused(ValueError):
    """The invoice's data cannot make a valid Finvoice message; nothing was written."""

    def __init__(self, refusals: Iterable[Refusal]) -> None:
        self.refusals = tuple(refusals)
        super().__init__(
            "Verkkolaskua ei voi muodostaa: "
            + "; ".join(refusal.fi for refusal in self.refusals)
            + " (Finvoice refused: "
            + "; ".join(refusal.en for refusal in self.refusals)
            + ")"
        )

    @property
    def fi(self) -> str:
        """The reasons in Finnish, one sentence each."""
        return " ".join(f"{refusal.fi}." for refusal in self.refusals)

    @property
    def en(self) -> str:
        """The reasons in English, one sentence each."""
        return " ".join(f"{refusal.en}." for refusal in self.refusals)


class FinvoiceInvalid(ValueError):
    """The writer made a message that fails the XSD or the bank rules: it is never returned."""

    def __init__(self, problems: Iterable[FinvoiceProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__(
            "Muodostettu Finvoice-sanoma ei läpäise tarkistusta, eikä sitä lähetetä "
            "(the generated Finvoice message is invalid): "
            + "; ".join(str(problem) for problem in self.problems)
        )
