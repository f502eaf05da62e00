"""Every mail of the shared real-world corpus parses without loss (skipped when absent)."""

import collections
import email
import email.policy
import hashlib
from pathlib import Path

import pytest

from helpdesk.mail.filters import run_filters
from helpdesk.mail.parsing.parse import parse_mail

CORPUS = (Path(__file__).parents[4] / ".." / "shared" / "mail-corpus").resolve()
SKIP_NAMES = {"SOURCES.md", "SHA256SUMS"}


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(
        p
        for p in CORPUS.rglob("*")
        if p.is_file()
        and p.name not in SKIP_NAMES
        and "LICENSES" not in p.relative_to(CORPUS).parts
    )


def leaves(part, path: str) -> list[tuple[str, email.message.Message]]:
    if part.is_multipart() and part.get_content_maintype() != "message":
        out = []
        for i, child in enumerate(part.get_payload(), 1):
            out += leaves(child, f"{path}.{i}" if path else str(i))
        return out
    return [(path or "1", part)]


def test_corpus() -> None:
    files = corpus_files()
    if not files:
        pytest.skip(f"mail corpus not present at {CORPUS}")
    unparsed: dict[str, list[str]] = {}
    problems: list[str] = []
    stats = collections.Counter()
    for path in files:
        raw = path.read_bytes()
        name = str(path.relative_to(CORPUS))
        mail = run_filters(parse_mail(raw))  # must not raise
        stats["mails"] += 1
        stats["attachments"] += len(mail.attachments)
        stats.update(mail.flags)
        if mail.unparsed:
            unparsed[name] = mail.parse_errors
            continue
        if mail.raw_sha256 != hashlib.sha256(raw).hexdigest() or mail.size != len(raw):
            problems.append(f"{name}: raw hash/size")
        # Leaves counted independently; the parser may have read the structure with either
        # policy, so take the count from the policy that saw more of it.
        counted = [
            leaves(email.message_from_bytes(raw, policy=p), "")
            for p in (email.policy.default, email.policy.compat32)
        ]
        expected = max(counted, key=len)
        accounted = sorted(mail.body_parts + list(dict.fromkeys(a.part for a in mail.attachments)))
        if accounted != sorted(p for p, _ in expected):
            problems.append(f"{name}: leaves {sorted(p for p, _ in expected)} vs {accounted}")
        has_text = any(
            part.get_content_type() == "text/plain"
            and not part.get_filename()
            and part.get_content_disposition() != "attachment"
            and (part.get_payload(decode=True) or b"").strip()
            for _, part in expected
        )
        if has_text and not mail.text.strip():
            problems.append(f"{name}: text part but empty text")
        if "\x00" in mail.text:
            problems.append(f"{name}: NUL in text")
    print(f"\ncorpus: {dict(stats)}; unparsed: {len(unparsed)} {unparsed}")
    assert not problems, "\n".join(problems)
    assert not unparsed
