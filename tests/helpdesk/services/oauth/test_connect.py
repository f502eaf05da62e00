"""Who signed in, read from the ID token the token endpoint returned (the connect flow)."""

from __future__ import annotations

import base64
import json

import pytest

from helpdesk.services.oauth.connect import signed_in_account


def id_token(**claims: object) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    ("claims", "account"),
    [
        # Google: email (verified).
        ({"aud": "app", "email": "info@e-tunnus.fi", "email_verified": True}, "info@e-tunnus.fi"),
        # Microsoft: email when the email scope was granted, else the user principal name.
        ({"aud": "app", "preferred_username": "Info@E-tunnus.fi"}, "Info@E-tunnus.fi"),
        ({"aud": ["other", "app"], "upn": "info@e-tunnus.fi"}, "info@e-tunnus.fi"),
        # Not ours, not verified, or no address at all: no account.
        ({"aud": "another-app", "email": "info@e-tunnus.fi"}, None),
        ({"aud": "app", "email": "info@e-tunnus.fi", "email_verified": False}, None),
        ({"aud": "app", "preferred_username": "+358401234567"}, None),
    ],
)
def test_the_account_comes_from_our_id_token(claims, account):
    assert signed_in_account({"id_token": id_token(**claims)}, client_id="app") == account


@pytest.mark.parametrize(
    "token", [{}, {"id_token": ""}, {"id_token": "not.a.jwt"}, {"id_token": 5}]
)
def test_no_or_a_broken_id_token_names_nobody(token):
    assert signed_in_account(token, client_id="app") is None
