"""The periodic signed checkpoint: a Temporal Schedule starts this workflow every
`STRATGATE_CHECKPOINT_INTERVAL_SECONDS` (default one hour) for the tenants in
`STRATGATE_CHECKPOINT_TENANTS`; it picks the checkpoint ids and calls one activity."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.checkpoint import CheckpointMade, CheckpointRequest

SCHEDULE_ID = "stratgate-checkpoints"


@workflow.defn(name="CheckpointWorkflow")
class CheckpointWorkflow:
    @workflow.run
    async def run(self, tenant_ids: list[str]) -> list[CheckpointMade]:
        # Ids made here, recorded in history: a retried activity signs each checkpoint once.
        wanted = [
            CheckpointRequest(tenant_id=t, checkpoint_id=str(workflow.uuid4())) for t in tenant_ids
        ]
        return await workflow.execute_activity(
            "make_checkpoints",
            wanted,
            result_type=list[CheckpointMade],
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )
