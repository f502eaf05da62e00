"""``helpdesk users import``: all or nothing, each error by line; UTF-8, BOM, windows-1252;
broken bytes, unclosed quotes, NUL characters and huge cells refused by line."""

from __future__ import annotations

import json

import factories
import pytest
from sqlalchemy import func
from sqlmodel import select
from typer.testing import CliRunner

from helpdesk.cli import app
from helpdesk.models import AuditEvent, EtunnusUser
from helpdesk.services import people
from helpdesk.services.user_import import MAX_CELL, FileError, decode, import_csv

runner = CliRunner()

GOOD_AND_BAD = """etunnus,name,email,phone
100102,Matti Virtanen,matti.virtanen@example.fi,040 123 4567
100233,Aino Korhonen,aino.korhonen@example.fi;AINO@example.com,+358 50 111 2233;09 123 4567
12345,Liian Lyhyt,lyhyt@example.fi,
100345,Juha Mäkinen,ei-osoite,044 222 3344
100478,,sanna@example.fi,
100512,Pekka Hämäläinen,pekka@example.com,12
100102,Matti Kahdesti,matti2@example.fi,

100689,"Laine, Elina",elina.laine@example.fi,045 888 9900
"""


GOOD = "\n".join(
    line
    for number, line in enumerate(GOOD_AND_BAD.splitlines(), 1)
    if number not in (4, 5, 6, 7, 8)
)


def _count(session) -> int:
    return session.exec(select(func.count()).select_from(EtunnusUser)).one()


def test_a_file_with_bad_rows_imports_nothing_and_names_every_bad_line(session) -> None:
    report = import_csv(session, GOOD_AND_BAD.encode())
    assert report.as_json() == {
        "rows": 8,
        "imported": False,
        "created": 0,
        "updated": 0,
        "unchanged": 0,
        "errors": [
            {"line": 4, "reason": report.errors[0].reason},
            {"line": 5, "reason": report.errors[1].reason},
            {"line": 6, "reason": report.errors[2].reason},
            {"line": 7, "reason": report.errors[3].reason},
            {"line": 8, "reason": report.errors[4].reason},
        ],
    }
    reasons = [e.reason for e in report.errors]
    assert "12345" in reasons[0]
    assert "ei-osoite" in reasons[1]
    assert "100102" in reasons[4] and "2" in reasons[4]  # the duplicate names the first line
    assert _count(session) == 0  # not one row of the good ones either


def test_good_rows_are_imported_in_one_go(session) -> None:
    report = import_csv(session, GOOD.encode())
    assert report.as_json() == {
        "rows": 3,
        "imported": True,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "errors": [],
    }
    aino = people.get_user(session, "100233")
    assert people.emails_of(session, aino) == ["aino.korhonen@example.fi", "aino@example.com"]
    assert people.phones_of(session, aino) == ["+358501112233", "+35891234567"]
    assert people.get_user(session, "100689").name == "Laine, Elina"
    assert people.get_user(session, "100102").name == "Matti Virtanen"


def test_reimport_updates_and_never_duplicates(session) -> None:
    agent = factories.agent(session)
    import_csv(session, GOOD.encode())
    matti = people.get_user(session, "100102")
    people.update_user(session, user=matti, notes="Soittaa aina perjantaisin", by=agent)
    before = _count(session)
    again = import_csv(session, GOOD.encode())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    changed = GOOD.replace("040 123 4567", "040 765 4321").replace(
        "Matti Virtanen", "Matti J. Virtanen"
    )
    third = import_csv(session, changed.encode())
    assert (third.created, third.updated, third.unchanged) == (0, 1, 2)
    assert _count(session) == before
    session.refresh(matti)
    assert matti.name == "Matti J. Virtanen"
    assert people.phones_of(session, matti) == ["+358407654321"]
    assert matti.notes == "Soittaa aina perjantaisin"  # agents' notes survive imports
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "user.update")).all()
    assert any(e.details.get("source") == "import" for e in events)


def test_windows_1252_and_bom_files(session) -> None:
    text = "etunnus,name,email,phone\r\n100345,Juha Mäkinen,juha@example.fi,\r\n100512,Pekka Hämäläinen,,\r\n"
    cp1252 = text.encode("cp1252")
    assert decode(cp1252) == text
    report = import_csv(session, cp1252)
    assert report.created == 2 and not report.errors
    assert people.get_user(session, "100512").name == "Pekka Hämäläinen"
    bom = ("\ufeff" + text.replace("Juha", "Juhani")).encode("utf-8")
    report = import_csv(session, bom)
    assert (report.created, report.updated, report.errors) == (0, 1, [])
    assert people.get_user(session, "100345").name == "Juhani Mäkinen"
    utf16 = text.encode("utf-16")
    assert decode(utf16) == text


def test_header_is_required(session) -> None:
    report = import_csv(session, b"100102;Matti;m@example.fi;\n")
    assert report.created == 0
    assert report.errors[0].line == 1
    assert "etunnus" in report.errors[0].reason


