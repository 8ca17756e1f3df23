"""Production identity: OIDC JWTs verified against the issuer's JWKS (pyjwt).

A token with three dot-separated parts is treated as a JWT when OIDC is configured. Claims used:
`sub` (the person or service), `tenant_id`, and `stratgate_service` (true for a risk system,
which may then only post risk events). Signature, issuer, audience and expiry are all checked.
"""

from __future__ import annotations

from dataclasses import dataclass

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
        service = claims.get("stratgate_service") is True
        return Principal(
            tenant_id=tenant,
            subject=str(claims["sub"]),
            kind=TokenKind.SERVICE if service else TokenKind.PERSONAL,
            scopes=[RISK_EVENTS_WRITE] if service else [],
        )


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2
