"""`stratgate halt --drill`, `history --fleet` and `resume`, as a user runs them (local mode,
a worker of this test on the session's dev server)."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

from temporalio.client import Client

from store.sqlite import SqliteStore
from tests.cli.support import ok, refused, sg
from tests.workflows.harness import ASSERTION_KEYS
from tests.workflows.test_demotion import no_evidence_needed
from worker import build_worker


async def test_halt_drill_history_and_resume(
    tmp_path: Path, client: Client, task_queue: str
) -> None:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    owner = ["--tenant", tenant, "--uid", "quant"]
    for name, stage in (("momo", "PAPER"), ("calm", "SHADOW")):
        ok(
            sg(
                tmp_path,
                "strategy",
                "register",
                *owner,
                "--strategy",
                name,
                "--stage",
                stage,
                "--json",
            )
        )
    env = {
        "TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "STRATGATE_TASK_QUEUE": task_queue,
    }
    store = SqliteStore(tmp_path / "stratgate.db")
    worker = build_worker(
        client, store, task_queue, no_evidence_needed, assertion_keys=ASSERTION_KEYS
    )
    try:
        async with worker:
            drill = ok(
                await asyncio.to_thread(
                    sg, tmp_path, "halt", "--tenant", tenant, "--drill", "--json", **env
                )
            )
            assert drill["halt"]["halt"]["reason"] == "halt drill (self-assessment)"
            assert drill["halt"]["halt"]["halted_by"].startswith("local_operator:")
            assert drill["completed"]["records"] == 2 and drill["completed"]["strategies"] == 2
            text = await asyncio.to_thread(
                sg, tmp_path, "halt", "--tenant", tenant, "--reason", "again", **env
            )
            refused(text, "already halted by local_operator:", "[already_halted]")
            ghost = await asyncio.to_thread(
                sg, tmp_path, "halt", "--tenant", "nobody-here", "--reason", "typo", **env
            )
            refused(ghost, "unknown tenant nobody-here", "[unknown_tenant]")
    finally:
        await store.close()
    story = ok(sg(tmp_path, "history", "--tenant", tenant, "--fleet", "--json"))
    assert [e["what"].split(":")[0] for e in story] == ["tenant.halted", "tenant.halt_completed"]
    assert (
        "gate closed in" in story[1]["what"] and story[0]["why"] == "halt drill (self-assessment)"
    )
    table = sg(tmp_path, "history", "--tenant", tenant, "--fleet")
    assert table.returncode == 0 and "tenant.halt_completed" in table.stdout
    # A resume is a person's approval: the local operator is told to use the API.
    refused(
        sg(tmp_path, "resume", "--tenant", tenant), "authenticated by the API", "[resume_refused]"
    )
    assert (
        json.loads(sg(tmp_path, "history", "--tenant", tenant, "--fleet", "--json").stdout) == story
    )