def test_cli_prints_errors_and_a_json_last_line(session, tmp_path) -> None:
    path = tmp_path / "users.csv"
    path.write_bytes(GOOD_AND_BAD.encode("utf-8"))
    result = runner.invoke(app, ["users", "import", str(path)])
    assert result.exit_code == 1  # some rows were refused
    lines = result.stdout.strip().splitlines()
    summary = json.loads(lines[-1])
    assert summary["rows"] == 8 and summary["created"] == 0 and not summary["imported"]
    assert [e["line"] for e in summary["errors"]] == [4, 5, 6, 7, 8]
    assert lines[0].startswith("line 4: ")
    assert "nothing was imported" in result.stdout
    clean = tmp_path / "clean.csv"
    clean.write_bytes("etunnus,name,email,phone\n100777,Uusi Käyttäjä,,\n".encode("cp1252"))
    ok = runner.invoke(app, ["users", "import", str(clean)])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout.strip().splitlines()[-1])["created"] == 1
    missing = runner.invoke(app, ["users", "import", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2


def _refused(session, data: bytes) -> tuple[int, str]:
    report = import_csv(session, data)
    assert not report.imported and report.created == 0
    assert _count(session) == 0
    [error] = report.errors
    return error.line, error.reason


HEADER = "etunnus,name,email,phone\n"
ROWS = [f"1001{n:02d},Käyttäjä {n},u{n}@example.fi,\n" for n in range(12)]


def test_one_broken_byte_in_utf8_names_its_line_and_is_no_mojibake(session) -> None:
    data = (HEADER + "".join(ROWS)).encode()
    broken = data.replace("Käyttäjä 7".encode(), b"K\xe4ytt\xe4j\xe4 7")  # one row in latin-1
    line, reason = _refused(session, broken)
    assert line == 9 and "UTF-8" in reason and "0xE4" in reason
    with pytest.raises(FileError):
        decode(broken)


def test_an_unclosed_quote_names_its_line_instead_of_swallowing_rows(session) -> None:
    rows = list(ROWS)
    rows[1] = '100101,"Käyttäjä 1,u1@example.fi,\n'  # the quote is never closed
    line, reason = _refused(session, (HEADER + "".join(rows)).encode())
    assert line == 3 and "Lainausmerkeissä" in reason
    rows[1] = '100101,"Käyttäjä" 1,u1@example.fi,\n'  # text after the closing quote
    line, _reason = _refused(session, (HEADER + "".join(rows)).encode())
    assert line == 3


def test_a_nul_character_names_its_line(session) -> None:
    rows = list(ROWS)
    rows[4] = "100104,Käyttäjä\x00 4,u4@example.fi,\n"
    line, reason = _refused(session, (HEADER + "".join(rows)).encode())
    assert line == 6 and "NUL" in reason


@pytest.mark.parametrize("size", [MAX_CELL + 1, 200_000])
def test_a_huge_cell_names_its_line(session, size) -> None:
    rows = list(ROWS)
    rows[2] = f'100102,"{"x" * size}",u2@example.fi,\n'
    line, reason = _refused(session, (HEADER + "".join(rows)).encode())
    assert line == 4 and str(MAX_CELL) in reason


def test_windows_1252_only_when_no_utf8_is_in_the_file(session) -> None:
    text = HEADER + "100345,Juha Mäkinen,,\n"
    assert decode(text.encode("cp1252")) == text
    mixed = text.encode("cp1252") + "100346,Jörö Öljy,,\n".encode()
    with pytest.raises(FileError) as refused:
        decode(mixed)
    assert refused.value.line == 2


def test_the_cli_names_the_line_of_a_file_error(session, tmp_path) -> None:
    path = tmp_path / "users.csv"
    path.write_bytes((HEADER + ROWS[0] + '100101,"open,,\n' + ROWS[2]).encode())
    result = runner.invoke(app, ["users", "import", str(path)])
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].startswith("line 3: ")
    assert json.loads(result.stdout.strip().splitlines()[-1])["imported"] is False


def test_the_admin_page_imports_all_or_nothing_and_names_the_lines(session, logged_in) -> None:
    page = logged_in.get("/admin/users/import")
    assert page.status_code == 200 and "Tuo käyttäjät" in page.text
    bad = (HEADER + ROWS[0] + '100101,"open,,\n' + ROWS[2]).encode()
    refused = logged_in.post(
        "/admin/users/import",
        data={"csrf_token": logged_in.csrf},
        files={"file": ("users.csv", bad, "text/csv")},
    )
    assert refused.status_code == 400
    assert "Mitään ei tuotu" in refused.text and "Rivi 3:" in refused.text
    assert _count(session) == 0
    logged_in.form("/language", {"language": "en", "next": "/tickets"})
    broken = (HEADER + ROWS[0]).encode() + b"100101,K\xe4ytt\xe4j\xe4,,\n"
    english = logged_in.post(
        "/admin/users/import",
        data={"csrf_token": logged_in.csrf},
        files={"file": ("users.csv", broken, "text/csv")},
    )
    assert "Nothing was imported" in english.text and "Line 3:" in english.text
    assert "not valid UTF-8" in english.text
    done = logged_in.post(
        "/admin/users/import",
        data={"csrf_token": logged_in.csrf},
        files={"file": ("users.csv", (HEADER + "".join(ROWS)).encode(), "text/csv")},
    )
    assert done.status_code == 200 and "Imported 12 rows: 12 new" in done.text
    assert _count(session) == 12


def test_a_clash_while_writing_imports_nothing_and_says_so(session, monkeypatch) -> None:
    from sqlalchemy.exc import IntegrityError

    from helpdesk.services import user_import

    real = user_import._import_row
    calls = []

    def clashing(session, row):
        calls.append(row.line)
        if len(calls) == 3:  # another import took this number a moment ago
            raise IntegrityError("INSERT", {}, Exception("unique etunnus"))
        return real(session, row)

    monkeypatch.setattr(user_import, "_import_row", clashing)
    report = import_csv(session, (HEADER + "".join(ROWS[:5])).encode())
    assert [(e.line, e.reason) for e in report.errors] == [
        (4, "Käyttäjiä muutettiin tuonnin aikana; tuo tiedosto uudelleen")
    ]
    assert not report.imported and _count(session) == 0  # the first two rolled back too
