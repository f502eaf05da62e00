"""``helpdesk mail import`` of .eml files, mbox files and Maildir folders, and the corpus."""

from __future__ import annotations

import json
import mailbox as stdlib_mailbox
from datetime import UTC, datetime
from pathlib import Path

import factories
import pytest
from mailgen import mail, message_id
from sqlmodel import Session, select
from typer.testing import CliRunner

from helpdesk.blobs import BlobStore
from helpdesk.cli import app
from helpdesk.models import InboundMail, Message, Ticket
from helpdesk.settings import get_settings

CORPUS = (Path(__file__).parents[2] / ".." / "shared" / "mail-corpus").resolve()
runner = CliRunner()


def run_import(*args: str) -> dict[str, int]:
    result = runner.invoke(app, ["mail", "import", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def box(session: Session, data_dir: Path) -> str:
    return factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi").address


def test_eml_mbox_and_maildir_with_counts(session: Session, box: str, tmp_path: Path) -> None:
    first_id = message_id()
    first = mail(msgid=first_id, subject="Ensimmäinen")
    emls = tmp_path / "eml"
    (emls / "sub").mkdir(parents=True)
    (emls / "1.eml").write_bytes(first)
    (emls / "sub" / "2.eml").write_bytes(mail(in_reply_to=first_id, subject="Re: Ensimmäinen"))

    mbox_path = tmp_path / "arkisto.mbox"
    mbox = stdlib_mailbox.mbox(mbox_path)
    mbox.add(mail(subject="Poissa toimistolta", headers={"Auto-Submitted": "auto-replied"}))
    mbox.add(mail(subject="From the beginning: 'From ' at line start", body="From here on\n"))
    mbox.add(first)  # the same mail again: a duplicate
    mbox.close()

    maildir_path = tmp_path / "Maildir"
    maildir = stdlib_mailbox.Maildir(maildir_path)
    maildir.add(mail(subject="Maildirista 1 äö"))
    maildir.add(mail(subject="Maildirista 2 €"))
    maildir.close()

    counts = run_import(str(emls), str(mbox_path), str(maildir_path), "--mailbox", box)
    assert counts == {
        "read": 7,
        "imported": 6,
        "duplicates": 1,
        "threaded": 1,
        "auto_replies": 1,
        "unparsed": 0,
        "failed": 0,
    }
    assert counts["read"] == counts["imported"] + counts["duplicates"] + counts["failed"]
    assert len(session.exec(select(Ticket)).all()) == 5
    subjects = {m.subject for m in session.exec(select(Message))}
    assert {"Maildirista 1 äö", "Maildirista 2 €", "Poissa toimistolta"} <= subjects

    again = run_import(str(emls / "1.eml"), str(maildir_path), "--mailbox", box)
    assert (again["read"], again["duplicates"], again["imported"]) == (3, 3, 0)


def test_import_files_mail_at_its_date(session: Session, box: str, tmp_path: Path) -> None:
    path = tmp_path / "vanha.eml"
    path.write_bytes(mail(subject="Vanha viesti", date=datetime(2025, 6, 2, 7, 0, tzinfo=UTC)))
    run_import(str(path), "--mailbox", box)
    message = session.exec(select(Message)).one()
    assert message.created_at.year == 2025


def test_import_refuses_an_unknown_mailbox(
    session: Session, data_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "a.eml"
    path.write_bytes(mail())
    result = runner.invoke(app, ["mail", "import", str(path), "--mailbox", "ei@ole.fi"])
    assert result.exit_code == 1 and "no mailbox" in result.output


@pytest.mark.parametrize(
    "command", [["mail", "fetch"], ["mail", "import"], ["mail", "reprocess"], ["worker"]]
)
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_reprocess_needs_a_choice(session: Session, data_dir: Path) -> None:
    result = runner.invoke(app, ["mail", "reprocess"])
    assert result.exit_code == 1


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(
        p
        for p in CORPUS.rglob("*")
        if p.is_file()
        and p.name not in {"SOURCES.md", "SHA256SUMS"}
        and "LICENSES" not in p.relative_to(CORPUS).parts
    )


@pytest.mark.slow
def test_corpus_imports_without_loss(session: Session, box: str) -> None:
    files = corpus_files()
    if not files:
        pytest.skip(f"mail corpus not present at {CORPUS}")
    counts = run_import(*map(str, files), "--mailbox", box)
    assert counts["failed"] == 0
    assert counts["imported"] + counts["duplicates"] == counts["read"] >= len(files)
    store = BlobStore(get_settings().blob_dir)
    messages = session.exec(select(Message)).all()
    assert len(messages) == counts["imported"]
    assert all(m.raw_sha256 and store.exists(m.raw_sha256) for m in messages)
    inbound = session.exec(select(InboundMail)).all()
    assert len(inbound) == counts["read"]
    assert all(r.message_id is not None and store.exists(r.raw_sha256) for r in inbound)
