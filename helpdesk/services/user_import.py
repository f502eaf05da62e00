"""CSV import of E-tunnus users (``helpdesk users import FILE.csv``, Admin → Import users).

The header names the columns ``etunnus``, ``name``, ``email``, ``phone`` (any order, extra
columns ignored); several addresses or numbers go in one cell separated by ``;``. The
file is the register's copy of the truth: a re-import updates name, addresses and
numbers of the users it lists and never creates a second user for a number. Agents'
notes are never touched.

All or nothing: the whole file is read and every row checked before anything is written,
and then every row is written in one unit of work. A file with any error imports nothing
and reports each error with its line (the header is line 1):

- the bytes: UTF-8 (a BOM is fine) or UTF-16 with a BOM. A file with no UTF-8 character
  in it at all that reads as windows-1252 is read so (Excel's "CSV" on Finnish Windows);
  a UTF-8 file with one broken byte is an error naming the byte's line, never read as
  windows-1252 mojibake;
- NUL characters (a binary file, or a spreadsheet saved in the wrong format);
- CSV quoting: a quote opened and never closed, or text after a closing quote (the csv
  module's ``strict`` mode), named by the line where the record starts;
- a cell longer than ``MAX_CELL`` characters;
- each row's values (e-tunnus number, name, addresses, numbers) and repeated numbers.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from helpdesk.db import transaction
from helpdesk.i18n import gettext as _
from helpdesk.services import audit
from helpdesk.services import people as people_service
from helpdesk.services.errors import ServiceError

REQUIRED = ("etunnus", "name")
KNOWN = ("etunnus", "name", "email", "phone")
#: The largest file the admin page takes (the register's export is a few megabytes).
MAX_FILE_BYTES = 20 * 1048576
#: The longest cell: a name, or every address of a user, is far shorter.
MAX_CELL = 10_000
#: A well-formed UTF-8 sequence of two to four bytes (RFC 3629), for the windows-1252 test.
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)


@dataclass
class RowError:
    """One error: its line in the file (the header is line 1) and why."""

    line: int
    reason: str


@dataclass
class ImportReport:
    """What an import did; ``as_json()`` is the command's last line.

    With any error nothing was imported (``imported`` is False, the counts are 0).
    """

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def imported(self) -> bool:
        return not self.errors

    def as_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "imported": self.imported,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": [{"line": e.line, "reason": e.reason} for e in self.errors],
        }


class FileError(Exception):
    """The file cannot be read as CSV at ``line``."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line, self.reason = line, reason


def _line_of(data: bytes | str, offset: int) -> int:
    newline = b"\n" if isinstance(data, bytes) else "\n"
    return data.count(newline, 0, offset) + 1  # type: ignore[arg-type]


def decode(data: bytes) -> str:
    """The file's text (see the module's docstring); ``FileError`` names a broken byte."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise FileError(1, _("The file is not valid UTF-16 text")) from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        broken = exc
    if not _UTF8_MULTIBYTE.search(data):
        try:
            return data.decode("cp1252")  # strict: a byte windows-1252 lacks is an error too
        except UnicodeDecodeError:
            pass
    raise FileError(
        _line_of(data, broken.start),
        _(
            "The file is not valid UTF-8: byte 0x%(byte)02X cannot be read. "
            "Save the file as CSV UTF-8 and import it again."
        )
        % {"byte": data[broken.start]},
    )


def _records(text: str) -> list[tuple[int, list[str]]]:
    """Each CSV record with the line it starts on; ``FileError`` for the first bad one."""
    if (nul := text.find("\x00")) >= 0:
        raise FileError(
            _line_of(text, nul),
            _("The line has a NUL character: the file is not a CSV text file"),
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return records
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise FileError(start, _too_long()) from exc
            raise FileError(
                start,
                _("A quoted value is not closed, or has text after its closing quote (%(reason)s)")
                % {"reason": exc},
            ) from exc
        if any(len(cell) > MAX_CELL for cell in cells):
            raise FileError(start, _too_long())
        records.append((start, cells))


def _too_long() -> str:
    return _("A value is longer than %(limit)s characters") % {"limit": MAX_CELL}


def _split(cell: str | None) -> list[str]:
    return [part.strip() for part in (cell or "").split(";") if part.strip()]


@dataclass
class _Row:
    line: int
    etunnus: str
    name: str
    emails: list[str]
    phones: list[str]


def _checked(line: int, values: dict[str, str]) -> _Row:
    """The row's values normalised, as the service will store them; ServiceError if bad."""
    etunnus = people_service.normalise_etunnus(values["etunnus"])
    if not values["name"]:
        raise ServiceError(_("The name is missing"))
    emails = people_service.clean_emails(_split(values["email"]))
    phones = people_service.clean_phones(_split(values["phone"]))
    return _Row(line, etunnus, values["name"], emails, phones)


