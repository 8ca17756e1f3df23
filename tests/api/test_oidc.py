"""OIDC JWTs verified against a JWKS served over HTTP on loopback (HTTPS in production)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from api.oidc import OidcVerifier
from governance.identity import TokenKind, Unauthenticated
from tests.api.conftest import sign


def test_valid_tokens_map_to_principals(keys: tuple[rsa.RSAPrivateKey, OidcVerifier]) -> None:
    key, verifier = keys
    person = verifier.principal(sign(key))
    assert (person.subject, person.tenant_id, person.kind) == ("bob", "demo", TokenKind.PERSONAL)
    service = verifier.principal(sign(key, sub="risk-engine", stratgate_service=True))
    assert service.kind == TokenKind.SERVICE and service.scopes == ["risk_events:write"]


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": int(time.time()) - 10},
        {"aud": "other"},
        {"iss": "https://evil.test/"},
        {"tenant_id": ""},
    ],
)
def test_bad_tokens_are_refused(keys: tuple[rsa.RSAPrivateKey, OidcVerifier], claims: dict) -> None:
    key, verifier = keys
    with pytest.raises(Unauthenticated):
        verifier.principal(sign(key, **claims))


def test_a_token_signed_by_another_key_is_refused(
    keys: tuple[rsa.RSAPrivateKey, OidcVerifier],
) -> None:
    _, verifier = keys
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(Unauthenticated):
        verifier.principal(sign(stranger))


@pytest.mark.parametrize("value", ["true", "false", 1, 0, "yes", None, [], {}, 1.0])
def test_a_service_claim_that_is_not_a_boolean_is_refused_naming_it(
    keys: tuple[rsa.RSAPrivateKey, OidcVerifier], value: Any
) -> None:
    key, verifier = keys
    with pytest.raises(Unauthenticated) as caught:
        verifier.principal(sign(key, stratgate_service=value))
    assert caught.value.field == "stratgate_service"
    assert "stratgate_service must be true or false" in caught.value.message


def test_a_false_or_absent_service_claim_is_a_person(
    keys: tuple[rsa.RSAPrivateKey, OidcVerifier],
) -> None:
    key, verifier = keys
    assert verifier.principal(sign(key, stratgate_service=False)).kind == TokenKind.PERSONAL
    assert verifier.principal(sign(key)).kind == TokenKind.PERSONAL
