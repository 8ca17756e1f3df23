"""The tenant halt, its resume rules, its stage changes, and the policy field it added."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from governance.fleet_changes import fleet_id, freeze_marker, halt_change, unfreeze_change
from governance.fleet_halt import (
    AlreadyHalted,
    HaltPolicy,
    NotHalted,
    ResumeAsk,
    ResumeRefused,
    TenantHalt,
    TenantHalted,
    global_halt_of,
    global_status,
    halt_policy_of,
    new_halt,
    plan_resume,
    refuse_promotion,
)
from governance.policy import PolicyInvalid, default_policy, load_stored_policy, parse_policy
from governance.policy_chain import chain_version, computed_policy_hash, verify_policy_chain
from governance.records import StrategyDoc
from governance.roles import Role
from governance.stages import Decision
from governance.stages import LifecycleStage as S

NOW = datetime(2026, 12, 3, 13, tzinfo=UTC)
FIXTURE = Path(__file__).parent.parent / "fixtures" / "policy_versions_before_fleet_halt.json"
R, OPS = Role.RISK_APPROVER, Role.OPS_APPROVER


def halt(**kw: object) -> TenantHalt:
    return new_halt(
        halt_id="h1",
        tenant_id="t1",
        by="bob",
        via="api_token",
        reason="desk incident",
        at=NOW,
        policy=HaltPolicy(),
        current=kw.pop("current", None),  # type: ignore[arg-type]
    )


def test_policy_versions_stored_before_the_field_still_verify() -> None:
    stored = json.loads(FIXTURE.read_text())
    versions = [load_stored_policy(v) for v in stored["versions"]]
    current = load_stored_policy(stored["current"])
    for raw, version in zip(stored["versions"], versions, strict=True):
        assert computed_policy_hash(version) == raw["policy_hash"]
        assert version.model_dump(mode="json") == raw  # dumps exactly as it was stored
    assert verify_policy_chain(versions, current).ok
    # A new version with a halt policy chains after them and verifies too, with the field.
    with_halt = default_policy("v3").model_copy(
        update={"fleet_halt": HaltPolicy(posture=S.OBSERVE, resume_roles=[R, R])}
    )
    v3 = chain_version(with_halt, versions[-1])
    assert verify_policy_chain([*versions, v3], v3).ok
    assert v3.model_dump(mode="json")["fleet_halt"]["posture"] == "OBSERVE"
    # ... and an edit of the halt policy breaks the chain, naming the version.
    edited = v3.model_copy(update={"fleet_halt": HaltPolicy()})
    broken = verify_policy_chain([*versions, edited], edited)
    assert not broken.ok and broken.first_broken_version == "v3"


def test_halt_policy_defaults_and_refusals() -> None:
    policy = default_policy()
    assert "fleet_halt" not in policy.model_dump(mode="json")
    assert halt_policy_of(policy.fleet_halt) == HaltPolicy(
        posture=S.SHADOW, freeze=True, resume_roles=[R, OPS]
    )
    with pytest.raises(PolicyInvalid, match="fleet_halt"):
        parse_policy({"policy_version": "x", "fleet_halt": {"posture": "LIVE"}})
    with pytest.raises(PolicyInvalid, match="resume_roles"):
        parse_policy({"policy_version": "x", "fleet_halt": {"resume_roles": []}})


def test_a_second_halt_is_refused_naming_the_first() -> None:
    first = halt()
    assert first.active and first.posture == S.SHADOW and first.resume_roles == [R, OPS]
    with pytest.raises(AlreadyHalted, match="already halted by bob"):
        halt(current=first)
    lifted = first.model_copy(update={"status": "lifted"})
    assert halt(current=lifted).active  # once lifted, a new halt may start


def test_resume_needs_both_roles_by_two_people_neither_the_halter() -> None:
    h = halt()
    with pytest.raises(ResumeRefused, match="bob halted"):
        plan_resume(h, ask(user="bob", roles=[R, OPS], role=None, at=NOW))
    one = plan_resume(h, ask(user="rita", roles=[R], role=None, at=NOW))
    assert not one.lifted and one.approval.role == R
    with pytest.raises(ResumeRefused, match="already approved"):
        plan_resume(one.halt, ask(user="rita", roles=[R, OPS], role=OPS, at=NOW))
    with pytest.raises(ResumeRefused, match="none of the roles"):
        plan_resume(one.halt, ask(user="ray", roles=[R], role=None, at=NOW))
    with pytest.raises(ResumeRefused, match="unfreeze"):
        plan_resume(one.halt, ask(user="olga", roles=[OPS], role=None, at=NOW, unfreeze=True))
    two = plan_resume(one.halt, ask(user="olga", roles=[OPS], role=None, at=NOW + timedelta(1)))
    assert two.lifted and two.halt.resumed_by == "olga"
    assert [a.user for a in two.halt.approvals] == ["rita", "olga"]
    with pytest.raises(NotHalted):
        plan_resume(two.halt, ask(user="x", roles=[R], role=None, at=NOW))
    with pytest.raises(NotHalted):
        plan_resume(None, ask(user="x", roles=[R], role=None, at=NOW))


def test_a_role_named_twice_needs_two_people() -> None:
    h = new_halt(
        halt_id="h",
        tenant_id="t1",
        by="bob",
        via="api_token",
        reason="drill",
        at=NOW,
        policy=HaltPolicy(resume_roles=[R, R]),
        current=None,
    )
    one = plan_resume(h, ask(user="rita", roles=[R], role=R, at=NOW))
    assert not one.lifted
    assert plan_resume(one.halt, ask(user="ray", roles=[R], role=R, at=NOW)).lifted


def test_promotions_are_refused_while_either_halt_is_active() -> None:
    refuse_promotion(None, None)
    refuse_promotion(halt().model_copy(update={"status": "lifted"}), global_halt_of({}))
    with pytest.raises(TenantHalted, match="halted by bob"):
        refuse_promotion(halt(), None)
    engaged = global_halt_of(global_status({}, engaged=True, by="ops", reason="exch", at=NOW))
    with pytest.raises(TenantHalted, match="platform is halted"):
        refuse_promotion(None, engaged)
    assert global_halt_of({"execution_halted": "yes"}) is None  # unknown: fails closed


def ask(**kw: Any) -> ResumeAsk:
    return ResumeAsk(tenant_id="t1", **kw)


def doc(stage: S, **kw: object) -> StrategyDoc:
    return StrategyDoc(tenant_id="t1", uid="u", strategy_id="s", lifecycle_stage=stage, **kw)


def test_halt_changes_demote_above_the_posture_and_freeze_the_rest() -> None:
    h = halt()
    kw: dict[str, Any] = {"policy_version": "v1", "policy_hash": None, "effective_at": NOW}
    live = halt_change(doc(S.LIVE), h, **kw)
    assert live is not None and live.decision == Decision.DEMOTE and live.to_stage == S.SHADOW
    assert live.set_freeze and live.freeze_reason == freeze_marker("h1")
    assert live.record_id == fleet_id("h1", "halt", "u", "s")  # the same on every retry
    shadow = halt_change(doc(S.SHADOW), h, **kw)
    assert shadow is not None and shadow.decision == Decision.FREEZE
    assert halt_change(doc(S.OBSERVE, freeze=True, freeze_reason="x"), h, **kw) is None
    frozen_paper = halt_change(doc(S.PAPER, freeze=True, freeze_reason="review"), h, **kw)
    assert frozen_paper is not None and frozen_paper.freeze_reason is None  # keeps "review"
    lifted = h.model_copy(update={"status": "lifted", "resumed_by": "olga", "resumed_at": NOW})
    ours = doc(S.SHADOW, freeze=True, freeze_reason=freeze_marker("h1"))
    unfreeze = unfreeze_change(ours, lifted, **kw)
    assert unfreeze is not None and unfreeze.decision == Decision.UNFREEZE
    assert unfreeze_change(doc(S.SHADOW, freeze=True, freeze_reason="review"), lifted, **kw) is None
