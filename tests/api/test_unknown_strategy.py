"""A risk event for a strategy that is not registered is refused: no workflow, nothing stored."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess

import pytest
from temporalio.service import RPCError, RPCStatusCode

from governance.identity import TokenKind
from governance.promotion import demotion_workflow_id
from tests.api.conftest import Api
from tests.cli.support import STRATGATE, refused


async def assert_no_workflow(api: Api, strategy: str) -> None:
    handle = api.stack.client.get_workflow_handle(
        demotion_workflow_id(api.stack.tenant, "quant", strategy)
    )
    with pytest.raises(RPCError) as caught:
        await handle.describe()
    assert caught.value.status == RPCStatusCode.NOT_FOUND


async def test_a_risk_event_for_an_unknown_strategy_is_a_404_and_starts_nothing(api: Api) -> None:
    tenant = api.stack.tenant
    url = f"/v1/tenants/{tenant}/risk-events"
    svc = await api.token("risk-engine", kind=TokenKind.SERVICE)
    before = api.snapshot()
    ghost = {"event_id": "g1", "uid": "quant", "strategy_id": "ghost", "kind": "clock_skew"}
    r = await api.http.post(url, json=ghost, headers=svc)
    assert r.status_code == 404
    assert r.json() == {
        "code": "unknown_strategy",
        "field": "strategy_id",
        "message": f"unknown strategy {tenant}/quant/ghost: it is not registered",
    }
    # One unknown strategy refuses the whole batch, the known one's event included.
    known = {**ghost, "event_id": "k1", "strategy_id": "momo"}
    r = await api.http.post(url, json=[known, ghost], headers=svc)
    assert r.status_code == 404 and r.json()["code"] == "unknown_strategy"
    assert api.snapshot() == before
    await assert_no_workflow(api, "ghost")
    await assert_no_workflow(api, "momo")
    # The registered strategy alone is accepted and its demotion workflow started.
    r = await api.http.post(url, json=known, headers=svc)
    assert r.status_code == 202, r.text
    described = await api.stack.client.get_workflow_handle(
        demotion_workflow_id(tenant, "quant", "momo")
    ).describe()
    assert described.id == r.json()["accepted"][0]["workflow_id"]


async def test_the_cli_through_the_api_is_refused_the_same(api: Api, served: str) -> None:
    token = (await api.token("risk-engine", kind=TokenKind.SERVICE))["authorization"].split()[1]
    where = [
        "--tenant",
        api.stack.tenant,
        "--uid",
        "quant",
        "--kind",
        "clock_skew",
        "--api",
        served,
    ]
    before = api.snapshot()
    ghost = await cli(token, "risk-event", *where, "--strategy", "ghost")
    refused(ghost, f"unknown strategy {api.stack.tenant}/quant/ghost", "[unknown_strategy]")
    assert api.snapshot() == before
    await assert_no_workflow(api, "ghost")
    sent = await cli(token, "risk-event", *where, "--strategy", "momo", "--json")
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout)["workflow_id"] == demotion_workflow_id(
        api.stack.tenant, "quant", "momo"
    )


async def cli(token: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STRATGATE_TOKEN": token}
    return await asyncio.to_thread(
        subprocess.run, [str(STRATGATE), *args], capture_output=True, text=True, env=env, timeout=60
    )
