"""The approver directory: set a person's approver roles (audited), and list the directory."""

from __future__ import annotations

import uuid

from app.ports import Ports
from governance.directory import ApproverRoles, roles_change
from governance.identity import Principal, require_tenant
from governance.roles import Role


async def set_approver_roles(
    ports: Ports, who: Principal, *, tenant_id: str, user: str, roles: list[Role]
) -> tuple[ApproverRoles, bool]:
    """The entry as set, and whether it changed (the directory and its audit event are
    written together; the roles the person holds already write nothing)."""
    require_tenant(who, tenant_id)
    entry = ApproverRoles(tenant_id=tenant_id, user=user, roles=roles)  # names a bad field
    before = await ports.store.get_approver_roles(tenant_id, user)
    event = roles_change(entry, before, by=who.subject, at=ports.now(), event_id=str(uuid.uuid4()))
    if event is None:
        return entry, False
    await ports.store.put_approver(tenant_id, user, entry.roles, event)
    return entry, True


async def approver_directory(
    ports: Ports, who: Principal, *, tenant_id: str
) -> list[ApproverRoles]:
    require_tenant(who, tenant_id)
    found = await ports.store.list_approvers(tenant_id)
    return [
        ApproverRoles(tenant_id=tenant_id, user=user, roles=roles)
        for user, roles in sorted(found.items())
    ]
