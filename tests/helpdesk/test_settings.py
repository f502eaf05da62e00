"""Settings: HELPDESK_* variables, secret-key policy and database URL validation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from helpdesk.settings import DEVELOPMENT_SECRET_KEY, Settings, refusal_text

STRONG = "k" * 40


def _settings(monkeypatch, **env: str) -> Settings:
    for key in ("HELPDESK_ENVIRONMENT", "HELPDESK_SECRET_KEY", "HELPDESK_DATABASE_URL"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(f"HELPDESK_{key.upper()}", value)
    return Settings()


def test_the_environment_is_production_unless_said_otherwise(monkeypatch):
    with pytest.raises(ValidationError) as refused:
        _settings(monkeypatch)
    message = refusal_text(refused.value)
    assert "HELPDESK_SECRET_KEY" in message and "in production" in message
    assert "HELPDESK_ENVIRONMENT=development" in message  # what to do for the demo
    assert DEVELOPMENT_SECRET_KEY not in message
    assert _settings(monkeypatch, secret_key=STRONG).environment == "production"


def test_development_runs_with_the_default_key(monkeypatch):
    settings = _settings(monkeypatch, environment="development")
    assert settings.environment == "development"
    assert settings.secret_key == DEVELOPMENT_SECRET_KEY
    assert settings.database_url == "sqlite:///var/helpdesk.db"
    assert settings.is_sqlite


@pytest.mark.parametrize(
    "key",
    [None, DEVELOPMENT_SECRET_KEY, "short-key", "x" * 31],
    ids=["missing", "default", "short", "31"],
)
@pytest.mark.parametrize("environment", ["production", "test"])
def test_outside_development_a_weak_key_is_refused(monkeypatch, environment, key):
    env = {"environment": environment} | ({"secret_key": key} if key else {})
    with pytest.raises(ValidationError, match="HELPDESK_SECRET_KEY"):
        _settings(monkeypatch, **env)


def test_production_with_a_strong_key(monkeypatch):
    settings = _settings(monkeypatch, environment="production", secret_key=STRONG)
    assert settings.secret_key == STRONG


def test_refusal_does_not_echo_the_configured_key(monkeypatch):
    with pytest.raises(ValidationError) as info:
        _settings(monkeypatch, environment="production", secret_key="my-weak-secret")
    assert "my-weak-secret" not in str(info.value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
        ("postgresql+psycopg://u@db/helpdesk", "postgresql+psycopg://u@db/helpdesk"),
        ("postgresql://u@db/helpdesk", "postgresql+psycopg://u@db/helpdesk"),
    ],
)
def test_database_url_accepted(monkeypatch, url, expected):
    settings = _settings(monkeypatch, environment="development", database_url=url)
    assert settings.database_url == expected


@pytest.mark.parametrize("url", ["mysql://u@db/x", "helpdesk.db", "", "oracle://x"])
def test_database_url_refused(monkeypatch, url):
    with pytest.raises(ValidationError, match="HELPDESK_DATABASE_URL"):
        _settings(monkeypatch, environment="development", database_url=url)


def test_values_come_from_the_environment(monkeypatch, tmp_path):
    settings = _settings(
        monkeypatch,
        environment="development",
        data_dir=str(tmp_path),
        default_language="en",
        login_max_failures="3",
        cookie_secure="true",
    )
    assert settings.data_dir == tmp_path
    assert settings.blob_dir == tmp_path / "blobs"
    assert settings.default_language == "en"
    assert settings.login_max_failures == 3
    assert settings.cookie_secure is True
    with pytest.raises(ValidationError):
        _settings(monkeypatch, environment="development", default_language="sv")