def read_rows(data: bytes, report: ImportReport) -> list[_Row]:
    """Every row of the file checked; the errors go into ``report``. Writes nothing."""
    try:
        records = _records(decode(data))
    except FileError as exc:
        report.errors.append(RowError(exc.line, exc.reason))
        return []
    header = [name.strip().lower() for name in records[0][1]] if records else []
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        reason = _(
            "The header must name the columns etunnus,name,email,phone "
            "(comma-separated); missing: %(value)s"
        ) % {"value": ", ".join(missing)}
        report.errors.append(RowError(line=1, reason=reason))
        return []
    rows: list[_Row] = []
    first_line: dict[str, int] = {}
    for line, cells in records[1:]:
        by_name = dict(zip(header, cells, strict=False))
        values = {key: (by_name.get(key) or "").strip() for key in KNOWN}
        if not any(values.values()):
            continue  # blank lines at the end of spreadsheet exports
        report.rows += 1
        try:
            row = _checked(line, values)
        except ServiceError as exc:
            report.errors.append(RowError(line=line, reason=exc.text()))
            continue
        if row.etunnus in first_line:
            reason = _("The e-tunnus number %(value)s is already on line %(line)s") % {
                "value": row.etunnus,
                "line": first_line[row.etunnus],
            }
            report.errors.append(RowError(line=line, reason=reason))
            continue
        first_line[row.etunnus] = line
        rows.append(row)
    return rows


def import_csv(session: Session, data: bytes) -> ImportReport:
    """Import users from CSV bytes: every row checked first, then all in one unit of work."""
    report = ImportReport()
    rows = read_rows(data, report)
    if report.errors:
        return report
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    current: _Row | None = None
    try:
        with transaction(session):
            for current in rows:
                counts[_import_row(session, current)] += 1
            audit.record(
                session,
                action="user.import",
                object_type="user",
                rows=report.rows,
                created=counts["created"],
                updated=counts["updated"],
                unchanged=counts["unchanged"],
            )
    except ServiceError as exc:  # another import or an agent took a number meanwhile
        report.errors.append(RowError(current.line if current else 1, exc.text()))
        return report
    except IntegrityError:  # the same, caught by a unique index instead of the check
        reason = _("The users changed during the import; import the file again")
        report.errors.append(RowError(current.line if current else 1, reason))
        return report
    report.created, report.updated, report.unchanged = (
        counts["created"],
        counts["updated"],
        counts["unchanged"],
    )
    return report


def _import_row(session: Session, row: _Row) -> str:
    """Create or update one user; returns ``created``, ``updated`` or ``unchanged``."""
    existing = people_service.get_by_etunnus(session, row.etunnus)
    if existing is None:
        people_service.create_user(
            session,
            etunnus=row.etunnus,
            name=row.name,
            emails=row.emails,
            phones=row.phones,
            source="import",
        )
        return "created"
    changed = people_service.update_user(
        session,
        user=existing,
        name=row.name,
        emails=row.emails,
        phones=row.phones,
        source="import",
    )
    return "updated" if changed else "unchanged"
