"""The worker process of `bench scale`: stratgate's two workers (promotion queue and risk
queue, with the floor's no-op workflow and activity), bounded by the same STRATGATE_MAX_* settings
`python -m worker` reads, in a process of its own so the RSS the bench reads is the worker's alone.

    python -m bench.scale_worker ADDRESS QUEUE DB      (exits when its stdin closes)
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys

from bench.demotion_latency import waiting_report
from bench.floor_workflow import FloorWorkflow, noop
from logging_setup import configure as configure_logging
from settings import Settings
from store.sqlite import SqliteStore
from worker import build_worker
from workflows.client import connect


async def serve(address: str, queue: str, db: str) -> None:
    bounds = Settings.from_env().worker_bounds  # refused, naming the variable, if bad
    client = await connect(address)
    store = SqliteStore(db)
    worker = build_worker(
        client,
        store,
        queue,
        waiting_report,
        bounds=bounds,
        extra_workflows=[FloorWorkflow],
        extra_activities=[noop],
    )
    async with worker:
        print(f"ready {bounds.model_dump_json()}", flush=True)
        await asyncio.to_thread(sys.stdin.read)  # until the bench closes our stdin
    await store.close()


def main() -> None:
    configure_logging(level=logging.WARNING)
    address, queue, db = sys.argv[1:4]
    try:
        asyncio.run(serve(address, queue, db))
    finally:
        sys.stdout.flush()
        os._exit(0)  # sdk-python #300


if __name__ == "__main__":
    main()
