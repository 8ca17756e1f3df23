"""The Temporal floor for bench/demotion_latency: an update that runs one no-op activity.

Kept in a module of its own so the workflow sandbox imports nothing else.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn(name="bench_noop")
async def noop() -> None:
    return None


@workflow.defn(name="BenchFloorWorkflow")
class FloorWorkflow:
    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.done)

    @workflow.update
    async def ping(self) -> None:
        await workflow.execute_activity(noop, start_to_close_timeout=timedelta(seconds=10))

    @workflow.signal
    def stop(self) -> None:
        self.done = True
