"""The policy's designated-person requirement and limit envelopes; the envelope in force."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from governance.approvals import check_approval, is_complete, missing_roles
from governance.envelope import envelope_in_force
from governance.errors import ApprovalRefused
from governance.policy import PolicyInvalid, default_policy, parse_policy
from governance.records import Approval, PromotionRecord, StrategyDoc
from governance.roles import Role as R
from governance.stage_change import record_hash
from governance.stages import Decision
from governance.stages import LifecycleStage as S

NOW = datetime(2026, 11, 25, 15, tzinfo=UTC)


def policy(**changes: Any) -> dict[str, Any]:
    data = default_policy("v1").model_dump(mode="json")
    for path, value in changes.items():
        node = data
        *parents, leaf = path.split("__")
        for key in parents:
            node = node[key]
        node[leaf] = value
    return data


def test_the_designation_is_required_for_live_in_production_tenants_only() -> None:
    prod = default_policy()
    assert prod.approvals_for("paper_to_live").designated_person_required is True
    assert prod.approvals_for("shadow_to_paper").designated_person_required is False
    test = parse_policy(policy(production=False))
    assert test.approvals_for("paper_to_live").designated_person_required is False
    # Explicit either way, whatever the tenant.
    on = parse_policy(
        policy(production=False, approval_matrix__shadow_to_paper__designated_person_required=True)
    )
    assert on.approvals_for("shadow_to_paper").designated_person_required is True
    off = parse_policy(policy(approval_matrix__paper_to_live__designated_person_required=False))
    assert off.approvals_for("paper_to_live").designated_person_required is False


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        (
            {"approval_matrix__paper_to_live__roles": ["risk_approver", "designated_person"]},
            "approval_matrix.paper_to_live",
            "not an approval slot",
        ),
        (
            {"approval_matrix__observe_to_shadow__designated_person_required": True},
            "approval_matrix.observe_to_shadow",
            "auto-approved",
        ),
        ({"limit_envelopes__live__max_order_value": 0}, "limit_envelopes.live.max_order_value", ""),
        (
            {"limit_envelopes__paper__max_orders_per_day": -1},
            "limit_envelopes.paper.max_orders_per_day",
            "",
        ),
        ({"limit_envelopes__live__instruments": []}, "limit_envelopes.live.instruments", ""),
        (
            {"limit_envelopes__live__instruments": ["AAPL", "*"]},
            "limit_envelopes.live",
            "stands alone",
        ),
        (
            {"limit_envelopes__live__instruments": ["bad symbol"]},
            "limit_envelopes.live.instruments.0",
            "",
        ),
        (
            {"limit_envelopes__live__max_gross_position_value": 10.0},
            "limit_envelopes.live",
            "max_gross_position_value cannot be below max_position_value",
        ),
        (
            {"limit_envelopes__live__max_order_value": 1e6},
            "limit_envelopes",
            "live.max_order_value (1000000.0) exceeds paper.max_order_value",
        ),
        (
            {
                "limit_envelopes__paper__instruments": ["AAPL"],
                "limit_envelopes__live__instruments": ["AAPL", "TSLA"],
            },
            "limit_envelopes",
            "live.instruments: TSLA",
        ),
        ({"limit_envelopes__live__max_orders": 3}, "limit_envelopes.live.max_orders", ""),
    ],
)
def test_an_impossible_envelope_or_designation_is_refused_naming_the_field(
    changes: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(PolicyInvalid) as refused:
        parse_policy(policy(**changes))
    assert refused.value.field == field
    assert words in refused.value.message


def test_the_last_slot_goes_to_a_designated_person() -> None:
    live = default_policy().approvals_for("paper_to_live")
    first = [
        Approval(role=R.RISK_APPROVER, approved_by="bob", approved_at=NOW),
        Approval(role=R.OPS_APPROVER, approved_by="carol", approved_at=NOW),
        Approval(role=R.FINAL_AUTHORIZER, approved_by="dave", approved_at=NOW),
    ]

    def approve(who: str, roles: list[R]) -> R:
        return check_approval(
            requirement=live,
            approvals=first,
            requested_by="quant",
            approver=who,
            role=R.FINAL_AUTHORIZER,
            directory_roles=roles,
        )

    with pytest.raises(ApprovalRefused, match="missing: designated person"):
        approve("frank", [R.FINAL_AUTHORIZER])
    assert approve("erin", [R.FINAL_AUTHORIZER, R.DESIGNATED_PERSON]) == R.FINAL_AUTHORIZER
    undesignated = [*first, Approval(role=R.FINAL_AUTHORIZER, approved_by="f", approved_at=NOW)]
    assert missing_roles(live, undesignated) == [R.DESIGNATED_PERSON]
    assert not is_complete(live, undesignated)
    # Anyone earlier in the chain may be the designated person instead.
    early = [first[0].model_copy(update={"designated_person": True}), *first[1:]]
    with_early = [*early, undesignated[-1]]
    assert is_complete(live, with_early)


def record(seq: int, to: S, decision: Decision, envelope: Any = None) -> PromotionRecord:
    return PromotionRecord(
        record_id=f"r{seq}",
        tenant_id="t",
        uid="u",
        strategy_id="s",
        sequence=seq,
        from_stage=S.OBSERVE,
        to_stage=to,
        decision=decision,
        requested_by="quant",
        requested_at=NOW,
        effective_at=NOW,
        reason_code="x",
        record_hash="",
        limit_envelope=envelope,
    )


def test_a_record_without_an_envelope_hashes_as_before() -> None:
    plain = record(1, S.SHADOW, Decision.PROMOTE)
    assert "limit_envelope" not in plain.model_dump(mode="json")
    # The hash main computed for this record before the field existed.
    assert record_hash(plain) == "3e6b9a89991725d283b831c6634ae3fcfbe6513c63c6fadf4f551dc61e69c158"
    paper = record(1, S.PAPER, Decision.PROMOTE, default_policy().limit_envelopes.paper)
    assert record_hash(paper) != record_hash(plain.model_copy(update={"to_stage": S.PAPER}))


def test_the_envelope_in_force_is_the_latest_on_record_for_the_current_stage() -> None:
    limits = default_policy().limit_envelopes
    tighter = limits.live.model_copy(update={"max_orders_per_day": 5})
    chain = [
        record(1, S.PAPER, Decision.PROMOTE, limits.paper),
        record(2, S.LIVE, Decision.PROMOTE, limits.live),
        record(3, S.LIVE, Decision.FREEZE),
        record(4, S.LIVE, Decision.PROMOTE, tighter),  # a renewal under a newer policy
    ]
    live = StrategyDoc(tenant_id="t", uid="u", strategy_id="s", lifecycle_stage=S.LIVE)
    assert envelope_in_force(live, chain) == tighter
    assert envelope_in_force(live, chain[:3]) == limits.live
    # Demoted back to PAPER: the envelope PAPER was approved with.
    paper = live.model_copy(update={"lifecycle_stage": S.PAPER, "execution_mode": "PAPER"})
    demoted = [*chain, record(5, S.PAPER, Decision.DEMOTE)]
    assert envelope_in_force(paper, demoted) == limits.paper
    # A breaker holding it in SHADOW, a stage that places no orders, or no record: none.
    held = live.model_copy(update={"execution_mode": "SHADOW_MODE"})
    assert envelope_in_force(held, chain) is None
    assert envelope_in_force(live, []) is None
    assert envelope_in_force(None, chain) is None
