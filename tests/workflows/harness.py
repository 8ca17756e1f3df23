"""A small test harness: seed a tenant, run a worker, drive requests and events."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from temporalio.client import Client
from temporalio.service import RPCError

from activities.eligibility import EligibilityEvaluator
from app import requests
from app.ports import Ports
from governance.assertion import raw_public
from governance.identity import Principal, TokenKind
from governance.policy import PromotionPolicy, default_policy
from governance.promotion import Phase, PromotionInput
from governance.records import StrategyDoc
from governance.risk_events import RiskEvent, RiskEventKind
from governance.roles import Role
from governance.stages import Decision, LifecycleStage, execution_mode_for
from store.sqlite import SqliteStore
from worker import StratgateWorker, build_worker
from workflows import client as wf
from workflows.promotion_state import PromotionOutcome, PromotionStatus

# The test suite's API key: approvals are signed with it, and workers accept only it.
SIGNER = Ed25519PrivateKey.generate()
ASSERTION_KEYS = [SIGNER.public_key()]
ASSERTION_PUBLIC_KEY = base64.b64encode(raw_public(SIGNER.public_key())).decode()

DEMO_APPROVERS = {
    "alice": [Role.STRATEGY_REVIEWER],
    "bob": [Role.RISK_APPROVER],
    "carol": [Role.OPS_APPROVER],
    "dave": [Role.FINAL_AUTHORIZER],
    "erin": [Role.FINAL_AUTHORIZER, Role.DESIGNATED_PERSON],
    "root": [Role.ADMIN],
}


def fast_policy(version: str = "test.v1", **overrides: Any) -> PromotionPolicy:
    """The spec's thresholds with windows and waits short enough for a real-time test."""
    data = default_policy(version).model_dump(mode="json")
    data["stability_windows"] = {
        "observe_to_shadow": {"min_sessions": 0, "min_evaluations": 0},
        "shadow_to_paper": {"min_sessions": 0},
        "paper_to_live": {"min_sessions": 0},
    }
    data["evaluation_interval_seconds"] = 1
    data.update(overrides)
    return PromotionPolicy.model_validate(data)


