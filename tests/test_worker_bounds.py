"""The worker's bounds (STRATGATE_MAX_*): parsed from the environment, refused naming the
variable, and handed to the Temporal worker `python -m worker` runs."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

import worker
from settings import Settings, WorkerBounds
from store.sqlite import SqliteStore
from tests.workflows.test_demotion import no_evidence_needed

CACHED, TASKS, ACTIVITIES = (
    "STRATGATE_MAX_CACHED_WORKFLOWS",
    "STRATGATE_MAX_CONCURRENT_WORKFLOW_TASKS",
    "STRATGATE_MAX_CONCURRENT_ACTIVITIES",
)


def test_defaults_and_each_variable() -> None:
    assert Settings.from_env({}).worker_bounds == WorkerBounds()
    assert WorkerBounds().max_cached_workflows < 1000  # below Temporal's own default
    env = {CACHED: " 250 ", TASKS: "20", ACTIVITIES: "40"}
    assert Settings.from_env(env).worker_bounds == WorkerBounds(
        max_cached_workflows=250, max_concurrent_workflow_tasks=20, max_concurrent_activities=40
    )
    assert Settings.from_env({CACHED: "0"}).worker_bounds.max_cached_workflows == 0  # no cache


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        (CACHED, "lots", "whole number"),
        (CACHED, "-1", "0 to 100000"),
        (CACHED, "2.5", "whole number"),
        (TASKS, "1", "2 to 10000"),
        (ACTIVITIES, "0", "1 to 10000"),
        (ACTIVITIES, "1e9", "whole number"),
    ],
)
def test_bad_values_are_refused_naming_the_variable(name: str, value: str, reason: str) -> None:
    with pytest.raises(ValueError) as refused:
        Settings.from_env({name: value})
    assert str(refused.value).startswith(f"{name}: ") and reason in str(refused.value)


async def test_the_worker_runs_with_them(
    client: Client, tmp_path: Path, task_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[dict[str, Any]] = []
    real = worker.build_worker

    def spy(*args: Any, **kwargs: Any) -> Any:
        made = real(*args, **kwargs)
        built.extend(dict(one.config()) for one in made.workers)
        return made

    monkeypatch.setattr(worker, "build_worker", spy)
    monkeypatch.setattr(worker, "default_evaluator", lambda _settings: no_evidence_needed)
    settings = Settings.from_env(
        {
            "STRATGATE_HOME": str(tmp_path),
            "TEMPORAL_ADDRESS": client.service_client.config.target_host,
            "STRATGATE_TASK_QUEUE": task_queue,
            "STRATGATE_GIT_SHA": "test",
            CACHED: "123",
            TASKS: "7",
            ACTIVITIES: "9",
        }
    )
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(settings, stop))
    while not built and not running.done():
        await asyncio.sleep(0.05)
    stop.set()
    await running
    # Both workers of the process, the promotion queue's and the risk queue's, have them.
    assert [config["task_queue"] for config in built] == [task_queue, f"{task_queue}-risk"]
    for config in built:
        assert config["max_cached_workflows"] == 123
        assert config["max_concurrent_workflow_tasks"] == 7
        assert config["max_concurrent_activities"] == 9
    # And a worker built without them keeps the defaults.
    store = SqliteStore(tmp_path / "plain.db")
    plain = real(client, store, task_queue, no_evidence_needed).promotion.config()
    await store.close()
    assert plain["max_cached_workflows"] == WorkerBounds().max_cached_workflows
