"""The CLI's way into the application layer: the configured store and Temporal, as `Ports`,
and the local operator a direct command acts as (recorded as such, never as a named person)."""

from __future__ import annotations

import getpass
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from app.ports import Ports
from app.signing import checkpoint_key, checkpoint_public_keys
from governance.identity import Principal
from settings import Settings
from store.factory import open_store

if TYPE_CHECKING:  # numpy and pyarrow: not on the gate's hot path
    from app.evaluations import Evaluations


@asynccontextmanager
async def local_ports(temporal: bool = True, evidence: bool = False) -> AsyncIterator[Ports]:
    settings = Settings.from_env()
    client, queue = None, settings.task_queue
    if temporal:  # loaded only when needed: `gate check` is on the runtime's hot path
        from cli.temporal import open_client

        client, queue = await open_client(settings)
    store = open_store(settings)
    try:
        yield Ports(
            store=store,
            client=client,
            task_queue=queue,
            checkpoint_signer=lambda: checkpoint_key(settings),
            checkpoint_keys=lambda: checkpoint_public_keys(settings),
            evaluations=evaluations(settings) if evidence else None,
        )
    finally:
        await store.close()


def evaluations(settings: Settings) -> Evaluations:
    """The workflow's evaluator on the configured evidence source (loaded only when asked:
    it brings pyarrow, which the gate's hot path does without)."""
    from activities.evidence_evaluator import EvidenceEvaluator
    from store.factory import open_evidence_source

    return EvidenceEvaluator(settings.evidence_dir, open_evidence_source(settings))


def local_operator(tenant_id: str, name: str | None = None) -> Principal:
    """Direct access to the embedded stack: `local_operator:<name>` in every record and event."""
    return Principal.local_operator(tenant_id, name or getpass.getuser())