class Stack:
    def __init__(self, client: Client, store: SqliteStore, task_queue: str, tenant: str, tmp: Path):
        self.client = client
        self.store = store
        self.task_queue = task_queue
        self.tenant = tenant
        self.tmp = tmp
        # Status queries that could not be answered (a worker being replaced), retried.
        self.unanswered: list[str] = []

    async def seed(
        self,
        policy: PromotionPolicy | None,
        strategies: dict[str, LifecycleStage],
        approvers: dict[str, list[Role]] | None = None,
        uid: str = "quant",
        since: datetime | None = None,
    ) -> None:
        if policy is not None:
            await self.store.put_policy(self.tenant, policy)
        for user, roles in (approvers if approvers is not None else DEMO_APPROVERS).items():
            await self.store.put_approver(self.tenant, user, roles)
        for strategy_id, stage in strategies.items():
            await self.store.register_strategy(
                StrategyDoc(
                    tenant_id=self.tenant,
                    uid=uid,
                    strategy_id=strategy_id,
                    lifecycle_stage=stage,
                    execution_mode=execution_mode_for(stage),
                    last_stage_change_at=since or datetime.now(UTC) - timedelta(days=60),
                )
            )

    def build(self, evaluator: EligibilityEvaluator) -> StratgateWorker:
        """Both workers (promotion and risk queue), not started."""
        return build_worker(
            self.client, self.store, self.task_queue, evaluator, assertion_keys=ASSERTION_KEYS
        )

    @asynccontextmanager
    async def worker(self, evaluator: EligibilityEvaluator) -> AsyncIterator[StratgateWorker]:
        async with self.build(evaluator) as worker:
            yield worker

    async def request(
        self,
        strategy_id: str,
        to_stage: LifecycleStage,
        by: str = "quant",
        decision: Decision = Decision.PROMOTE,
        uid: str = "quant",
    ) -> PromotionInput:
        return await wf.request_promotion(
            self.client,
            self.store,
            self.task_queue,
            tenant_id=self.tenant,
            uid=uid,
            strategy_id=strategy_id,
            to_stage=to_stage,
            requested_by=by,
            decision=decision,
        )

    async def status(self, strategy_id: str, uid: str = "quant") -> PromotionStatus:
        return await wf.promotion_status(self.client, self.tenant, uid, strategy_id)

    async def wait_for(
        self,
        strategy_id: str,
        predicate: Callable[[PromotionStatus], bool],
        timeout: float = 30.0,
        uid: str = "quant",
    ) -> PromotionStatus:
        deadline = asyncio.get_running_loop().time() + timeout
        status = None
        while True:
            try:
                status = await self.status(strategy_id, uid)
            except (RPCError, wf.NotAnswered) as exc:
                self.unanswered.append(f"{strategy_id}: {exc}")
                # A query needs a live worker: while a killed one is replaced it times out.
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.2)
                continue
            if predicate(status):
                return status
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out; last status: {status.model_dump_json()}")
            await asyncio.sleep(0.1)

    async def wait_phase(
        self, strategy_id: str, phase: Phase, timeout: float = 30.0
    ) -> PromotionStatus:
        return await self.wait_for(strategy_id, lambda s: s.phase == phase, timeout)

    def ports(self) -> Ports:
        return Ports(
            store=self.store, client=self.client, task_queue=self.task_queue, signer=SIGNER
        )

    async def approve(
        self, strategy_id: str, approver: str, role: Role, token: str | None = None, **kw: Any
    ) -> PromotionStatus:
        """As the API does it: the person authenticated, the approval signed for them. While a
        killed worker is replaced the request may not answer; a person asks again, and an
        approval that landed meanwhile is not given twice."""
        status = await self.wait_for(strategy_id, lambda _: True, timeout=120)
        who = Principal(tenant_id=self.tenant, subject=approver, kind=TokenKind.PERSONAL)
        metrics_hash = kw.pop("metrics_hash", status.report.metrics_hash if status.report else None)
        comment = kw.pop("comment", "looks good")
        deadline = asyncio.get_running_loop().time() + 120
        unanswered = False
        while True:
            try:
                return await requests.approve(
                    self.ports(),
                    who,
                    tenant_id=self.tenant,
                    uid="quant",
                    strategy_id=strategy_id,
                    role=role,
                    metrics_hash=metrics_hash,
                    comment=comment,
                    confirmation_token=token,
                )
            except wf.NotAnswered:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                unanswered = True
                await asyncio.sleep(1.0)
            except wf.Refused:
                if not unanswered:
                    raise
                now = await self.wait_for(strategy_id, lambda _: True, timeout=120)
                if not any(a.approved_by == approver for a in now.approvals):
                    raise
                return now  # the unanswered attempt landed

    async def outcome(self, strategy_id: str, uid: str = "quant") -> PromotionOutcome:
        handle = wf.promotion_handle(self.client, self.tenant, uid, strategy_id)
        return await asyncio.wait_for(handle.result(), 60)

    async def risk(
        self,
        strategy_id: str,
        kind: RiskEventKind,
        event_id: str | None = None,
        uid: str = "quant",
        **kw: Any,
    ) -> RiskEvent:
        events_per_run = kw.pop("events_per_run", 500)
        event = RiskEvent(
            event_id=event_id or uuid.uuid4().hex,
            kind=kind,
            ts=kw.pop("ts", datetime.now(UTC)),
            **kw,
        )
        await wf.send_risk_event(
            self.client,
            self.store,
            self.task_queue,
            tenant_id=self.tenant,
            uid=uid,
            strategy_id=strategy_id,
            event=event,
            events_per_run=events_per_run,
        )
        return event

    async def applied(self, strategy_id: str, event: RiskEvent, timeout: float = 30.0) -> None:
        """Wait until the demotion workflow has applied `event` (its audit entry is written
        last, in the same transaction as any demotion)."""
        from governance.demotion import risk_audit_id

        audit_id = risk_audit_id(self.tenant, "quant", strategy_id, event.event_id)
        deadline = asyncio.get_running_loop().time() + timeout
        while await self.store.get_audit_event(self.tenant, audit_id) is None:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"risk event {event.event_id} not applied")
            await asyncio.sleep(0.1)

    async def wait_records(self, strategy_id: str, count: int, timeout: float = 30.0) -> list[Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            records = await self.store.list_records(self.tenant, "quant", strategy_id)
            if len(records) >= count:
                return records
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"expected {count} records, have {len(records)}")
            await asyncio.sleep(0.1)


HISTORIES = Path(__file__).parent.parent / "histories"


async def keep_history(client: Client, workflow_id: str, name: str) -> None:
    """With STRATGATE_RECORD_HISTORIES=1, save a finished run's history for the replay tests."""
    import os

    if os.environ.get("STRATGATE_RECORD_HISTORIES") != "1":
        return
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    HISTORIES.mkdir(exist_ok=True)
    (HISTORIES / f"{name}.json").write_text(history.to_json())
