"""Who is calling: bearer tokens for people and risk systems, stored only as hashes."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from governance.errors import GovernanceError
from governance.records import Identifier, UtcDatetime

RISK_EVENTS_WRITE = "risk_events:write"


class TokenKind(StrEnum):
    PERSONAL = "personal"  # a person; their roles come from the tenant's approver directory
    SERVICE = "service"  # a risk system; may only post risk events for its tenant


class ApiToken(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    token_hash: str
    kind: TokenKind
    tenant_id: Identifier
    subject: Identifier
    scopes: list[str] = Field(default_factory=list)
    issued_at: UtcDatetime
    expires_at: UtcDatetime
    revoked_at: UtcDatetime | None = None


class AuthMethod(StrEnum):
    """How the acting principal was authenticated."""

    API_TOKEN = "api_token"
    OIDC = "oidc"
    # Direct access to the embedded stack's Temporal and store, with no token: recorded as such,
    # never as a named person (an approval needs the API's signed assertion).
    LOCAL_OPERATOR = "local_operator"


LOCAL_OPERATOR_PREFIX = "local_operator:"


class Principal(BaseModel):
    """Who is acting, how they were authenticated, and for which tenant."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    subject: str
    kind: TokenKind
    scopes: list[str] = Field(default_factory=list)
    via: AuthMethod = AuthMethod.API_TOKEN

    @classmethod
    def local_operator(cls, tenant_id: str, name: str) -> Principal:
        return cls(
            tenant_id=tenant_id,
            subject=f"{LOCAL_OPERATOR_PREFIX}{name}",
            kind=TokenKind.PERSONAL,
            via=AuthMethod.LOCAL_OPERATOR,
        )

    @property
    def authenticated_person(self) -> bool:
        """A person whose identity a token proved (may approve, with a signed assertion)."""
        return self.kind == TokenKind.PERSONAL and self.via != AuthMethod.LOCAL_OPERATOR


class Unauthenticated(GovernanceError):
    code = "unauthenticated"


class Forbidden(GovernanceError):
    code = "forbidden"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token_record(
    *,
    token: str,
    kind: TokenKind,
    tenant_id: str,
    subject: str,
    now: datetime,
    ttl_seconds: int,
) -> ApiToken:
    return ApiToken(
        token_hash=hash_token(token),
        kind=kind,
        tenant_id=tenant_id,
        subject=subject,
        scopes=[RISK_EVENTS_WRITE] if kind == TokenKind.SERVICE else [],
        issued_at=now,
        expires_at=now + timedelta(seconds=ttl_seconds),
    )


def principal_for(stored: ApiToken | None, now: datetime) -> Principal:
    if stored is None:
        raise Unauthenticated("unknown token", field="authorization")
    if stored.revoked_at is not None:
        raise Unauthenticated("token revoked", field="authorization")
    if now >= stored.expires_at:
        raise Unauthenticated("token expired", field="authorization")
    return Principal(
        tenant_id=stored.tenant_id, subject=stored.subject, kind=stored.kind, scopes=stored.scopes
    )


def require_tenant(principal: Principal, tenant_id: str) -> None:
    if principal.tenant_id != tenant_id:
        raise Forbidden(
            f"token is for tenant {principal.tenant_id}, not {tenant_id}", field="tenant"
        )


def require_person(principal: Principal) -> None:
    if principal.kind != TokenKind.PERSONAL:
        raise Forbidden(
            "this action needs a person's token, not a service token", field="authorization"
        )


def require_scope(principal: Principal, scope: str) -> None:
    if principal.kind == TokenKind.SERVICE and scope not in principal.scopes:
        raise Forbidden(f"service token lacks scope {scope}", field="authorization")
