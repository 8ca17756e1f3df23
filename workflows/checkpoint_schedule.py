"""The checkpoint Schedule, created (or brought up to date) idempotently by every worker start."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from workflows.checkpoint import SCHEDULE_ID, CheckpointWorkflow


def checkpoint_schedule(tenant_ids: list[str], task_queue: str, every: timedelta) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            CheckpointWorkflow.run,
            tenant_ids,
            id=f"{SCHEDULE_ID}-run",
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        # One at a time: a slow run is not doubled by the next tick.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_checkpoint_schedule(
    client: Client,
    tenant_ids: list[str],
    task_queue: str,
    every: timedelta,
    schedule_id: str = SCHEDULE_ID,
) -> None:
    """Create the schedule, or update the one there to these tenants, queue and interval."""
    schedule = checkpoint_schedule(tenant_ids, task_queue, every)
    try:
        await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:

        def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id).update(replace)
