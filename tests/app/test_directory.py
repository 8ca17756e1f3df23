"""The approver directory as a use case: each change of who may approve is an audit event,
written with the entry, naming who made it and the roles before and after."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.directory import approver_directory, set_approver_roles
from app.ports import Ports
from governance.directory import EVENT_TYPE
from governance.identity import Forbidden, Principal
from governance.roles import Role

TENANT = "desk"
OPERATOR = Principal.local_operator(TENANT, "ops-lead")


async def directory_events(ports: Ports) -> list[dict[str, object]]:
    events = await ports.store.list_audit_events(TENANT)
    return [e.details for e in events if e.event_type == EVENT_TYPE]


async def test_each_change_is_audited_with_before_and_after(ports: Ports) -> None:
    add = {"tenant_id": TENANT, "user": "bob"}
    entry, changed = await set_approver_roles(
        ports, OPERATOR, **add, roles=[Role.RISK_APPROVER, Role.OPS_APPROVER, Role.RISK_APPROVER]
    )
    assert changed and entry.roles == [Role.OPS_APPROVER, Role.RISK_APPROVER]
    _, again = await set_approver_roles(
        ports, OPERATOR, **add, roles=[Role.OPS_APPROVER, Role.RISK_APPROVER]
    )
    assert again is False  # nothing changed, nothing written
    await set_approver_roles(ports, OPERATOR, **add, roles=[Role.FINAL_AUTHORIZER])
    assert await directory_events(ports) == [
        {
            "user": "bob",
            "roles": ["ops_approver", "risk_approver"],
            "previous_roles": None,
            "by": OPERATOR.subject,
        },
        {
            "user": "bob",
            "roles": ["final_authorizer"],
            "previous_roles": ["ops_approver", "risk_approver"],
            "by": OPERATOR.subject,
        },
    ]
    (listed,) = await approver_directory(ports, OPERATOR, tenant_id=TENANT)
    assert (listed.user, listed.roles) == ("bob", [Role.FINAL_AUTHORIZER])


async def test_bad_input_is_refused_and_nothing_is_written(ports: Ports) -> None:
    with pytest.raises(ValidationError, match="user"):
        await set_approver_roles(
            ports, OPERATOR, tenant_id=TENANT, user="bob/../alice", roles=[Role.RISK_APPROVER]
        )
    with pytest.raises(Forbidden):
        await set_approver_roles(
            ports,
            Principal.local_operator("other", "x"),
            tenant_id=TENANT,
            user="bob",
            roles=[Role.RISK_APPROVER],
        )
    assert await ports.store.list_approvers(TENANT) == {}
    assert await ports.store.list_audit_events(TENANT) == []
