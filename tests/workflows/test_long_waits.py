"""Waits measured in days (approval TTL, request deadline), on the same server binary with
per-workflow time skipping (experimental; the main flows also run in real time elsewhere)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from governance.policy import PromotionPolicy
from governance.promotion import Phase
from governance.risk_events import RiskEventKind as K
from governance.roles import Role
from governance.stages import Decision
from governance.stages import LifecycleStage as S
from store.sqlite import SqliteStore
from tests.support.temporal_fixtures import TEMPORAL
from tests.workflows.harness import Stack, fast_policy
from tests.workflows.test_demotion import no_evidence_needed
from workflows import client as wf
from workflows import search_attributes as sa


@pytest.fixture(scope="session")
async def skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping_v2(
        dev_server_existing_path=str(TEMPORAL),
        dev_server_extra_args=[
            "--dynamic-config-value",
            "frontend.WorkflowTimeSkippingEnabled=true",
        ],
        data_converter=pydantic_data_converter,
        search_attributes=sa.ALL,
        dev_server_log_level="error",
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture
async def stack(
    skipping_env: WorkflowEnvironment, tenant: str, tmp_path: Path
) -> AsyncIterator[Stack]:
    store = SqliteStore(tmp_path / "governance.db")
    yield Stack(skipping_env.client, store, f"tq-{uuid.uuid4().hex[:12]}", tenant, tmp_path)
    await store.close()


def two_person_unfreeze(**overrides: Any) -> PromotionPolicy:
    return fast_policy(
        approval_matrix={"unfreeze": {"roles": ["risk_approver", "ops_approver"]}},
        approval_ttl_seconds=3 * 86_400,
        request_deadline_seconds=30 * 86_400,
        evaluation_interval_seconds=86_400,
        **overrides,
    )


async def _frozen(stack: Stack) -> None:
    await stack.seed(two_person_unfreeze(), {"momo": S.PAPER})
    await stack.risk("momo", K.CIRCUIT_BREAKER_CRITICAL)
    await stack.wait_records("momo", 1)


async def test_approval_expires_after_ttl_then_request_expires_at_deadline(
    stack: Stack, skipping_env: WorkflowEnvironment
) -> None:
    async with stack.worker(no_evidence_needed):
        with skipping_env.with_time_skipping_disabled():
            await _frozen(stack)
            await stack.request("momo", S.SHADOW, decision=Decision.UNFREEZE)
            await stack.wait_phase("momo", Phase.AWAITING_APPROVALS)
            status = await stack.approve("momo", "bob", Role.RISK_APPROVER)
            assert [a.approved_by for a in status.approvals] == ["bob"]
        handle = wf.promotion_handle(stack.client, stack.tenant, "quant", "momo")
        await skipping_env.fast_forward(handle, timedelta(days=3, hours=1))
        status = await stack.status("momo")
        assert status.approvals == [] and status.missing_roles == ["risk_approver", "ops_approver"]
        assert "expired after the policy's TTL: bob (risk_approver)" in (status.status_reason or "")
        await skipping_env.fast_forward(handle)
        outcome = await stack.outcome("momo")
    assert outcome.phase == Phase.EXPIRED
    assert await stack.store.list_records(stack.tenant, "quant", "momo") != []
    doc = await stack.store.get_strategy(stack.tenant, "quant", "momo")
    assert doc is not None and doc.freeze  # nothing but the demotion was written
    (request,) = await stack.store.list_requests(stack.tenant, "quant", "momo")
    assert request.status == "expired" and request.approvals == []
