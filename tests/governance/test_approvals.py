"""Approval rules: which role a transition needs, separation of duties, order, expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from governance.approvals import (
    check_approval,
    check_rejection,
    is_complete,
    missing_roles,
    split_expired,
)
from governance.errors import ApprovalRefused, InvalidTransition
from governance.policy import ApprovalRequirement, default_policy
from governance.promotion import PromotionInput, is_live_renewal, transition_of, validate_request
from governance.records import Approval, StrategyDoc
from governance.roles import Role as R
from governance.stages import LifecycleStage, Transition

NOW = datetime(2026, 11, 25, 15, tzinfo=UTC)
SHADOW = default_policy().approvals_for("observe_to_shadow")
PAPER = default_policy().approvals_for("shadow_to_paper")
LIVE = default_policy().approvals_for("paper_to_live")
DIRECTORY: dict[str, list[R]] = {
    "rita": [R.STRATEGY_REVIEWER],
    "bob": [R.RISK_APPROVER],
    "carol": [R.OPS_APPROVER],
    "dave": [R.FINAL_AUTHORIZER],
    "erin": [R.FINAL_AUTHORIZER, R.DESIGNATED_PERSON],
    "zed": [R.RISK_APPROVER, R.OPS_APPROVER],
    "quant": [R.RISK_APPROVER, R.STRATEGY_REVIEWER],  # also the requester below
}


def signed(*pairs: tuple[str, R]) -> list[Approval]:
    """Approvals as the workflow records them: the designation from the directory."""
    return [
        Approval(
            role=r,
            approved_by=u,
            approved_at=NOW,
            designated_person=True if R.DESIGNATED_PERSON in DIRECTORY.get(u, []) else None,
        )
        for u, r in pairs
    ]


def approve(req: ApprovalRequirement, approvals: list[Approval], who: str, role: R | str) -> R:
    return check_approval(
        requirement=req,
        approvals=approvals,
        requested_by="quant",
        approver=who,
        role=role,
        directory_roles=DIRECTORY.get(who),
    )


@pytest.mark.parametrize(
    ("req", "approvals", "who", "role", "field", "words"),
    [
        # a role this transition does not need
        (PAPER, [], "rita", R.STRATEGY_REVIEWER, "role", "does not need"),
        (SHADOW, [], "bob", R.RISK_APPROVER, "role", "does not need"),
        # a role the person does not hold
        (PAPER, [], "bob", R.OPS_APPROVER, "role", "does not hold"),
        # a person not in the directory
        (PAPER, [], "mallory", R.RISK_APPROVER, "approved_by", "not in the tenant"),
        # the requester approving their own request
        (PAPER, [], "quant", R.RISK_APPROVER, "approved_by", "requested this promotion"),
        (SHADOW, [], "quant", R.STRATEGY_REVIEWER, "approved_by", "requested this promotion"),
        # a role already filled
        (PAPER, [("bob", R.RISK_APPROVER)], "zed", R.RISK_APPROVER, "role", "already filled"),
        # one person, two roles
        (PAPER, [("zed", R.RISK_APPROVER)], "zed", R.OPS_APPROVER, "approved_by", "one role"),
        # PAPER -> LIVE goes in order: risk, ops, then the final authorizers
        (LIVE, [], "carol", R.OPS_APPROVER, "role", "in order"),
        (LIVE, [], "dave", R.FINAL_AUTHORIZER, "role", "in order"),
        (LIVE, [("bob", R.RISK_APPROVER)], "dave", R.FINAL_AUTHORIZER, "role", "in order"),
        # an unknown role name
        (PAPER, [], "bob", "boss", "role", "unknown role"),
    ],
)
def test_refusals_name_the_field_and_why(
    req: ApprovalRequirement,
    approvals: list[tuple[str, R]],
    who: str,
    role: R | str,
    field: str,
    words: str,
) -> None:
    with pytest.raises(ApprovalRefused) as refused:
        approve(req, signed(*approvals), who, role)
    assert refused.value.field == field and words in refused.value.message, refused.value.message


def test_shadow_to_paper_needs_risk_and_ops_in_any_order() -> None:
    risk, ops = ("bob", R.RISK_APPROVER), ("carol", R.OPS_APPROVER)
    for first, second in [(risk, ops), (ops, risk)]:
        assert approve(PAPER, [], *first) == first[1]
        assert approve(PAPER, signed(first), *second) == second[1]
        assert not is_complete(PAPER, signed(first))
    assert is_complete(PAPER, signed(("carol", R.OPS_APPROVER), ("bob", R.RISK_APPROVER)))


def test_paper_to_live_in_order_with_two_distinct_final_authorizers() -> None:
    steps = [("bob", R.RISK_APPROVER), ("carol", R.OPS_APPROVER), ("dave", R.FINAL_AUTHORIZER)]
    done: list[tuple[str, R]] = []
    for who, role in steps:
        assert approve(LIVE, signed(*done), who, role) == role
        done.append((who, role))
    assert missing_roles(LIVE, signed(*done)) == [R.FINAL_AUTHORIZER, R.DESIGNATED_PERSON]
    with pytest.raises(ApprovalRefused) as twice:
        approve(LIVE, signed(*done), "dave", R.FINAL_AUTHORIZER)
    assert twice.value.field == "approved_by"  # the two-person rule: not the same person
    assert approve(LIVE, signed(*done), "erin", R.FINAL_AUTHORIZER) == R.FINAL_AUTHORIZER
    assert is_complete(LIVE, signed(*done, ("erin", R.FINAL_AUTHORIZER)))
    with pytest.raises(ApprovalRefused, match="already filled"):  # a third one is not needed
        approve(
            LIVE,
            signed(*done[:2], ("erin", R.FINAL_AUTHORIZER), ("x", R.FINAL_AUTHORIZER)),
            "dave",
            R.FINAL_AUTHORIZER,
        )


@given(st.permutations([R.RISK_APPROVER, R.OPS_APPROVER, R.FINAL_AUTHORIZER, R.FINAL_AUTHORIZER]))
def test_live_accepts_only_the_policy_order(order: list[R]) -> None:
    people = iter(["p1", "p2", "p3", "p4"])
    approvals: list[Approval] = []
    for role in order:
        who = next(people)
        try:
            check_approval(
                requirement=LIVE,
                approvals=approvals,
                requested_by="quant",
                approver=who,
                role=role,
                directory_roles=list(R),
            )
        except ApprovalRefused:
            assert order != LIVE.roles  # only an out-of-order sequence is refused
            return
        approvals.append(
            Approval(role=role, approved_by=who, approved_at=NOW, designated_person=True)
        )
    assert order == LIVE.roles and is_complete(LIVE, approvals)


def test_missing_roles_counts_a_repeated_role_twice() -> None:
    assert missing_roles(LIVE, []) == [*LIVE.roles, R.DESIGNATED_PERSON]
    two = signed(("dave", R.FINAL_AUTHORIZER), ("erin", R.FINAL_AUTHORIZER))
    assert missing_roles(LIVE, two) == [R.RISK_APPROVER, R.OPS_APPROVER]


def test_rejection_rules() -> None:
    def reject(who: str, role: R | str, roles: list[R] | None) -> R:
        return check_rejection(
            requirement=PAPER,
            requested_by="quant",
            rejector=who,
            role=role,
            directory_roles=roles,
        )

    assert reject("bob", R.RISK_APPROVER, [R.RISK_APPROVER]) == R.RISK_APPROVER
    for who, role, roles, field in [
        ("rita", R.STRATEGY_REVIEWER, [R.STRATEGY_REVIEWER], "role"),  # not needed here
        ("bob", R.OPS_APPROVER, [R.RISK_APPROVER], "role"),  # not held
        ("mallory", R.RISK_APPROVER, None, "rejected_by"),  # unknown person
        ("quant", R.RISK_APPROVER, [R.RISK_APPROVER], "rejected_by"),  # the requester
        ("bob", "boss", [R.RISK_APPROVER], "role"),
    ]:
        with pytest.raises(ApprovalRefused) as refused:
            reject(who, role, roles)
        assert refused.value.field == field


def test_approvals_expire_after_the_ttl() -> None:
    ttl = 3 * 86_400
    old = Approval(role=R.RISK_APPROVER, approved_by="bob", approved_at=NOW - timedelta(days=4))
    fresh = Approval(role=R.OPS_APPROVER, approved_by="carol", approved_at=NOW - timedelta(days=1))
    edge = Approval(role=R.OPS_APPROVER, approved_by="zed", approved_at=NOW - timedelta(days=3))
    just_in = Approval(
        role=R.OPS_APPROVER, approved_by="x", approved_at=NOW - timedelta(seconds=ttl - 1)
    )
    active, expired = split_expired([old, fresh, edge, just_in], NOW, ttl)
    assert active == [fresh, just_in] and expired == [old, edge]  # exactly the TTL is expired
    # An expired sign-off no longer fills its role.
    assert missing_roles(PAPER, active) == [R.RISK_APPROVER]


@given(
    ages=st.lists(st.integers(0, 10 * 86_400), max_size=8),
    ttl=st.integers(1, 5 * 86_400),
)
def test_split_expired_partitions_by_age(ages: list[int], ttl: int) -> None:
    approvals = [
        Approval(role=R.RISK_APPROVER, approved_by=f"p{i}", approved_at=NOW - timedelta(seconds=a))
        for i, a in enumerate(ages)
    ]
    active, expired = split_expired(approvals, NOW, ttl)
    assert len(active) + len(expired) == len(approvals)
    assert all(NOW - a.approved_at < timedelta(seconds=ttl) for a in active)
    assert all(NOW - a.approved_at >= timedelta(seconds=ttl) for a in expired)


def test_a_live_request_on_a_live_strategy_is_a_renewal_with_paper_to_live_governance() -> None:
    policy = default_policy()
    live = StrategyDoc(tenant_id="t", uid="u", strategy_id="s", lifecycle_stage=LifecycleStage.LIVE)
    request = PromotionInput(
        request_id="r1",
        tenant_id="t",
        uid="u",
        strategy_id="s",
        to_stage=LifecycleStage.LIVE,
        requested_by="quant",
        requested_at=datetime(2026, 11, 25, tzinfo=UTC),
    )
    assert is_live_renewal(request, LifecycleStage.LIVE)
    assert transition_of(request, LifecycleStage.LIVE) is None  # no window to measure
    assert validate_request(request, live, policy) == policy.approvals_for(Transition.PAPER_TO_LIVE)
    frozen = live.model_copy(update={"freeze": True, "freeze_reason": "risk"})
    with pytest.raises(InvalidTransition) as refused:
        validate_request(request, frozen, policy)
    assert refused.value.field == "freeze"
    paper_request = request.model_copy(update={"to_stage": LifecycleStage.PAPER})
    with pytest.raises(InvalidTransition):  # a LIVE strategy requests nothing lower
        validate_request(paper_request, live, policy)
