"""Governed policy changes, pure: the diff, which changes weaken LIVE, the refusals, the policy
hash chain and its tamper detection, and records citing a policy by hash."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from governance.errors import GovernanceError
from governance.policy import PromotionPolicy, default_policy
from governance.policy_chain import chain_version, computed_policy_hash, verify_policy_chain
from governance.policy_change import (
    PolicyProposal,
    ProposalAction,
    ProposalDecision,
    ProposalStatus,
    new_proposal,
    plan_decision,
)
from governance.records import PromotionRecord
from governance.roles import Role
from governance.stage_change import record_hash
from governance.stages import Decision
from governance.stages import LifecycleStage as S

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


def edited(version: str, **paths: Any) -> PromotionPolicy:
    """The spec defaults with `a__b__c=value` set at a.b.c."""
    data = default_policy(version).model_dump(mode="json")
    for path, value in paths.items():
        node = data
        *head, last = path.split("__")
        for key in head:
            node = node[key]
        node[last] = value
    return PromotionPolicy.model_validate(data)


def proposal(policy: PromotionPolicy, current: PromotionPolicy | None) -> PolicyProposal:
    made, _ = new_proposal(
        proposal_id="p1",
        tenant_id="t",
        policy=policy,
        reason="a reason",
        by="quant",
        at=NOW,
        current=current,
        published_versions={current.policy_version} if current else set(),
        event_id="e1",
    )
    return made


V1 = chain_version(default_policy("v1"), None)

WEAKENINGS: dict[str, dict[str, Any]] = {
    "fewer final authorizers": {
        "approval_matrix__paper_to_live__roles": [
            "risk_approver",
            "ops_approver",
            "final_authorizer",
        ]
    },
    "no LIVE approver but one": {"approval_matrix__paper_to_live__roles": ["ops_approver"]},
    "order relaxed": {"approval_matrix__paper_to_live__ordered": False},
    "longer enablement": {"live_controls__enablement_seconds": 2 * 86_400},
    "longer token TTL": {"live_controls__confirmation_token_ttl_seconds": 600},
    "fewer LIVE sessions": {"stability_windows__paper_to_live__min_sessions": 10},
    "looser LIVE drawdown": {"signal_quality_thresholds__paper_to_live__max_drawdown_max": 0.05},
    "lower LIVE return floor": {
        "signal_quality_thresholds__paper_to_live__window_return_min": -0.01
    },
    "LIVE waiver": {
        "waived": [
            {"transition": "paper_to_live", "criterion": "slippage_bias_bps", "reason": "rare"}
        ]
    },
    "looser loss breaker": {"risk_thresholds__daily_loss_limit": 0.05},
    "breaker not critical": {"risk_thresholds__drawdown_breaker_critical": False},
}
NOT_WEAKENING: dict[str, dict[str, Any]] = {
    "more LIVE sessions": {"stability_windows__paper_to_live__min_sessions": 30},
    "shorter enablement": {"live_controls__enablement_seconds": 3_600},
    "tighter loss breaker": {"risk_thresholds__daily_loss_limit": 0.01},
    "looser SHADOW window": {"stability_windows__observe_to_shadow__min_sessions": 2},
    "fewer SHADOW -> PAPER approvers": {
        "approval_matrix__shadow_to_paper__roles": ["risk_approver"]
    },
    "an extra LIVE approver": {
        "approval_matrix__paper_to_live__roles": [
            "risk_approver",
            "ops_approver",
            "final_authorizer",
            "final_authorizer",
            "strategy_reviewer",
        ]
    },
}


@pytest.mark.parametrize("name", sorted(WEAKENINGS))
def test_a_live_weakening_needs_two_approvers(name: str) -> None:
    p = proposal(edited("v2", **WEAKENINGS[name]), V1)
    assert p.diff.live_weakenings, name
    assert p.required_approvals == 2


@pytest.mark.parametrize("name", sorted(NOT_WEAKENING))
def test_other_changes_need_one(name: str) -> None:
    p = proposal(edited("v2", **NOT_WEAKENING[name]), V1)
    assert p.diff.changes and not p.diff.live_weakenings, p.diff.lines()
    assert p.required_approvals == 1


def test_a_first_policy_is_compared_with_the_spec_defaults() -> None:
    dropping = edited("v1", approval_matrix__paper_to_live__roles=["ops_approver"])
    p = proposal(dropping, None)
    assert p.base_policy_version is None and p.base_policy_hash is None
    assert p.required_approvals == 2


def test_the_diff_names_each_field_old_and_new() -> None:
    p = proposal(
        edited(
            "v2",
            live_controls__enablement_seconds=172_800,
            risk_thresholds__concentration_limit=0.1,
            approval_matrix__paper_to_live__roles=["risk_approver", "ops_approver"],
        ),
        V1,
    )
    assert p.diff.from_version == "v1" and p.diff.to_version == "v2"
    assert p.diff.lines() == [
        '~ approval_matrix.paper_to_live.roles: ["risk_approver", "ops_approver", '
        '"final_authorizer", "final_authorizer"] -> ["risk_approver", "ops_approver"]'
        "   [weakens LIVE: fewer PAPER -> LIVE approvers (2x final_authorizer no longer "
        "required)]",
        "~ live_controls.enablement_seconds: 86400 -> 172800"
        "   [weakens LIVE: longer LIVE enablement before renewal]",
        "~ risk_thresholds.concentration_limit: 0.2 -> 0.1",
    ]
    waiver = [{"transition": "paper_to_live", "criterion": "slippage_bias_bps", "reason": "rare"}]
    added = proposal(edited("v2", waived=waiver), V1)
    assert [(c.path, c.kind.value, c.new) for c in added.diff.changes] == [
        ("waived.paper_to_live.slippage_bias_bps", "added", "rare")
    ]


def test_a_proposal_that_changes_nothing_or_reuses_a_version_is_refused() -> None:
    with pytest.raises(GovernanceError) as same:
        proposal(default_policy("v2"), V1)
    assert same.value.code == "invalid_policy"
    with pytest.raises(GovernanceError) as reused:
        proposal(edited("v1", calendar="XLON"), V1)
    assert reused.value.code == "policy_version_exists"


def decide(
    p: PolicyProposal,
    by: str,
    roles: list[Role] | None = None,
    action: ProposalAction = ProposalAction.APPROVE,
    current: PromotionPolicy | None = V1,
) -> Any:
    return plan_decision(
        ProposalDecision(
            tenant_id="t",
            proposal_id=p.proposal_id,
            action=action,
            by=by,
            roles=[Role.POLICY_APPROVER] if roles is None else roles,
            at=NOW,
            event_ids=["a1", "a2"],
        ),
        proposal=p,
        current=current,
        last_version=current,
        published_versions={"v1"},
    )


def refusal(p: PolicyProposal, by: str, **kw: Any) -> str:
    with pytest.raises(GovernanceError) as refused:
        decide(p, by, **kw)
    return refused.value.code


def test_refusals() -> None:
    weak = proposal(edited("v2", live_controls__enablement_seconds=172_800), V1)
    assert refusal(weak, "quant") == "policy_self_approval"
    assert refusal(weak, "bob", roles=[Role.RISK_APPROVER, Role.ADMIN]) == "policy_role_required"
    one = decide(weak, "frank")
    assert one.publish is None and one.proposal.status == ProposalStatus.PENDING
    assert [e.event_type for e in one.audit_events] == ["policy.approved"]
    assert refusal(one.proposal, "frank") == "policy_duplicate_approval"
    two = decide(one.proposal, "grace")
    assert two.publish is not None and two.proposal.status == ProposalStatus.PUBLISHED
    assert two.publish.prev_policy_hash == V1.policy_hash
    assert two.proposal.published_policy_hash == two.publish.policy_hash
    assert [e.event_type for e in two.audit_events] == ["policy.approved", "policy.published"]
    assert refusal(two.proposal, "erin") == "policy_proposal_closed"
    moved = chain_version(edited("v9", calendar="XLON"), V1)
    assert refusal(weak, "frank", current=moved) == "policy_proposal_stale"
    assert refusal(weak, "frank", action=ProposalAction.WITHDRAW) == "forbidden"


def test_a_non_weakening_change_publishes_after_one() -> None:
    plan = decide(proposal(edited("v2", risk_thresholds__daily_loss_limit=0.01), V1), "frank")
    assert plan.publish is not None and plan.publish.policy_version == "v2"
    assert plan.publish.updated_by == "quant" and plan.publish.proposal_id == "p1"


def chain(n: int) -> list[PromotionPolicy]:
    versions: list[PromotionPolicy] = []
    for i in range(1, n + 1):
        policy = edited(f"v{i}", evaluation_interval_seconds=60 * i)
        versions.append(chain_version(policy, versions[-1] if versions else None))
    return versions


def test_the_policy_chain_verifies_and_names_each_kind_of_tampering() -> None:
    good = chain(4)
    assert verify_policy_chain(good, good[-1]).ok
    assert verify_policy_chain([], None).ok
    edit = [*good]
    edit[1] = edit[1].model_copy(update={"calendar": "XLON"})
    removed = [good[0], good[2], good[3]]
    extra = chain_version(edited("evil", calendar="XLON"), good[1])
    inserted = [good[0], good[1], extra, good[2], good[3]]
    reordered = [good[0], good[2], good[1], good[3]]
    rehashed = [*good]
    rehashed[1] = chain_version(good[1].model_copy(update={"calendar": "XLON"}), good[0])
    unhashed = [*good]
    unhashed[2] = good[2].model_copy(update={"policy_hash": None})
    cases = {
        "edited": (edit, good[-1], "v2"),
        "removed": (removed, good[-1], "v3"),
        "inserted": (inserted, good[-1], "v3"),
        "reordered": (reordered, good[-1], "v3"),
        "rehashed": (rehashed, good[-1], "v3"),
        "hash dropped": (unhashed, good[-1], "v3"),
        "current edited": (good, good[-1].model_copy(update={"calendar": "XLON"}), "v4"),
        "current removed": (good, None, "v4"),
    }
    for name, (versions, current, broken) in cases.items():
        result = verify_policy_chain(versions, current)
        assert not result.ok, name
        assert result.first_broken_version == broken, (name, result)


def test_versions_before_the_chain_are_linked_from_the_first_chained_one() -> None:
    legacy = [default_policy("old1"), edited("old2", calendar="XLON")]
    chained = chain_version(default_policy("new"), legacy[-1])
    assert chained.prev_policy_hash == computed_policy_hash(legacy[-1])
    result = verify_policy_chain([*legacy, chained], chained)
    assert result.ok and result.unchained == 2
    tampered = [legacy[0], legacy[1].model_copy(update={"calendar": "XTKS"}), chained]
    assert verify_policy_chain(tampered, chained).first_broken_version == "new"


def record(**kw: Any) -> PromotionRecord:
    return PromotionRecord(
        record_id="r1",
        tenant_id="t",
        uid="u",
        strategy_id="s",
        sequence=1,
        from_stage=S.PAPER,
        to_stage=S.LIVE,
        decision=Decision.PROMOTE,
        policy_version="v1",
        requested_by="quant",
        requested_at=NOW,
        effective_at=NOW,
        reason_code="promotion_ready",
        record_hash="",
        **kw,
    )


def test_records_cite_the_policy_by_hash_and_old_records_hash_as_before() -> None:
    old = record()
    assert "policy_hash" not in old.model_dump(mode="json")  # written before: hashes as then
    cited = record(policy_hash=V1.policy_hash)
    assert cited.model_dump(mode="json")["policy_hash"] == V1.policy_hash
    assert record_hash(cited) != record_hash(old)
