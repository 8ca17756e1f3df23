"""Safety invariants as properties (hypothesis): the gate, demotions, and sequences of commits."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from governance.chain import verify_chain
from governance.errors import GovernanceError
from governance.fleet_halt import GlobalHalt, HaltStatus, TenantHalt
from governance.gate import AgentState, GateInputs, GateMode, decide, is_paper_host
from governance.policy import PromotionPolicy, default_policy
from governance.records import PromotionRecord, Severity, StrategyDoc
from governance.risk_events import Posture, RiskEvent, RiskEventKind, action_for
from governance.roles import Role
from governance.stage_change import StageChange, record_hash
from governance.stages import ORDER, Decision, LifecycleStage, execution_mode_for, rank
from store.sqlite import SqliteStore

NOW = datetime(2026, 11, 25, 15, tzinfo=UTC)
stages = st.sampled_from(ORDER)


def maybe(values: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.none(), values)


def strategy_docs() -> st.SearchStrategy[StrategyDoc]:
    return st.builds(
        lambda stage, mode, freeze, live, status: StrategyDoc(
            tenant_id="t",
            uid="u",
            strategy_id="s",
            lifecycle_stage=stage,
            execution_mode=execution_mode_for(mode),
            freeze=freeze,
            live_enabled_until=NOW + timedelta(hours=1) if live else None,
            status=status,
        ),
        stages,
        stages,
        st.booleans(),
        st.booleans(),
        st.sampled_from(["active", "inactive"]),
    )


# Any value a rail can take, unknown (None) included.
ANY = {
    "kill_switch": maybe(st.booleans()),
    "marketdata_age_ms": maybe(
        st.one_of(st.floats(min_value=-10, max_value=1e6), st.just(float("nan")))
    ),
    "agent_state": maybe(st.sampled_from([*AgentState, "ready", "BOOTING", ""])),
    "trading_mode": maybe(st.sampled_from(["paper", "live", "observe", "", "PAPER", " Live "])),
    "broker_host": maybe(
        st.sampled_from(["paper-api.alpaca.markets", "api.alpaca.markets", "", "paper"])
    ),
    "global_shadow_mode": maybe(st.booleans()),
    "strategy": maybe(strategy_docs()),
    "policy": st.sampled_from([None, default_policy()]),
}
LIVE_STRATEGY = StrategyDoc(
    tenant_id="t",
    uid="u",
    strategy_id="s",
    lifecycle_stage=LifecycleStage.LIVE,
    execution_mode=execution_mode_for(LifecycleStage.LIVE),
    live_enabled_until=NOW + timedelta(hours=1),
)


@st.composite
def gate_inputs(draw: st.DrawFn) -> GateInputs:
    """Every rail green for a paper or a live runtime, then a few rails set to anything: so that
    executing decisions are common enough to check, and any mix of bad input comes up."""
    live = draw(st.booleans())
    green: dict[str, object] = {
        "kill_switch": False,
        "marketdata_age_ms": 5.0,
        "agent_state": "READY",
        "trading_mode": "live" if live else "paper",
        "broker_host": "api.alpaca.markets" if live else "paper-api.alpaca.markets",
        "global_shadow_mode": False,
        "strategy": LIVE_STRATEGY,
        "policy": default_policy(),
    }
    for rail in draw(st.sets(st.sampled_from(sorted(ANY)), max_size=4)):
        green[rail] = draw(ANY[rail])
    return GateInputs(now=NOW, **green)


@given(gate_inputs(), st.sampled_from([True, None]))
def test_kill_switch_always_wins(inputs: GateInputs, switch: bool | None) -> None:
    decision = decide(inputs.model_copy(update={"kill_switch": switch}))
    assert decision.mode == GateMode.NO_EXECUTION and not decision.executing
    assert "kill_switch" in [r.code for r in decision.reasons]


HALT = TenantHalt(
    halt_id="h",
    tenant_id="t",
    halted_by="bob",
    reason="desk incident",
    halted_at=NOW,
    posture=LifecycleStage.SHADOW,
    freeze=True,
    resume_roles=[Role.RISK_APPROVER, Role.OPS_APPROVER],
)


@given(gate_inputs(), st.sampled_from(["tenant", "unreadable", "global", "global_unknown"]))
def test_a_halt_always_wins(inputs: GateInputs, which: str) -> None:
    """Whatever the strategy's own state and the rails say, a halt closes the gate."""
    updates: dict[str, dict[str, object]] = {
        "tenant": {"tenant_halt": HALT},
        "unreadable": {"tenant_halt_unreadable": True},
        "global": {"global_halt": GlobalHalt(engaged=True, halted_by="ops", reason="outage")},
        "global_unknown": {"global_halt": None},
    }
    update = updates[which]
    decision = decide(inputs.model_copy(update=update))
    assert decision.mode == GateMode.NO_EXECUTION and not decision.executing
    code = "tenant_halt" if which in ("tenant", "unreadable") else "global_halt"
    reason = next(r for r in decision.reasons if r.code == code)
    if which in ("tenant", "global"):
        assert "halted by" in reason.message and (
            "bob" in reason.message or "ops" in reason.message
        )


