"""The stratgate worker: registers both workflows and every activity on one task queue.

Configuration comes from the environment (see settings.py): TEMPORAL_ADDRESS,
TEMPORAL_NAMESPACE, STRATGATE_TASK_QUEUE, STRATGATE_STORE / STRATGATE_DB, STRATGATE_EVIDENCE_DIR.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from temporalio.client import Client
from temporalio.worker import Worker

import tracing_setup
from activities.commit import CommitActivities
from activities.context import ContextActivities
from activities.eligibility import EligibilityActivities, EligibilityEvaluator
from activities.risk import RiskActivities
from app.signing import public_keys
from governance.records import RuntimeFingerprint
from logging_setup import configure as configure_logging
from settings import Settings
from store.factory import open_store
from store.port import GovernanceStore
from workflows.client import connect
from workflows.demotion import DemotionWorkflow
from workflows.promotion import PromotionWorkflow

WORKFLOWS = [PromotionWorkflow, DemotionWorkflow]


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
) -> Sequence[Callable[..., Any]]:
    context = ContextActivities(store, assertion_keys or [])
    commit = CommitActivities(store, runtime)
    eligibility = EligibilityActivities(store, evaluator)
    risk = RiskActivities(store, client, runtime)
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
    ]


def build_worker(
    client: Client,
    store: GovernanceStore,
    task_queue: str,
    evaluator: EligibilityEvaluator,
    runtime: RuntimeFingerprint | None = None,
    assertion_keys: list[Ed25519PublicKey] | None = None,
) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=activities_for(store, client, evaluator, runtime, assertion_keys),
        # The eligibility activity hands its NumPy work to a thread of its own.
        activity_executor=ThreadPoolExecutor(max_workers=8),
    )


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
    )
    async with worker:
        await (stop or asyncio.Event()).wait()
    await store.close()


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
