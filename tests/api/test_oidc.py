"""OIDC JWTs verified against a JWKS served over HTTP on loopback (HTTPS in production)."""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from api.oidc import OidcConfig, OidcVerifier
from governance.identity import TokenKind, Unauthenticated

ISSUER, AUDIENCE = "https://login.example.test/", "stratgate"


@pytest.fixture
def keys(tmp_path: Path) -> Iterator[tuple[rsa.RSAPrivateKey, OidcVerifier]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    (tmp_path / "jwks.json").write_text(
        json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]})
    )
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    try:
        yield key, OidcVerifier(OidcConfig(ISSUER, AUDIENCE, url))
    finally:
        server.shutdown()


def sign(key: rsa.RSAPrivateKey, **claims: object) -> str:
    body = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "bob",
        "tenant_id": "demo",
        "exp": int(time.time()) + 300,
        **claims,
    }
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": "k1"})


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
