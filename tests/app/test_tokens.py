"""API tokens as a use case: issued once and revoked at once, each on the tenant's record, and
a token that works is exactly one that was issued and not revoked."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.ports import Ports
from app.tokens import issue_token, revoke_token
from governance.errors import NotFound
from governance.identity import (
    Forbidden,
    Principal,
    TokenKind,
    Unauthenticated,
    hash_token,
    principal_for,
)
from governance.roles import Role
from governance.token_events import ISSUED, REVOKED

TENANT = "desk"
OPERATOR = Principal.local_operator(TENANT, "ops-lead")


async def token_events(ports: Ports) -> list[tuple[str, dict[str, object]]]:
    events = await ports.store.list_audit_events(TENANT)
    return [(e.event_type, e.details) for e in events if e.event_type in (ISSUED, REVOKED)]


async def test_issue_and_revoke_are_on_the_record(ports: Ports) -> None:
    await ports.store.put_approver(TENANT, "alice", [Role.RISK_APPROVER])
    token, record = await issue_token(
        ports, OPERATOR, tenant_id=TENANT, subject="alice", kind=TokenKind.PERSONAL, ttl_days=7
    )
    assert record.expires_at - record.issued_at == timedelta(days=7)
    stored = await ports.store.get_api_token(hash_token(token))
    assert principal_for(stored, ports.now()).subject == "alice"  # the token works
    revoked, changed = await revoke_token(ports, OPERATOR, tenant_id=TENANT, token=token)
    assert changed and revoked.revoked_at is not None
    with pytest.raises(Unauthenticated):
        principal_for(await ports.store.get_api_token(hash_token(token)), ports.now())
    # Revoking again, by the stored hash this time, changes nothing and writes nothing.
    _, again = await revoke_token(ports, OPERATOR, tenant_id=TENANT, token=hash_token(token))
    assert again is False
    ref = hash_token(token)[:12]
    assert await token_events(ports) == [
        (
            ISSUED,
            {
                "token": ref,
                "kind": "personal",
                "subject": "alice",
                "expires_at": record.expires_at.isoformat(),
                "by": OPERATOR.subject,
            },
        ),
        (REVOKED, {"token": ref, "kind": "personal", "subject": "alice", "by": OPERATOR.subject}),
    ]
    assert token not in str(await ports.store.list_audit_events(TENANT))  # never the secret


async def test_refusals_write_nothing(ports: Ports) -> None:
    async def issue(
        who: Principal = OPERATOR,
        subject: str = "bob",
        kind: TokenKind = TokenKind.PERSONAL,
        ttl_days: int = 30,
    ) -> None:
        await issue_token(
            ports, who, tenant_id=TENANT, subject=subject, kind=kind, ttl_days=ttl_days
        )

    with pytest.raises(NotFound, match="approver directory") as not_in:
        await issue()
    assert not_in.value.field == "user"
    with pytest.raises(ValueError, match="ttl_days"):
        await issue(kind=TokenKind.SERVICE, ttl_days=0)
    with pytest.raises(ValueError, match="subject"):
        await issue(kind=TokenKind.SERVICE, subject="risk engine")
    with pytest.raises(Forbidden):
        await issue(who=Principal.local_operator("other", "x"), kind=TokenKind.SERVICE)
    with pytest.raises(NotFound) as unknown:
        await revoke_token(ports, OPERATOR, tenant_id=TENANT, token="sg_not-a-token")
    assert unknown.value.field == "token"
    token, _ = await issue_token(
        ports, OPERATOR, tenant_id=TENANT, subject="risk-engine", kind=TokenKind.SERVICE, ttl_days=1
    )
    with pytest.raises(Forbidden):  # a token of this tenant, revoked from another
        await revoke_token(
            ports, Principal.local_operator("other", "x"), tenant_id="other", token=token
        )
    stored = await ports.store.get_api_token(hash_token(token))
    assert stored is not None and stored.revoked_at is None
    assert [t for t, _ in await token_events(ports)] == [ISSUED]  # the service token only
