"""The fleet halt over HTTP: who may halt, the gate closed, refusals naming the field with
nothing written, the governed resume."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from governance.fleet_halt import global_status
from governance.identity import TokenKind
from governance.roles import Role
from tests.api.conftest import Api

GATE: dict[str, str | int | bool] = {
    "uid": "quant",
    "marketdata_age_ms": 5,
    "agent_state": "READY",
    "trading_mode": "paper",
    "broker_host": "paper-api.alpaca.markets",
    "kill_switch": False,
}


async def gate(api: Api, strategy: str, headers: dict[str, str]) -> dict[str, Any]:
    params: dict[str, str | int | bool] = {**GATE, "tenant": api.stack.tenant, "strategy": strategy}
    answer = await api.http.get("/v1/gate", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def completed(api: Api, headers: dict[str, str]) -> dict[str, Any]:
    path = f"/v1/tenants/{api.stack.tenant}/halt"
    for _ in range(300):
        view: dict[str, Any] = (await api.http.get(path, headers=headers)).json()
        if view["completed"] is not None:
            return view
        await asyncio.sleep(0.1)
    raise AssertionError("the halt's records did not complete")


async def halt_events(api: Api) -> list[str]:
    events = await api.stack.store.list_audit_events(api.stack.tenant)
    return [e.event_type for e in events if e.event_type.startswith("tenant.")]


async def test_halt_closes_gates_refusals_and_resume(api: Api) -> None:
    t = api.stack.tenant
    bob, carol, alice = [await api.token(u) for u in ("bob", "carol", "alice")]
    assert (await gate(api, "momo", bob))["mode"] == "PAPER"

    # A strategy reviewer may not halt; nothing is written.
    before = api.snapshot()
    refused = await api.http.post(f"/v1/tenants/{t}/halt", json={"reason": "oops"}, headers=alice)
    assert refused.status_code == 403 and refused.json()["field"] == "authorization"
    short = await api.http.post(f"/v1/tenants/{t}/halt", json={"reason": "x"}, headers=bob)
    assert short.status_code == 422 and short.json()["field"] == "reason"
    not_halted = await api.http.post(f"/v1/tenants/{t}/resume", json={}, headers=carol)
    assert not_halted.status_code == 409 and not_halted.json()["code"] == "not_halted"
    assert api.snapshot() == before

    halted = await api.http.post(
        f"/v1/tenants/{t}/halt", json={"reason": "venue outage"}, headers=bob
    )
    assert halted.status_code == 202, halted.text
    assert halted.json()["halt"]["halted_by"] == "bob"
    for strategy in ("momo", "calm"):
        decision = await gate(api, strategy, bob)
        assert decision["mode"] == "NO_EXECUTION"
        reason = next(r for r in decision["reasons"] if r["code"] == "tenant_halt")
        assert "halted by bob" in reason["message"] and "venue outage" in reason["message"]

    # A second halt: 409 naming who halted, nothing written.
    again = await api.http.post(f"/v1/tenants/{t}/halt", json={"reason": "again"}, headers=carol)
    assert again.status_code == 409 and again.json()["code"] == "already_halted"
    assert "already halted by bob" in again.json()["message"]
    # A promotion request is refused while halted.
    request = await api.http.post(
        f"/v1/tenants/{t}/promotion-requests",
        json={"uid": "quant", "strategy_id": "calm", "to_stage": "PAPER"},
        headers=carol,
    )
    assert request.status_code == 409 and request.json()["code"] == "tenant_halted"

    view = await completed(api, bob)
    assert view["completed"]["records"] == 2 and view["halt"]["status"] == "active"
    assert await halt_events(api) == ["tenant.halted", "tenant.halt_completed"]

    # The resume: the halter is refused, a second approval by one person too.
    own = await api.http.post(f"/v1/tenants/{t}/resume", json={}, headers=bob)
    assert own.status_code == 403 and own.json()["field"] == "user"
    risky = await api.token("risky")
    await api.stack.store.put_approver(t, "risky", [Role.RISK_APPROVER])
    first = await api.http.post(
        f"/v1/tenants/{t}/resume", json={"comment": "venue back"}, headers=risky
    )
    assert first.status_code == 200 and first.json()["step"]["halt"]["status"] != "lifted"
    twice = await api.http.post(f"/v1/tenants/{t}/resume", json={}, headers=risky)
    assert twice.status_code == 403 and "already approved" in twice.json()["message"]
    assert (await gate(api, "momo", bob))["mode"] == "NO_EXECUTION"
    last = await api.http.post(f"/v1/tenants/{t}/resume", json={}, headers=carol)
    assert last.status_code == 200 and last.json()["step"]["halt"]["status"] == "lifted"
    # Lifted: the gate follows each strategy's own state (frozen by the halt: simulated).
    momo = await gate(api, "momo", bob)
    assert momo["mode"] == "SIMULATE" and "tenant_halt" not in [r["code"] for r in momo["reasons"]]
    story = await api.http.get(f"/v1/tenants/{t}/fleet/history", headers=bob)
    kinds = [e["what"].split(":")[0].split(" ")[0] for e in story.json()]
    assert kinds == [
        "tenant.halted",
        "tenant.halt_completed",
        "tenant.resume_approved",
        "tenant.resume_approved",
        "tenant.resumed",
    ]


async def test_a_service_token_may_halt_its_own_tenant_only(api: Api) -> None:
    t = api.stack.tenant
    service = await api.token("risk-system", kind=TokenKind.SERVICE)
    other = await api.token("risk-system", kind=TokenKind.SERVICE, tenant="someone-else")
    wrong = await api.http.post(f"/v1/tenants/{t}/halt", json={"reason": "limit"}, headers=other)
    assert wrong.status_code == 403 and wrong.json()["field"] == "tenant"
    unknown = await api.http.post(
        "/v1/tenants/someone-else/halt", json={"reason": "limit"}, headers=other
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_tenant"
    halted = await api.http.post(f"/v1/tenants/{t}/halt", json={"reason": "limit"}, headers=service)
    assert halted.status_code == 202
    # A service token cannot approve the resume: that is a person's.
    resume = await api.http.post(f"/v1/tenants/{t}/resume", json={}, headers=service)
    assert resume.status_code == 403
    await completed(api, await api.token("bob"))


async def test_platform_halt_is_on_the_record_and_needs_a_second_admin(api: Api) -> None:
    t = api.stack.tenant
    root, bob = await api.token("root"), await api.token("bob")
    await api.stack.store.put_approver(t, "root2", [Role.ADMIN])
    root2 = await api.token("root2")

    # Not an admin: refused, nothing written.
    before = api.snapshot()
    refused = await api.http.post("/v1/platform/halt", json={"reason": "outage"}, headers=bob)
    assert refused.status_code == 403 and refused.json()["field"] == "authorization"
    assert api.snapshot() == before

    halted = await api.http.post(
        "/v1/platform/halt", json={"reason": "exchange outage"}, headers=root
    )
    assert halted.status_code == 202, halted.text
    assert halted.json()["tenant_id"] == t and halted.json()["halted_at"] is not None
    decision = await gate(api, "momo", bob)
    assert decision["mode"] == "NO_EXECUTION"
    assert "global_halt" in [r["code"] for r in decision["reasons"]]
    # The stored switch reads back whole: who, why, when (the time was once lost).
    again = await api.http.post("/v1/platform/halt", json={"reason": "again"}, headers=root2)
    assert again.status_code == 409 and again.json()["code"] == "already_halted"
    assert "halted by root at " in again.json()["message"]
    own = await api.http.post("/v1/platform/resume", json={"reason": "back"}, headers=root)
    assert own.status_code == 403 and own.json()["field"] == "user"
    lifted = await api.http.post("/v1/platform/resume", json={"reason": "back"}, headers=root2)
    assert lifted.status_code == 200 and lifted.json()["engaged"] is False
    assert (await gate(api, "momo", bob))["mode"] == "PAPER"
    twice = await api.http.post("/v1/platform/resume", json={"reason": "x"}, headers=root2)
    assert twice.status_code == 409 and twice.json()["code"] == "not_halted"

    events = await api.stack.store.list_audit_events(t)
    platform = [e for e in events if e.event_type.startswith("platform.")]
    assert [(e.event_type, e.details["by"]) for e in platform] == [
        ("platform.halted", "root"),
        ("platform.resumed", "root2"),
    ]
    assert platform[1].details["halted_by"] == "root"
    assert platform[1].details["halted_for_seconds"] >= 0
    story = await api.http.get(f"/v1/tenants/{t}/fleet/history", headers=bob)
    assert [e["what"] for e in story.json()] == ["platform.halted", "platform.resumed"]
    assert [e["why"] for e in story.json()] == ["exchange outage", "back"]


async def test_a_platform_halt_stored_without_its_event_gets_it_on_the_retry(api: Api) -> None:
    """The switch is written first: a caller that died before the event finds it written by
    its retry (the 409), once, whatever the number of retries."""
    t = api.stack.tenant
    at = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
    status = await api.stack.store.get_system_status()
    await api.stack.store.put_system_status(
        global_status(status, engaged=True, by="root", reason="outage", at=at, tenant_id=t)
    )
    assert not [e for e in await api.stack.store.list_audit_events(t) if "platform" in e.event_type]
    root = await api.token("root")
    for _ in range(2):
        retry = await api.http.post("/v1/platform/halt", json={"reason": "outage"}, headers=root)
        assert retry.status_code == 409 and retry.json()["code"] == "already_halted"
    events = [e for e in await api.stack.store.list_audit_events(t) if "platform" in e.event_type]
    assert [(e.event_type, e.ts) for e in events] == [("platform.halted", at)]
