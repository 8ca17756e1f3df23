"""Signing the scheduled checkpoints: one activity, idempotent by the checkpoint ids the
workflow chose (a retry finds the checkpoints already stored and signs none again)."""

from __future__ import annotations

from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import BaseModel
from temporalio import activity

from activities.errors import refusal
from app import ledger
from app.ports import Ports
from governance.errors import GovernanceError
from governance.identity import Principal, TokenKind
from store.port import GovernanceStore

WORKER = "stratgate-worker"


class CheckpointRequest(BaseModel):
    tenant_id: str
    checkpoint_id: str


class CheckpointMade(BaseModel):
    tenant_id: str
    checkpoint_id: str
    sequence: int
    merkle_root: str


class CheckpointActivities:
    def __init__(self, store: GovernanceStore, signer: Callable[[], Ed25519PrivateKey]):
        self.ports = Ports(store=store, client=None, task_queue="", checkpoint_signer=signer)

    @activity.defn(name="make_checkpoints")
    async def make_checkpoints(self, wanted: list[CheckpointRequest]) -> list[CheckpointMade]:
        made = []
        for one in wanted:
            who = Principal(tenant_id=one.tenant_id, subject=WORKER, kind=TokenKind.SERVICE)
            try:
                cp = await ledger.checkpoint(
                    self.ports, who, tenant_id=one.tenant_id, checkpoint_id=one.checkpoint_id
                )
            except GovernanceError as exc:
                raise refusal(exc) from None
            made.append(
                CheckpointMade(
                    tenant_id=one.tenant_id,
                    checkpoint_id=cp.body.checkpoint_id,
                    sequence=cp.body.sequence,
                    merkle_root=cp.body.merkle_root,
                )
            )
        return made
