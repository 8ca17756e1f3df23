"""API tokens: issue one (printed once, stored as its hash) and revoke one, each on the record
as an audit event of the token's tenant (governance/token_events.py)."""

from __future__ import annotations

import secrets
import uuid

from app.ports import Ports
from governance.errors import NotFound
from governance.identity import (
    ApiToken,
    Forbidden,
    Principal,
    TokenKind,
    hash_token,
    new_token_record,
    require_tenant,
)
from governance.token_events import token_issued, token_revoked

MAX_TTL_DAYS = 365


async def issue_token(
    ports: Ports, who: Principal, *, tenant_id: str, subject: str, kind: TokenKind, ttl_days: int
) -> tuple[str, ApiToken]:
    """The new token (shown once) and its stored record. A personal token is only for someone
    in the tenant's approver directory."""
    require_tenant(who, tenant_id)
    if not 1 <= ttl_days <= MAX_TTL_DAYS:
        raise ValueError(f"ttl_days: must be 1 to {MAX_TTL_DAYS} days, not {ttl_days}")
    if (
        kind == TokenKind.PERSONAL
        and await ports.store.get_approver_roles(tenant_id, subject) is None
    ):
        raise NotFound(
            f"{subject} is not in tenant {tenant_id}'s approver directory (stratgate users add)",
            field="user",
        )
    token = f"sg_{secrets.token_urlsafe(32)}"
    record = new_token_record(
        token=token,
        kind=kind,
        tenant_id=tenant_id,
        subject=subject,  # validated here: an id, or the whole request is refused
        now=ports.now(),
        ttl_seconds=ttl_days * 86_400,
    )
    event = token_issued(record, by=who.subject, event_id=str(uuid.uuid4()))
    await ports.store.put_api_token(record, event)
    return token, record


def token_hash_of(token: str) -> str:
    """The stored key of `token`, or `token` itself when it is that key already (64 hex)."""
    is_hash = len(token) == 64 and all(c in "0123456789abcdef" for c in token)
    return token if is_hash else hash_token(token)


async def revoke_token(
    ports: Ports, who: Principal, *, tenant_id: str, token: str
) -> tuple[ApiToken, bool]:
    """The token as revoked, and whether this call revoked it (False: it was already)."""
    require_tenant(who, tenant_id)
    digest = token_hash_of(token)
    found = await ports.store.get_api_token(digest)
    if found is None:
        raise NotFound("unknown token", field="token")
    if found.tenant_id != tenant_id:
        raise Forbidden(f"the token is not one of tenant {tenant_id}'s", field="token")
    if found.revoked_at is not None:
        return found, False
    now = ports.now()
    event = token_revoked(found, by=who.subject, at=now, event_id=str(uuid.uuid4()))
    revoked = await ports.store.revoke_api_token(digest, now, event)
    assert revoked is not None  # tokens are never deleted
    return revoked, True
