"""The stratgate worker process: two Temporal workers, one per task queue, run together.

The promotion worker polls STRATGATE_TASK_QUEUE; the risk worker polls its risk queue
(`<queue>-risk`, workflows/queues.py), where demotions and fleet halts run with slots and a cache
of their own, so a risk event never waits behind the promotion backlog. Both register every
workflow and activity: a demotion started on the promotion queue before the split keeps running.

Configuration comes from the environment (see settings.py): TEMPORAL_ADDRESS,
TEMPORAL_NAMESPACE, STRATGATE_TASK_QUEUE, STRATGATE_STORE / STRATGATE_DB, STRATGATE_EVIDENCE_DIR,
STRATGATE_MAX_* (the bounds of each of the two workers).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from temporalio.client import Client
from temporalio.worker import Worker

import cpu_tuning  # noqa: F401  (first: NumPy reads its CPU switch when first imported)
import malloc_tuning  # noqa: F401  (before NumPy allocates: glibc keeps freed arrays)
import tracing_setup
from activities.checkpoint import CheckpointActivities
from activities.commit import CommitActivities
from activities.context import ContextActivities
from activities.eligibility import EligibilityActivities, EligibilityEvaluator
from activities.fleet import FleetActivities
from activities.risk import RiskActivities
from app.ports import Unavailable
from app.signing import checkpoint_key, public_keys
from governance.records import RuntimeFingerprint
from logging_setup import configure as configure_logging
from settings import Settings, WorkerBounds
from store.factory import open_store
from store.port import GovernanceStore
from workflows.checkpoint import CheckpointWorkflow
from workflows.checkpoint_schedule import ensure_checkpoint_schedule
from workflows.client import connect
from workflows.demotion import DemotionWorkflow
from workflows.fleet_halt import FleetHaltWorkflow
from workflows.fleet_unfreeze import FleetUnfreezeWorkflow
from workflows.promotion import PromotionWorkflow
from workflows.queues import risk_task_queue

WORKFLOWS = [
    PromotionWorkflow,
    DemotionWorkflow,
    CheckpointWorkflow,
    FleetHaltWorkflow,
    FleetUnfreezeWorkflow,
]


def git_sha() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def fingerprint(settings: Settings) -> RuntimeFingerprint:
    return RuntimeFingerprint(
        git_sha=settings.git_sha or git_sha(),
        agent_name=f"stratgate-worker@{os.uname().nodename}",
        service="stratgate",
        env=settings.env,
    )


def activities_for(
    store: GovernanceStore,
    client: Client,
    evaluator: EligibilityEvaluator,
    runtime: RuntimeFingerprint | None = None,
    assertion_keys: list[Ed25519PublicKey] | None = None,
    checkpoint_signer: Callable[[], Ed25519PrivateKey] | None = None,
) -> Sequence[Callable[..., Any]]:
    context = ContextActivities(store, assertion_keys or [])
    checkpoints = CheckpointActivities(store, checkpoint_signer or _no_checkpoint_key)
    commit = CommitActivities(store, runtime)
    eligibility = EligibilityActivities(store, evaluator)
    risk = RiskActivities(store, client, runtime)
    fleet = FleetActivities(store, client, runtime)
    return [
        context.load_context,
        context.approver_roles,
        context.check_approver,
        commit.commit_stage_change,
        commit.save_request,
        commit.append_audit_event,
        commit.redeem_confirmation_token,
        commit.notify,
        eligibility.evaluate_eligibility,
        risk.store_risk_events,
        risk.apply_risk_events,
        risk.unapplied_risk_events,
        checkpoints.make_checkpoints,
        fleet.cancel_tenant_promotions,
        fleet.halt_page,
        fleet.complete_halt,
        fleet.unfreeze_page,
        fleet.complete_unfreeze,
    ]


def _no_checkpoint_key() -> Ed25519PrivateKey:
    raise Unavailable("this worker has no checkpoint signing key", field="checkpoint_key")


class StratgateWorker:
    """The promotion worker and the risk worker of one process, started and stopped together.

    Used like a temporalio Worker: `async with` runs both in the background, `run()` runs both
    until cancelled or shut down.
    """

    def __init__(self, promotion: Worker, risk: Worker) -> None:
        self.promotion = promotion
        self.risk = risk
        self._running: contextlib.AsyncExitStack | None = None

    @property
    def workers(self) -> tuple[Worker, Worker]:
        return self.promotion, self.risk

    async def run(self) -> None:
        await asyncio.gather(self.promotion.run(), self.risk.run())

    async def shutdown(self) -> None:
        await asyncio.gather(self.promotion.shutdown(), self.risk.shutdown())

    async def __aenter__(self) -> StratgateWorker:
        async with contextlib.AsyncExitStack() as stack:
            for one in self.workers:
                await stack.enter_async_context(one)
            self._running = stack.pop_all()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        running, self._running = self._running, None
        if running is not None:
            await running.__aexit__(kind, error, trace)


def build_worker(
    client: Client,
    store: GovernanceStore,
    task_queue: str,
    evaluator: EligibilityEvaluator,
    runtime: RuntimeFingerprint | None = None,
    assertion_keys: list[Ed25519PublicKey] | None = None,
    checkpoint_signer: Callable[[], Ed25519PrivateKey] | None = None,
    bounds: WorkerBounds | None = None,
    *,
    extra_workflows: Sequence[type] = (),
    extra_activities: Sequence[Callable[..., Any]] = (),
) -> StratgateWorker:
    """Both workers of a stratgate process on `task_queue` and its risk queue.

    Each worker has the `bounds` (cache, workflow-task and activity slots) and a thread pool of
    its own; `extra_*` add workflows and activities to both (the benchmarks' floor).
    """
    bounds = bounds or WorkerBounds()
    activities = [
        *activities_for(store, client, evaluator, runtime, assertion_keys, checkpoint_signer),
        *extra_activities,
    ]

    def one(queue: str, threads: int) -> Worker:
        return Worker(
            client,
            task_queue=queue,
            workflows=[*WORKFLOWS, *extra_workflows],
            activities=activities,
            # The eligibility activity hands its NumPy work to a thread of its own.
            activity_executor=ThreadPoolExecutor(max_workers=threads),
            max_cached_workflows=bounds.max_cached_workflows,
            max_concurrent_workflow_tasks=bounds.max_concurrent_workflow_tasks,
            max_concurrent_activities=bounds.max_concurrent_activities,
        )

    return StratgateWorker(one(task_queue, 8), one(risk_task_queue(task_queue), 8))


def default_evaluator(settings: Settings) -> EligibilityEvaluator:
    from activities.evidence_evaluator import EvidenceEvaluator
    from store.factory import open_evidence_source

    return EvidenceEvaluator(settings.evidence_dir, open_evidence_source(settings))


async def run(settings: Settings, stop: asyncio.Event | None = None) -> None:
    configure_logging()
    tracing_setup.configure("stratgate-worker")
    if not settings.temporal_address:
        raise SystemExit("TEMPORAL_ADDRESS is not set and no embedded stack was found")
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    store = open_store(settings)
    worker = build_worker(
        client,
        store,
        settings.task_queue,
        default_evaluator(settings),
        fingerprint(settings),
        public_keys(settings),
        lambda: checkpoint_key(settings),
        settings.worker_bounds,
    )
    await start_checkpoint_schedule(client, settings)
    async with worker:
        await (stop or asyncio.Event()).wait()
    await store.close()


async def start_checkpoint_schedule(client: Client, settings: Settings) -> None:
    """The periodic signed checkpoint of the configured tenants (idempotent at every start)."""
    if settings.checkpoint_tenants:
        await ensure_checkpoint_schedule(
            client,
            settings.checkpoint_tenants,
            settings.task_queue,
            timedelta(seconds=settings.checkpoint_interval_seconds),
        )


def main() -> None:
    try:
        asyncio.run(run(Settings.from_env()))
    except KeyboardInterrupt:
        pass
    finally:
        tracing_setup.flush()
        os._exit(0)  # sdk-python #300: avoid the abort at interpreter exit


if __name__ == "__main__":
    main()
