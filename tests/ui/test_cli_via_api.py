"""People use the CLI through the same front door: `--api` with their own token."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from governance.promotion import Phase
from governance.stages import LifecycleStage as S
from tests.workflows.harness import Stack

STRATGATE = Path(sys.prefix, "bin", "stratgate")


async def sg(token: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STRATGATE_TOKEN": token}
    return await asyncio.to_thread(
        subprocess.run,
        [str(STRATGATE), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


async def test_approve_and_refusals_through_the_api(
    site: tuple[str, Stack, dict[str, str]],
) -> None:
    base, stack, tokens = site
    await stack.request("edge", S.PAPER)
    await stack.wait_phase("edge", Phase.AWAITING_APPROVALS)
    where = ["--tenant", stack.tenant, "--uid", "quant", "--strategy", "edge", "--api", base]
    wrong = await sg(tokens["carol"], "approve", *where, "--role", "risk_approver")
    assert wrong.returncode == 2 and "role" in wrong.stderr, wrong.stderr
    ok = await sg(tokens["bob"], "approve", *where, "--role", "risk_approver", "--json")
    assert ok.returncode == 0, ok.stderr
    status = await stack.status("edge")
    assert [(a.approved_by, a.role) for a in status.approvals] == [("bob", "risk_approver")]
    stranger = await sg("not-a-token", "approve", *where, "--role", "ops_approver")
    assert stranger.returncode == 2 and "unknown token" in stranger.stderr


async def test_halt_and_resume_with_unfreeze_through_the_api(
    site: tuple[str, Stack, dict[str, str]],
) -> None:
    """The tenant's risk system halts; two people resume with --unfreeze; the last one's CLI
    waits for the bulk unfreeze workflow and prints its counts."""
    base, stack, tokens = site
    where = ["--tenant", stack.tenant, "--api", base]
    drill = await sg(tokens["risk-engine"], "halt", *where, "--drill", "--json")
    assert drill.returncode == 0, drill.stderr
    assert json.loads(drill.stdout)["completed"]["records"] == 1  # edge: frozen in SHADOW
    first = await sg(tokens["bob"], "resume", *where, "--unfreeze", "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["unfreeze"] is None  # still halted: nothing started
    last = await sg(tokens["carol"], "resume", *where, "--unfreeze")
    assert last.returncode == 0, last.stderr
    assert "unfrozen: 1 strategies, 0 skipped" in last.stdout, last.stdout
    edge = await stack.store.get_strategy(stack.tenant, "quant", "edge")
    assert edge is not None and not edge.freeze
    again = await sg(tokens["carol"], "resume", *where, "--unfreeze")
    assert again.returncode == 2 and "[not_halted]" in again.stderr, again.stderr
