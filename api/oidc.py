"""Production identity: OIDC JWTs verified against the issuer's JWKS (pyjwt).

A token with three dot-separated parts is treated as a JWT when OIDC is configured. Claims used:
`sub` (the person or service), `tenant_id`, and `stratgate_service` (true for a risk system,
which may then only post risk events). Signature, issuer, audience and expiry are all checked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import jwt

from governance.identity import RISK_EVENTS_WRITE, Principal, TokenKind, Unauthenticated


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    audience: str
    jwks_url: str


class OidcVerifier:
    def __init__(self, config: OidcConfig):
        self.config = config
        self.jwks = jwt.PyJWKClient(config.jwks_url, cache_keys=True)

    def principal(self, token: str) -> Principal:
        try:
            key = self.jwks.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256", "ES256"],
                audience=self.config.audience,
                issuer=self.config.issuer,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid token: {exc}", field="authorization") from None
        tenant = claims.get("tenant_id")
        if not isinstance(tenant, str) or not tenant:
            raise Unauthenticated("token has no tenant_id claim", field="authorization")
        service = _service_claim(claims)
        return Principal(
            tenant_id=tenant,
            subject=str(claims["sub"]),
            kind=TokenKind.SERVICE if service else TokenKind.PERSONAL,
            scopes=[RISK_EVENTS_WRITE] if service else [],
        )


def _service_claim(claims: dict[str, Any]) -> bool:
    """`stratgate_service`: absent or false for a person, true for a risk system.

    Anything else ("true", 1, null, []) is refused rather than read either way: a misissued
    claim must not silently make a service a person, nor a person a service.
    """
    if "stratgate_service" not in claims:
        return False
    value = claims["stratgate_service"]
    if isinstance(value, bool):
        return value
    raise Unauthenticated(
        f"token claim stratgate_service must be true or false, not {json.dumps(value)[:100]}",
        field="stratgate_service",
    )


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2
