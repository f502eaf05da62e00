"""The caching header factory parses exactly as the stock ``email.policy.default``."""

import dataclasses
import email
import email.policy
from email.headerregistry import UnstructuredHeader
from pathlib import Path

import pytest
from mailgen import mixed

from helpdesk.mail.filters import run_filters
from helpdesk.mail.parsing import parse as parse_module
from helpdesk.mail.parsing.headers import DEFAULT, CachingHeaderRegistry
from helpdesk.mail.parsing.parse import parse_mail

SAMPLES = Path(__file__).parents[1] / "samples"


def parsed(raws: list[bytes]) -> list[dict]:
    return [dataclasses.asdict(run_filters(parse_mail(raw))) for raw in raws]


def test_same_result_as_the_stock_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    raws = [p.read_bytes() for p in sorted(SAMPLES.glob("*.eml"))] + mixed(30)
    cached_cold = parsed(raws)
    cached_warm = parsed(raws)  # every header now comes from the cache
    monkeypatch.setattr(parse_module, "DEFAULT", email.policy.default)
    stock = parsed(raws)
    assert cached_cold == stock
    assert cached_warm == stock


def test_headers_are_reused_and_equal_to_stock() -> None:
    raw = mixed(1)[0]
    first = email.message_from_bytes(raw, policy=DEFAULT)
    second = email.message_from_bytes(raw, policy=DEFAULT)
    stock = email.message_from_bytes(raw, policy=email.policy.default)
    assert first["Content-Type"] is second["Content-Type"]
    for name in ("Subject", "From", "Content-Type", "Message-ID"):
        assert str(first[name]) == str(stock[name])
        assert type(first[name]).__mro__[1:] == type(stock[name]).__mro__[1:]
        assert first[name].defects == stock[name].defects
    assert first.get_content_type() == stock.get_content_type()


def test_map_to_type_forgets_what_was_built() -> None:
    registry = CachingHeaderRegistry()
    before = registry("Subject", "Hei")
    registry.map_to_type("subject", UnstructuredHeader)
    after = registry("Subject", "Hei")
    assert after is not before
    assert after == before


def test_non_string_values_are_not_cached() -> None:
    registry = CachingHeaderRegistry()
    address = email.headerregistry.Address("Matti", "matti", "example.fi")
    header = registry("To", [address])
    assert str(header) == "Matti <matti@example.fi>"
    assert registry("To", [address]) is not header


def test_long_values_are_parsed_every_time() -> None:
    registry = CachingHeaderRegistry()
    long_value = "<" + "a" * 600 + "@example.fi>"
    assert registry("References", long_value) is not registry("References", long_value)
    assert registry("Subject", "Hei") is registry("Subject", "Hei")
