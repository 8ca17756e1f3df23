"""Every refusal is a 4xx JSON body naming the field; nothing is written on a refusal."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest

from governance.identity import TokenKind
from governance.promotion import Phase
from governance.stages import LifecycleStage as S
from tests.api.conftest import Api, expired

T = "/v1/tenants/{t}"


async def test_health_and_openapi(api: Api) -> None:
    assert (await api.http.get("/healthz")).json() == {"status": "ok"}
    ready = await api.http.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    spec = (await api.http.get("/openapi.json")).json()
    assert "/v1/tenants/{tenant}/risk-events" in spec["paths"]
    assert "/v1/gate" in spec["paths"]


async def test_tokens_missing_unknown_expired_revoked_cross_tenant(api: Api) -> None:
    url = T.format(t=api.stack.tenant) + "/strategies"
    r = await api.http.get(url)
    assert r.status_code == 401 and r.json()["code"] == "unauthenticated"
    r = await api.http.get(url, headers={"authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json()["message"] == "unknown token"
    old = await api.token("alice", now=expired(), ttl=60)
    r = await api.http.get(url, headers=old)
    assert r.status_code == 401 and r.json()["message"] == "token expired"
    alice = await api.token("alice")
    assert (await api.http.get(url, headers=alice)).status_code == 200
    token = alice["authorization"].split()[1]
    from datetime import UTC, datetime

    from governance.identity import hash_token

    await api.stack.store.revoke_api_token(hash_token(token), datetime.now(UTC))
    r = await api.http.get(url, headers=alice)
    assert r.status_code == 401 and r.json()["message"] == "token revoked"
    other = await api.token("alice", tenant="someone-else")
    r = await api.http.get(url, headers=other)
    assert r.status_code == 403 and r.json()["field"] == "tenant"


async def test_service_token_posts_risk_events_only_and_demotes(api: Api) -> None:
    svc = await api.token("risk-engine", kind=TokenKind.SERVICE)
    base = T.format(t=api.stack.tenant)
    assert (await api.http.get(base + "/strategies", headers=svc)).status_code == 403
    event_id = uuid.uuid4().hex
    body = {"event_id": event_id, "uid": "quant", "strategy_id": "momo", "kind": "drawdown_breaker"}
    r = await api.http.post(base + "/risk-events", json=[body, body], headers=svc)
    assert r.status_code == 202, r.text
    (record,) = await api.stack.wait_records("momo", 1)
    assert record.to_stage == S.SHADOW and record.requested_by == "risk:risk-engine"
    # The risk system reads what its event did; an event not applied (yet) says so.
    outcome = base + f"/strategies/quant/momo/risk-events/{event_id}"
    r = await api.http.get(outcome, headers=svc)
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["applied"] is True and done["record_id"] == record.record_id
    assert (done["from_stage"], done["to_stage"]) == ("PAPER", "SHADOW")
    r = await api.http.get(base + "/strategies/quant/momo/risk-events/never-sent", headers=svc)
    assert r.status_code == 200 and r.json()["applied"] is False
    r = await api.http.get(base + f"/strategies/quant/nope/risk-events/{event_id}", headers=svc)
    assert r.status_code == 404 and r.json()["code"] == "unknown_strategy", r.text
    r = await api.http.post(base + "/risk-events", json=body, headers=svc)  # redelivery
    assert r.status_code == 202
    await asyncio.sleep(1.0)
    assert len(await api.stack.store.list_records(api.stack.tenant, "quant", "momo")) == 1


async def test_a_person_approves_only_as_themselves(api: Api) -> None:
    base = T.format(t=api.stack.tenant)
    bob, carol, quant = await api.token("bob"), await api.token("carol"), await api.token("quant")
    svc = await api.token("risk-engine", kind=TokenKind.SERVICE)
    body = {
        "event_id": "e1",
        "uid": "quant",
        "strategy_id": "momo",
        "kind": "circuit_breaker_critical",
    }
    assert (await api.http.post(base + "/risk-events", json=body, headers=svc)).status_code == 202
    await api.stack.wait_records("momo", 1)
    r = await api.http.post(
        base + "/strategies/quant/momo/unfreeze-requests",
        json={"reason": "reviewed"},
        headers=quant,
    )
    assert r.status_code == 201, r.text
    one = base + "/strategies/quant/momo/promotion"
    await api.stack.wait_phase("momo", Phase.AWAITING_APPROVALS)
    r = await api.http.post(
        one + "/approve", json={"role": "risk_approver", "approver": "bob"}, headers=carol
    )
    assert r.status_code == 422 and r.json()["field"] == "approver"  # no acting as someone else
    r = await api.http.post(one + "/approve", json={"role": "risk_approver"}, headers=carol)
    assert r.status_code == 403 and r.json()["field"] == "role"  # carol is not a risk approver
    r = await api.http.post(one + "/approve", json={"role": "risk_approver"}, headers=quant)
    assert r.status_code in (403,) and r.json()["code"] == "approval_refused"
    r = await api.http.post(
        one + "/approve", json={"role": "risk_approver", "comment": "ok"}, headers=bob
    )
    assert r.status_code == 200, r.text
    outcome = await api.stack.outcome("momo")
    assert outcome.phase == "COMMITTED"
    chain = await api.http.get(base + "/strategies/quant/momo/chain", headers=bob)
    assert chain.json()["ok"] is True and chain.json()["checked"] == 2


async def test_refusals_write_nothing(api: Api) -> None:
    base = T.format(t=api.stack.tenant)
    quant = await api.token("quant")
    before = await api.counts()
    cases = [
        (
            base + "/promotion-requests",
            {"uid": "quant", "strategy_id": "momo", "to_stage": "OBSERVE"},
            422,  # invalid_transition: well-formed, but no such step
            "to_stage",
        ),
        (
            base + "/promotion-requests",
            {"uid": "quant", "strategy_id": "momo", "to_stage": "MOON"},
            422,
            "to_stage",
        ),
        (
            base + "/promotion-requests",
            {"uid": "quant", "strategy_id": "ghost", "to_stage": "SHADOW"},
            404,
            "strategy_id",
        ),
        (base + "/promotion-requests", {"uid": "quant"}, 422, "strategy_id"),
        (base + "/strategies/quant/momo/unfreeze-requests", {"reason": "x"}, 422, "decision"),
        (
            base + "/risk-events",
            {"event_id": "x", "uid": "quant", "strategy_id": "momo", "kind": "nope"},
            422,
            "kind",
        ),
    ]
    for url, body, status, field in cases:
        r = await api.http.post(url, json=body, headers=quant)
        assert r.status_code == status, (url, body, r.text)
        assert r.json()["field"] == field, r.json()
    r = await api.http.post(base + "/promotion-requests", content=b"{not json", headers=quant)
    assert r.status_code == 422
    assert await api.counts() == before


async def test_gate_answers_for_the_runtime(api: Api) -> None:
    svc = await api.token("runtime", kind=TokenKind.SERVICE)
    params: dict[str, Any] = {
        "tenant": api.stack.tenant,
        "uid": "quant",
        "strategy": "momo",
        "marketdata_age_ms": 100,
        "agent_state": "READY",
        "trading_mode": "paper",
        "broker_host": "paper-api.alpaca.markets",
        "kill_switch": "false",
    }
    r = await api.http.get("/v1/gate", params=params, headers=svc)
    assert r.status_code == 200 and r.json()["mode"] == "PAPER", r.text
    r = await api.http.get("/v1/gate", params={**params, "kill_switch": "true"}, headers=svc)
    assert r.json()["mode"] == "NO_EXECUTION" and "kill_switch" in [
        x["code"] for x in r.json()["reasons"]
    ]
    r = await api.http.get("/v1/gate", params={**params, "strategy": "ghost"}, headers=svc)
    assert r.json()["mode"] == "NO_EXECUTION"


async def test_gate_halts_when_the_service_cannot_read_its_halt_file(
    api: Api, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    svc = await api.token("runtime", kind=TokenKind.SERVICE)
    params: dict[str, Any] = {
        "tenant": api.stack.tenant,
        "uid": "quant",
        "strategy": "momo",
        "marketdata_age_ms": 100,
        "agent_state": "READY",
        "trading_mode": "paper",
        "broker_host": "paper-api.alpaca.markets",
        "kill_switch": "false",
    }
    monkeypatch.setenv("EXECUTION_HALT_FILE", str(tmp_path / "HALT"))
    r = await api.http.get("/v1/gate", params=params, headers=svc)
    assert r.status_code == 200 and r.json()["mode"] == "PAPER", r.text  # absent: not halted
    for path, error in ((tmp_path / ("x" * 5000), "File name too long"), (tmp_path, "directory")):
        monkeypatch.setenv("EXECUTION_HALT_FILE", str(path))
        r = await api.http.get("/v1/gate", params=params, headers=svc)
        assert r.status_code == 200 and r.json()["mode"] == "NO_EXECUTION", r.text
        (halt,) = [x["message"] for x in r.json()["reasons"] if x["code"] == "kill_switch"]
        assert error in halt and "cannot be read" in halt, halt