@given(gate_inputs())
def test_a_lifted_halt_changes_nothing(inputs: GateInputs) -> None:
    lifted = HALT.model_copy(update={"status": HaltStatus.LIFTED})
    assert decide(inputs.model_copy(update={"tenant_halt": lifted})) == decide(inputs)


PAPER_ON_A_LIVE_RUNTIME = GateInputs(
    now=NOW,
    kill_switch=False,
    marketdata_age_ms=5.0,
    agent_state="READY",
    trading_mode="live",
    broker_host="api.alpaca.markets",
    global_shadow_mode=False,
    strategy=StrategyDoc(
        tenant_id="t",
        uid="u",
        strategy_id="s",
        lifecycle_stage=LifecycleStage.PAPER,
        execution_mode=execution_mode_for(LifecycleStage.PAPER),
    ),
    policy=default_policy(),
)


# A LIVE strategy on a live runtime whose broker host is unknown.
LIVE_RUNTIME_UNKNOWN_HOST = PAPER_ON_A_LIVE_RUNTIME.model_copy(
    update={"broker_host": None, "strategy": LIVE_STRATEGY}
)


@example(LIVE_RUNTIME_UNKNOWN_HOST)
@given(gate_inputs())
def test_unknown_input_never_executes(inputs: GateInputs) -> None:
    decision = decide(inputs)
    unknown = (
        inputs.kill_switch is None
        or inputs.marketdata_age_ms is None
        or inputs.agent_state is None
        or inputs.strategy is None
        or inputs.policy is None
        or inputs.global_shadow_mode is None
        or not inputs.trading_mode
        or not inputs.broker_host
    )
    if unknown:
        assert not decision.executing, decision
    assert decision.executing == (decision.mode in (GateMode.PAPER, GateMode.LIVE))
    assert decision.reasons or decision.mode == GateMode.LIVE  # a lowered mode says why


@given(gate_inputs())
def test_executing_means_every_rail_said_yes(inputs: GateInputs) -> None:
    decision = decide(inputs)
    if not decision.executing:
        return
    s, p = inputs.strategy, inputs.policy
    assert inputs.kill_switch is False and inputs.global_shadow_mode is False
    assert s is not None and p is not None and not s.freeze and s.status == "active"
    assert inputs.agent_state is not None and inputs.agent_state.upper() == "READY"
    age = inputs.marketdata_age_ms
    assert age is not None and 0 <= age <= p.data_integrity_thresholds.marketdata_max_age_ms
    assert rank(s.effective_stage()) >= rank(LifecycleStage.PAPER)
    if decision.mode == GateMode.LIVE:
        assert s.effective_stage() == LifecycleStage.LIVE
        assert s.live_enabled_until is not None and s.live_enabled_until > NOW
        assert (inputs.trading_mode or "").strip().lower() == "live"
        assert inputs.broker_host and not is_paper_host(inputs.broker_host)


@settings(max_examples=300)
@given(gate_inputs())
@example(PAPER_ON_A_LIVE_RUNTIME)
def test_paper_orders_only_on_a_paper_runtime_and_host(inputs: GateInputs) -> None:
    if decide(inputs).mode == GateMode.PAPER:
        assert (inputs.trading_mode or "").strip().lower() == "paper"
        assert is_paper_host(inputs.broker_host)


def lenient_drawdown() -> PromotionPolicy:
    p = default_policy()
    return p.model_copy(
        update={
            "risk_thresholds": p.risk_thresholds.model_copy(
                update={"drawdown_breaker_critical": False}
            )
        }
    )


