"""The structured log line of a stage change, read from the log output itself: the spec's
section 4A fields, with the values of the record it announces."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator

import pytest

from governance.promotion import Phase
from governance.risk_events import RiskEventKind as K
from governance.roles import Role
from governance.stages import LifecycleStage as S
from logging_setup import configure
from tests.workflows.evidence_fixtures import seed_evidence
from tests.workflows.harness import Stack, fast_policy

SECTION_4A = (
    "event_type",
    "tenant_id",
    "uid",
    "strategy_id",
    "from_stage",
    "to_stage",
    "decision",
    "policy_version",
    "promotion_record_id",
    "correlation_id",
    "trace_id",
    "git_sha",
)


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure(stream=stream)
    try:
        yield stream
    finally:
        configure(stream=sys.stderr)


def stage_changes(stream: io.StringIO, tenant: str) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    return [e for e in lines if e.get("event") == "stage_change" and e.get("tenant_id") == tenant]


async def test_each_stage_change_logs_the_spec_fields(
    stack_factory: Stack, log_output: io.StringIO
) -> None:
    stack = stack_factory
    await stack.seed(fast_policy(), {"edge": S.SHADOW})
    evaluator = seed_evidence(stack.tmp / "evidence", stack.tenant, {"edge": 0.6})
    async with stack.worker(evaluator):
        await stack.request("edge", S.PAPER)
        await stack.wait_phase("edge", Phase.AWAITING_APPROVALS)
        await stack.approve("edge", "bob", Role.RISK_APPROVER)
        await stack.approve("edge", "carol", Role.OPS_APPROVER)
        assert (await stack.outcome("edge")).phase == Phase.COMMITTED
        event = await stack.risk("edge", K.DRAWDOWN_BREAKER)
        await stack.applied("edge", event)
    records = await stack.store.list_records(stack.tenant, "quant", "edge")
    logged = stage_changes(log_output, stack.tenant)
    assert len(records) == 2 and len(logged) == 2, logged
    for record, line in zip(records, logged, strict=True):
        missing = [f for f in SECTION_4A if line.get(f) in (None, "")]
        assert not missing, (missing, line)
        assert line["promotion_record_id"] == record.record_id
        assert (line["from_stage"], line["to_stage"]) == (record.from_stage, record.to_stage)
        assert line["decision"] == record.decision
        assert line["policy_version"] == record.policy_version == "test.v1"
        assert line["git_sha"] == record.runtime_fingerprint.git_sha
        assert line["level"] == "info" and "timestamp" in line
    assert [line["event_type"] for line in logged] == [
        "strategy.promoted",
        "strategy.demoted",
    ], logged
