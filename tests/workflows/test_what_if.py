"""Policy what-if on real evidence and real promotion records, with flips known by construction.

Strategies A and C have a weak edge, B a strong one, D none; E (weak) and F (strong) were
promoted to SHADOW through the workflow. A candidate raising `ic_mean_min` between the weak and
the strong measured ICs must flip exactly A and C (ELIGIBLE -> INELIGIBLE) and say that exactly
E's past promotion would not have passed, on `ic_mean` alone.
"""

from __future__ import annotations

import json

import yaml

from activities.evidence_evaluator import EvidenceEvaluator
from app.ports import Ports
from app.what_if import policy_what_if
from governance.identity import Principal, TokenKind
from governance.policy import PromotionPolicy
from governance.promotion import Phase
from governance.report import Verdict
from governance.roles import Role
from governance.stages import LifecycleStage as S
from governance.what_if import WhatIf
from tests.cli.support import sg
from tests.workflows.evidence_fixtures import seed_evidence
from tests.workflows.harness import Stack, fast_policy

EDGES = {"A": 0.2, "B": 0.9, "C": 0.25, "D": 0.0, "E": 0.2, "F": 0.9}


async def what_if(stack: Stack, candidate: dict[str, object]) -> WhatIf:
    ports = Ports(
        store=stack.store,
        client=None,
        task_queue=stack.task_queue,
        evaluations=EvidenceEvaluator(stack.tmp / "evidence"),
    )
    who = Principal(tenant_id=stack.tenant, subject="compliance", kind=TokenKind.PERSONAL)
    return await policy_what_if(ports, who, tenant_id=stack.tenant, candidate=candidate)


async def test_a_candidate_flips_exactly_what_it_should(stack_factory: Stack) -> None:
    stack = stack_factory
    current = fast_policy()
    await stack.seed(current, dict.fromkeys(EDGES, S.OBSERVE))
    evaluator = seed_evidence(stack.tmp / "evidence", stack.tenant, EDGES)
    async with stack.worker(evaluator):
        for promoted in ("E", "F"):
            await stack.request(promoted, S.SHADOW)
            await stack.wait_phase(promoted, Phase.AWAITING_APPROVALS)
            await stack.approve(promoted, "alice", Role.STRATEGY_REVIEWER)
            assert (await stack.outcome(promoted)).phase == Phase.COMMITTED
    records = {r.strategy_id: r for r in await stack.store.list_records(stack.tenant)}
    assert set(records) == {"E", "F"}

    # The current policy as the candidate: nothing flips, every past promotion passes.
    data = current.model_dump(mode="json")
    same = await what_if(stack, data)
    assert same.flipped == [] and same.would_fail == []
    verdicts = {s.strategy_id: s.current_verdict for s in same.strategies}
    assert verdicts == {
        "A": Verdict.ELIGIBLE,
        "B": Verdict.ELIGIBLE,
        "C": Verdict.ELIGIBLE,
        "D": Verdict.INELIGIBLE,
        "E": Verdict.WAITING,  # just promoted: no SHADOW evidence since
        "F": Verdict.WAITING,
    }
    assert [r.record_id for r in same.records] == [records["E"].record_id, records["F"].record_id]

    # A threshold between the weak and the strong ICs, as measured on the same evidence.
    measured = _ics(stack, evaluator, current)
    recorded = {s: records[s].metrics_snapshot.metrics["ic_mean"] for s in ("E", "F")}
    weak = max(measured["A"], measured["C"], recorded["E"])
    strong = min(measured["B"], recorded["F"])
    assert weak < strong
    data["policy_version"] = "test.v2"
    data["signal_quality_thresholds"]["observe_to_shadow"]["ic_mean_min"] = (weak + strong) / 2
    before = await _everything(stack)
    result = await what_if(stack, data)
    assert await _everything(stack) == before  # read-only

    assert sorted(s.strategy_id for s in result.flipped) == ["A", "C"]
    for s in result.flipped:
        assert (s.current_verdict, s.candidate_verdict) == (Verdict.ELIGIBLE, Verdict.INELIGIBLE)
        assert [(c.name, c.before_status, c.candidate_status) for c in s.changes] == [
            ("ic_mean", "pass", "fail")
        ]
    (failed,) = result.would_fail
    assert failed.record_id == records["E"].record_id
    assert failed.recorded_verdict == Verdict.ELIGIBLE
    assert failed.candidate_verdict == Verdict.INELIGIBLE
    assert [(c.name, c.value, c.before_status) for c in failed.failing] == [
        ("ic_mean", recorded["E"], "pass")
    ]

    # The same through the CLI, a fresh process on the stored data.
    env = {
        "STRATGATE_DB": str(stack.tmp / "governance.db"),
        "STRATGATE_EVIDENCE_DIR": str(stack.tmp / "evidence"),
    }
    home = stack.tmp / "home"
    candidate = stack.tmp / "candidate.yaml"
    candidate.write_text(yaml.safe_dump(data))
    shown = sg(home, "policy", "what-if", "--tenant", stack.tenant, str(candidate), "--json", **env)
    assert shown.returncode == 0, shown.stderr
    body = json.loads(shown.stdout)
    assert sorted(s["strategy_id"] for s in body["strategies"] if s["flips"]) == ["A", "C"]
    assert [r["record_id"] for r in body["records"] if not r["would_pass"]] == [failed.record_id]
    table = sg(home, "policy", "what-if", "--tenant", stack.tenant, str(candidate), **env)
    assert table.returncode == 0, table.stderr
    assert "6 strategies evaluated, 2 change verdict" in table.stdout
    assert "2 past decisions re-evaluated, 1 would not have passed" in table.stdout

    # A candidate that fails validation is refused naming the field, and nothing is evaluated.
    data["signal_quality_thresholds"]["observe_to_shadow"]["ic_mean_min"] = 2.0
    candidate.write_text(yaml.safe_dump(data))
    bad = sg(home, "policy", "what-if", "--tenant", stack.tenant, str(candidate), **env)
    assert bad.returncode == 2, (bad.stdout, bad.stderr)
    assert "signal_quality_thresholds.observe_to_shadow.ic_mean_min" in bad.stderr


def _ics(stack: Stack, evaluator: EvidenceEvaluator, policy: PromotionPolicy) -> dict[str, float]:
    from datetime import UTC, datetime, timedelta

    from activities.contracts import EvaluateInput

    out = {}
    for s in ("A", "B", "C"):
        report = evaluator(
            EvaluateInput(
                tenant_id=stack.tenant,
                uid="quant",
                strategy_id=s,
                target_stage=S.SHADOW,
                stage_entered_at=datetime.now(UTC) - timedelta(days=60),
                policy=policy,
                now=datetime.now(UTC),
            ),
            [],
        )
        criterion = report.criterion("ic_mean")
        assert criterion is not None and criterion.value is not None
        out[s] = criterion.value
    return out


async def _everything(stack: Stack) -> tuple[object, ...]:
    t = stack.tenant
    return (
        [r.record_hash for r in await stack.store.list_records(t)],
        len(await stack.store.list_audit_events(t)),
        [p.policy_version for p in await stack.store.list_policy_versions(t)],
        [d.model_dump_json() for d in await stack.store.list_strategies(t, None)],
    )