@given(
    kind=st.sampled_from(list(RiskEventKind)),
    severity=maybe(st.sampled_from(list(Severity))),
    stage=stages,
    frozen=st.booleans(),
    policy=st.sampled_from([None, default_policy(), lenient_drawdown()]),
    warnings=st.lists(st.integers(-600, 200_000), max_size=6),
)
def test_a_demotion_never_raises_a_stage(
    kind: RiskEventKind,
    severity: Severity | None,
    stage: LifecycleStage,
    frozen: bool,
    policy: PromotionPolicy | None,
    warnings: list[int],
) -> None:
    event = RiskEvent(event_id="e", kind=kind, severity=severity, ts=NOW)
    posture = Posture(
        lifecycle_stage=stage,
        freeze=frozen,
        warnings=[NOW - timedelta(seconds=s) for s in warnings],
    )
    action = action_for(event, policy, posture)
    assert rank(action.target_stage) <= rank(stage)
    assert action.decision != Decision.PROMOTE and action.decision != Decision.UNFREEZE
    if action.decision == Decision.DEMOTE:
        assert rank(action.target_stage) < rank(stage)
    else:
        assert action.target_stage == stage
    if frozen:
        assert action.freeze  # nothing a risk event does lifts a freeze


# (decision, target stage, set_freeze, read a stale chain head, times the activity is retried)
Commit = tuple[Decision, LifecycleStage, bool | None, bool, int]
COMMITS = st.lists(
    st.tuples(
        st.sampled_from(list(Decision)),
        stages,
        st.sampled_from([None, True, False]),
        st.booleans(),
        st.integers(0, 2),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=30, deadline=None)
@given(COMMITS)
def test_stage_is_the_last_records_to_stage_after_any_commits_and_retries(
    commits: list[Commit],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        records = asyncio.run(_apply(Path(tmp) / "p.db", commits))
    assert verify_chain(records).ok


async def _apply(path: Path, commits: list[Commit]) -> list[PromotionRecord]:
    """Commit each change as a workflow would, from the state it read (or a stale read);
    refused ones included."""
    store = SqliteStore(path)
    try:
        await store.register_strategy(StrategyDoc(tenant_id="t", uid="u", strategy_id="s"))
        for decision, to_stage, freeze, stale, retries in commits:
            before = await store.get_strategy("t", "u", "s")
            assert before is not None
            earlier = await store.list_records("t", "u", "s")
            written = len(earlier)
            seen = before.last_stage_change_record_id
            if stale and earlier:
                seen = earlier[-2].record_id if written > 1 else None  # one commit behind
            change = StageChange(
                tenant_id="t",
                uid="u",
                strategy_id="s",
                record_id=str(uuid.uuid4()),
                audit_event_id=str(uuid.uuid4()),
                decision=decision,
                expected_from_stage=before.lifecycle_stage,
                expected_last_record_id=seen,
                to_stage=to_stage,
                reason_code="property",
                policy_version="p",
                requested_by="x",
                requested_at=NOW,
                effective_at=NOW,
                set_freeze=freeze,
            )
            try:
                record = await store.commit_stage_change(change)
                landed = 1
            except GovernanceError:
                record, landed = None, 0
                assert await store.get_strategy("t", "u", "s") == before  # nothing written
            settled = await store.get_strategy("t", "u", "s")
            for _ in range(retries):  # Temporal retrying the activity: never a second write
                try:
                    assert await store.commit_stage_change(change) == record
                except GovernanceError:
                    assert record is None  # refused the first time, refused again
                assert await store.get_strategy("t", "u", "s") == settled
            records = await store.list_records("t", "u", "s")
            events = await store.list_audit_events("t", "u", "s")
            assert len(records) == len(events) == written + landed
            after = await store.get_strategy("t", "u", "s")
            assert after is not None
            if stale and earlier:
                assert not landed  # a commit from a stale read never lands
            if records:
                last = records[-1]
                assert after.lifecycle_stage == last.to_stage
                assert after.execution_mode == execution_mode_for(last.to_stage)
                assert after.last_stage_change_record_id == last.record_id
                assert after.chain_length == last.sequence == len(records)
                assert after.freeze == last.freeze
                assert all(r.record_hash == record_hash(r) for r in records)
        return await store.list_records("t", "u", "s")
    finally:
        await store.close()


def test_every_stage_maps_to_a_runtime_mode() -> None:
    assert [execution_mode_for(s).value for s in LifecycleStage] == [
        "OBSERVE",
        "SHADOW_MODE",
        "PAPER",
        "LIVE",
    ]
