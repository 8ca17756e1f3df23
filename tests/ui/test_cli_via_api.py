"""People use the CLI through the same front door: `--api` with their own token."""

from __future__ import annotations

import asyncio
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
