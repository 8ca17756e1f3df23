"""LIVE controls: a final authorizer's single-use confirmation token for the request in flight."""

from __future__ import annotations

import secrets
from datetime import datetime

from pydantic import BaseModel

from app.ports import Ports
from governance.errors import GovernanceError
from governance.identity import Principal, require_person, require_tenant
from governance.live import issue
from governance.roles import Role
from governance.stages import LifecycleStage
from workflows import client as wf

DEFAULT_TTL_SECONDS = 300


class IssuedToken(BaseModel):
    token: str  # shown once; only its hash is stored
    user: str
    request_id: str
    expires_at: datetime


async def confirm_live(
    ports: Ports, who: Principal, *, tenant_id: str, uid: str, strategy_id: str
) -> IssuedToken:
    """A token for the caller, who must be a final authorizer, bound to the LIVE request."""
    require_tenant(who, tenant_id)
    require_person(who)
    current = await wf.promotion_status(ports.temporal(), tenant_id, uid, strategy_id)
    if current.to_stage != LifecycleStage.LIVE:
        raise GovernanceError("the request in flight does not enable LIVE", field="strategy_id")
    roles = await ports.store.get_approver_roles(tenant_id, who.subject) or []
    if Role.FINAL_AUTHORIZER not in roles:
        raise GovernanceError(
            f"{who.subject} is not a final_authorizer", field="authorization", code="forbidden"
        )
    policy = await ports.store.get_policy(tenant_id)
    ttl = policy.live_controls.confirmation_token_ttl_seconds if policy else DEFAULT_TTL_SECONDS
    token = secrets.token_urlsafe(24)
    stored = issue(
        token=token,
        tenant_id=tenant_id,
        request_id=current.request_id,
        user=who.subject,
        now=ports.now(),
        ttl_seconds=ttl,
    )
    await ports.store.put_confirmation_token(stored)
    return IssuedToken(
        token=token, user=who.subject, request_id=current.request_id, expires_at=stored.expires_at
    )
