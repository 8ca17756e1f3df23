"""`stratgate risk-event` refuses what the API refuses, before anything is sent."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from governance.bounds import DETAILS_MAX_BYTES
from governance.promotion import demotion_workflow_id
from tests.cli.support import ok, refused, sg
from tests.governance.test_bounds import nested
from workflows.queues import risk_task_queue

WHERE = ("--tenant", "demo", "--uid", "quant", "--strategy", "momo", "--kind", "clock_skew")


@pytest.mark.parametrize(
    ("details", "reason"),
    [
        (json.dumps(nested(9)), "details: nesting depth 9 exceeds the limit of 8"),
        ("[" * 10_000 + "]" * 10_000, "details: nesting depth 10000 exceeds the limit of 8"),
        (
            json.dumps({"blob": "x" * DETAILS_MAX_BYTES}),
            "details: 16395 bytes of canonical JSON exceeds the limit of 16384 bytes",
        ),
        (json.dumps({"n": 2**60}), "details: not canonical JSON"),
        ('{"a": NaN}', "details: not canonical JSON"),
        ('{"\\ud800": 1}', "details: not canonical JSON"),  # a lone surrogate as a key
        ("[1]", "details: must be a JSON object"),
        ("{oops", "details: not JSON"),
    ],
)
def test_out_of_bounds_details_are_refused_before_anything_is_sent(
    tmp_path: Path, details: str, reason: str
) -> None:
    # No stack runs here: a command that got as far as sending would say so instead.
    refused(sg(tmp_path, "risk-event", *WHERE, "--details", details), reason)
    refused(sg(tmp_path, "risk-event", *WHERE, "--details", details, "--api", "http://x"), reason)


async def test_an_unknown_strategy_is_refused_and_no_workflow_starts(
    tmp_path: Path, client: Client, task_queue: str
) -> None:
    tenant = f"t-{uuid.uuid4().hex[:8]}"  # the dev server outlives this test: a fresh tenant
    owner = ["--tenant", tenant, "--uid", "quant"]
    ok(sg(tmp_path, "strategy", "register", *owner, "--strategy", "momo", "--json"))
    where = [*owner, "--kind", "clock_skew", "--json", "--no-wait"]
    env = {
        "TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "STRATGATE_TASK_QUEUE": task_queue,
    }

    ghost = await asyncio.to_thread(
        sg, tmp_path, "risk-event", *where, "--strategy", "ghost", **env
    )
    # Under --json the refusal is the API's error body, on stdout.
    assert ghost.returncode == 2 and not ghost.stderr, ghost.stderr
    error = json.loads(ghost.stdout)
    assert (error["code"], error["field"]) == ("unknown_strategy", "strategy_id"), error
    assert f"unknown strategy {tenant}/quant/ghost" in error["message"]
    text = await asyncio.to_thread(
        sg, tmp_path, "risk-event", *where[:-2], "--strategy", "ghost", **env
    )
    refused(text, f"unknown strategy {tenant}/quant/ghost", "[unknown_strategy]")
    with pytest.raises(RPCError) as caught:
        await client.get_workflow_handle(demotion_workflow_id(tenant, "quant", "ghost")).describe()
    assert caught.value.status == RPCStatusCode.NOT_FOUND

    sent = ok(
        await asyncio.to_thread(sg, tmp_path, "risk-event", *where, "--strategy", "momo", **env)
    )
    assert sent["workflow_id"] == demotion_workflow_id(tenant, "quant", "momo")
    described = await client.get_workflow_handle(sent["workflow_id"]).describe()
    assert described.task_queue == risk_task_queue(task_queue)  # the demotions' own queue
    await client.get_workflow_handle(sent["workflow_id"]).terminate("test over")
