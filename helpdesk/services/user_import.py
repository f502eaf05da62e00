"""CSV import of E-tunnus users (``helpdesk users import FILE.csv``).

The header names the columns ``etunnus``, ``name``, ``email``, ``phone`` (any order, extra
columns ignored); several addresses or numbers go in one cell separated by ``;``. The
file is the register's copy of the truth: a re-import updates name, addresses and
numbers of the users it lists and never creates a second user for a number. Agents'
notes are never touched. Each bad row is reported with its line number and reason; the
good rows are imported all the same.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from helpdesk.db import transaction
from helpdesk.i18n import gettext as _
from helpdesk.services import audit
from helpdesk.services import people as people_service
from helpdesk.services.errors import ServiceError

REQUIRED = ("etunnus", "name")
KNOWN = ("etunnus", "name", "email", "phone")


@dataclass
class RowError:
    """One bad row: its line in the file (the header is line 1) and why."""

    line: int
    reason: str


@dataclass
class ImportReport:
    """What an import did; ``as_json()`` is the command's last line."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": [{"line": e.line, "reason": e.reason} for e in self.errors],
        }


def decode(data: bytes) -> str:
    """The file's text: UTF-8 with or without a BOM, UTF-16 with a BOM, else windows-1252.

    Excel on Finnish Windows saves "CSV" as windows-1252; a file that is not valid UTF-8
    is almost certainly that (UTF-8 decoding of such bytes fails on the first ä or ö).
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _split(cell: str | None) -> list[str]:
    return [part.strip() for part in (cell or "").split(";") if part.strip()]


def import_csv(session: Session, data: bytes) -> ImportReport:
    """Import users from CSV bytes: each good row is a unit of work, the bad ones reported."""
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(decode(data), newline=""))
    header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        report.errors.append(
            RowError(
                line=1,
                reason=_(
                    "The header must name the columns etunnus,name,email,phone "
                    "(comma-separated); missing: %(value)s"
                )
                % {"value": ", ".join(missing)},
            )
        )
        return report
    reader.fieldnames = header
    first_line: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        values = {key: (row.get(key) or "").strip() for key in KNOWN}
        if not any(values.values()):
            continue  # blank lines at the end of spreadsheet exports
        report.rows += 1
        etunnus = values["etunnus"]
        if etunnus in first_line:
            report.errors.append(
                RowError(
                    line=line,
                    reason=_("The e-tunnus number %(value)s is already on line %(line)s")
                    % {"value": etunnus, "line": first_line[etunnus]},
                )
            )
            continue
        try:
            outcome = _import_row(session, values)
        except ServiceError as exc:
            report.errors.append(RowError(line=line, reason=exc.message))
            continue
        first_line[etunnus] = line
        setattr(report, outcome, getattr(report, outcome) + 1)
    with transaction(session):
        audit.record(
            session,
            action="user.import",
            object_type="user",
            rows=report.rows,
            created=report.created,
            updated=report.updated,
            errors=len(report.errors),
        )
    return report


def _import_row(session: Session, values: dict[str, str]) -> str:
    """Create or update one user; returns ``created``, ``updated`` or ``unchanged``."""
    etunnus = people_service.normalise_etunnus(values["etunnus"])
    emails, phones = _split(values["email"]), _split(values["phone"])
    existing = people_service.get_by_etunnus(session, etunnus)
    if existing is None:
        people_service.create_user(
            session,
            etunnus=etunnus,
            name=values["name"],
            emails=emails,
            phones=phones,
            source="import",
        )
        return "created"
    changed = people_service.update_user(
        session, user=existing, name=values["name"], emails=emails, phones=phones, source="import"
    )
    return "updated" if changed else "unchanged"
