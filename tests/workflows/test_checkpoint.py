"""The periodic signed checkpoint on the real Temporal dev server: the schedule the worker
creates (idempotently) starts CheckpointWorkflow, whose one activity signs each tenant's
checkpoint exactly once; the result verifies."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from temporalio.client import Client
from temporalio.worker import Worker

from activities.checkpoint import CheckpointActivities, CheckpointMade, CheckpointRequest
from app import ledger
from app.ports import Ports
from governance.checkpoint import key_id
from governance.identity import Principal
from store.sqlite import SqliteStore
from workflows.checkpoint import CheckpointWorkflow
from workflows.checkpoint_schedule import ensure_checkpoint_schedule

KEY = Ed25519PrivateKey.generate()


def _worker(client: Client, store: SqliteStore, task_queue: str) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[CheckpointWorkflow],
        activities=[CheckpointActivities(store, lambda: KEY).make_checkpoints],
    )


async def _verified(store: SqliteStore, tenant: str) -> bool:
    ports = Ports(
        store=store, client=None, task_queue="", checkpoint_keys=lambda: [KEY.public_key()]
    )
    who = Principal.local_operator(tenant, "auditor")
    result = await ledger.verify_tenant(ports, who, tenant_id=tenant, uid=None, strategy_id=None)
    return result.ok


async def test_the_workflow_signs_each_tenant_once(
    client: Client, sqlite_store: SqliteStore, task_queue: str, tenant: str
) -> None:
    other = f"{tenant}-b"
    async with _worker(client, sqlite_store, task_queue):
        made: list[CheckpointMade] = await client.execute_workflow(
            CheckpointWorkflow.run,
            [tenant, other],
            id=f"checkpoint-{uuid.uuid4()}",
            task_queue=task_queue,
        )
    assert [(m.tenant_id, m.sequence) for m in made] == [(tenant, 1), (other, 1)]
    stored = await sqlite_store.list_checkpoints(tenant)
    assert [c.body.checkpoint_id for c in stored] == [made[0].checkpoint_id]
    assert stored[0].body.key_id == key_id(KEY.public_key())
    # The activity again with the same ids (a retry) signs nothing new.
    again = await CheckpointActivities(sqlite_store, lambda: KEY).make_checkpoints(
        [CheckpointRequest(tenant_id=tenant, checkpoint_id=made[0].checkpoint_id)]
    )
    assert again[0].sequence == 1 and len(await sqlite_store.list_checkpoints(tenant)) == 1
    assert await _verified(sqlite_store, tenant)


async def test_the_schedule_is_created_idempotently_and_checkpoints_periodically(
    client: Client, sqlite_store: SqliteStore, task_queue: str, tenant: str
) -> None:
    schedule_id = f"checkpoints-{uuid.uuid4()}"
    every = timedelta(seconds=1)
    await ensure_checkpoint_schedule(client, [tenant], task_queue, every, schedule_id)
    await ensure_checkpoint_schedule(client, [tenant], task_queue, every, schedule_id)  # again
    handle = client.get_schedule_handle(schedule_id)
    try:
        described = await handle.describe()
        assert described.schedule.spec.intervals[0].every == every
        async with _worker(client, sqlite_store, task_queue):
            for _ in range(150):
                if len(await sqlite_store.list_checkpoints(tenant)) >= 2:
                    break
                await asyncio.sleep(0.2)
        stored = await sqlite_store.list_checkpoints(tenant)
        assert len(stored) >= 2, "the schedule did not checkpoint twice within 30 s"
        assert [c.body.sequence for c in stored] == list(range(1, len(stored) + 1))
        assert stored[1].body.prev_checkpoint_hash == stored[0].checkpoint_hash()
        assert await _verified(sqlite_store, tenant)
    finally:
        await handle.delete()
