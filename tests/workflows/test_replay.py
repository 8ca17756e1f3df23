"""Replays recorded histories against today's workflow code: a non-deterministic change fails.

Histories are recorded from the real-server tests with STRATGATE_RECORD_HISTORIES=1 and kept
under tests/histories/. Re-record only for an intended, versioned change of workflow logic.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from worker import WORKFLOWS

HISTORIES = sorted((Path(__file__).parent.parent / "histories").glob("*.json"))


def test_histories_are_recorded_for_both_workflows() -> None:
    names = {p.stem for p in HISTORIES}
    assert any(n.startswith("promotion") for n in names), names
    assert any(n.startswith("demotion") for n in names), names
    assert any(n.startswith("fleet_halt") for n in names), names
    assert any(n.startswith("fleet_unfreeze") for n in names), names


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_replay(path: Path) -> None:
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    await replayer.replay_workflow(history)
