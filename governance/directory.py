"""The tenant's approver directory: who holds which approver roles.

A change to it changes who may approve (and so what the two-person rule means), so each change
is an audit event written in the same transaction as the directory entry, naming who made it and
the roles before and after. Setting the roles a person already holds changes nothing and writes
nothing.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from governance.records import AuditEvent, Identifier
from governance.roles import Role

EVENT_TYPE = "directory.approver_roles_set"


class ApproverRoles(BaseModel):
    """One person's entry: the roles they hold in the tenant, each once, in a stable order. No
    role at all is an entry too: a person the tenant knows (who may request, and hold a personal
    token) but who approves nothing."""

    model_config = ConfigDict(frozen=True)

    tenant_id: Identifier
    user: Identifier
    roles: list[Role] = Field(max_length=len(Role))

    @field_validator("roles")
    @classmethod
    def _each_once(cls, roles: list[Role]) -> list[Role]:
        return sorted(set(roles), key=lambda r: r.value)


def roles_change(
    entry: ApproverRoles, before: list[Role] | None, *, by: str, at: datetime, event_id: str
) -> AuditEvent | None:
    """The audit event of setting `entry` over `before` (None: not in the directory yet), or
    None when it changes nothing."""
    previous = sorted({r.value for r in before}) if before is not None else None
    roles = [r.value for r in entry.roles]
    if previous == roles:
        return None
    return AuditEvent(
        event_id=event_id,
        event_type=EVENT_TYPE,
        ts=at,
        tenant_id=entry.tenant_id,
        details={"user": entry.user, "roles": roles, "previous_roles": previous, "by": by},
    )
