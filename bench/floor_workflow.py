"""The Temporal floor for bench/demotion_latency: an update that runs one no-op activity.

The activity notes when it ran, so the floor is timed to the same moment as a demotion (its
commit runs in an activity), not to when the update's result reaches the client, which on this
dev server arrives ~40 ms later.

Kept in a module of its own so the workflow sandbox imports nothing else.
"""

from __future__ import annotations

import time
from datetime import timedelta

from temporalio import activity, workflow

# When each ping's activity ran (perf_counter), by token; the bench runs the worker in-process.
ARRIVED: dict[str, float] = {}


@activity.defn(name="bench_noop")
async def noop(token: str) -> None:
    ARRIVED[token] = time.perf_counter()


@workflow.defn(name="BenchFloorWorkflow")
class FloorWorkflow:
    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.done)

    @workflow.update
    async def ping(self, token: str) -> None:
        await workflow.execute_activity(noop, token, start_to_close_timeout=timedelta(seconds=10))

    @workflow.signal
    def stop(self) -> None:
        self.done = True
