"""Safety invariants as properties (hypothesis)."""

from __future__ import annotations

import asyncio
import json
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from governance.chain import verify_chain
from governance.errors import GovernanceError
from governance.gate import AgentState, GateInputs, GateMode, decide
from governance.hashing import canonical_hash
from governance.policy import default_policy
from governance.records import Severity, StrategyDoc
from governance.risk_events import Posture, RiskEvent, RiskEventKind, action_for
from governance.stage_change import StageChange, record_hash
from governance.stages import ORDER, Decision, LifecycleStage, execution_mode_for, rank
from store.sqlite import SqliteStore

NOW = datetime(2026, 11, 25, 15, tzinfo=UTC)
stages = st.sampled_from(ORDER)
maybe = lambda s: st.one_of(st.none(), s)  # noqa: E731


def strategy_docs() -> st.SearchStrategy[StrategyDoc]:
    return st.builds(
        lambda stage, mode, freeze, live: StrategyDoc(
            tenant_id="t",
            uid="u",
            strategy_id="s",
            lifecycle_stage=stage,
            execution_mode=execution_mode_for(mode),
            freeze=freeze,
            live_enabled_until=NOW + timedelta(hours=1) if live else None,
        ),
        stages,
        stages,
        st.booleans(),
        st.booleans(),
    )


gate_inputs = st.builds(
    GateInputs,
    now=st.just(NOW),
    kill_switch=maybe(st.booleans()),
    marketdata_age_ms=maybe(
        st.one_of(st.floats(min_value=-10, max_value=1e6), st.just(float("nan")))
    ),
    agent_state=maybe(st.sampled_from([*AgentState, "ready", "BOOTING", ""])),
    trading_mode=maybe(st.sampled_from(["paper", "live", "observe", "", "PAPER"])),
    broker_host=maybe(st.sampled_from(["paper-api.alpaca.markets", "api.alpaca.markets", "", "x"])),
    global_shadow_mode=maybe(st.booleans()),
    strategy=maybe(strategy_docs()),
    policy=st.sampled_from([None, default_policy()]),
)


@given(gate_inputs)
def test_kill_switch_always_wins(inputs: GateInputs) -> None:
    halted = inputs.model_copy(update={"kill_switch": True})
    decision = decide(halted)
    assert decision.mode == GateMode.NO_EXECUTION and not decision.executing
    assert "kill_switch" in [r.code for r in decision.reasons]


@given(gate_inputs)
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
    if decision.executing:  # and when it executes, every rail said yes
        assert inputs.strategy is not None and not inputs.strategy.freeze
        assert inputs.agent_state is not None and inputs.agent_state.upper() == "READY"


@given(
    kind=st.sampled_from(list(RiskEventKind)),
    severity=maybe(st.sampled_from(list(Severity))),
    stage=stages,
    frozen=st.booleans(),
    policy=st.sampled_from([None, default_policy()]),
    warnings=st.lists(st.integers(0, 7200), max_size=6),
)
def test_a_demotion_never_raises_a_stage(kind, severity, stage, frozen, policy, warnings) -> None:  # type: ignore[no-untyped-def]
    event = RiskEvent(event_id="e", kind=kind, severity=severity, ts=NOW)
    posture = Posture(
        lifecycle_stage=stage,
        freeze=frozen,
        warnings=[NOW - timedelta(seconds=s) for s in warnings],
    )
    action = action_for(event, policy, posture)
    assert rank(action.target_stage) <= rank(stage)
    if action.decision == Decision.DEMOTE:
        assert rank(action.target_stage) < rank(stage)
    if frozen:
        assert action.freeze  # nothing a risk event does lifts a freeze


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**6), 10**6),
        st.text(max_size=8),
        st.floats(allow_nan=False, allow_infinity=False),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=6), json_values, min_size=1, max_size=6), st.randoms())
def test_hashes_are_stable_under_key_order_and_change_with_content(doc: dict, rnd) -> None:  # type: ignore[no-untyped-def]
    shuffled = dict(rnd.sample(list(doc.items()), len(doc)))
    assert canonical_hash(doc) == canonical_hash(shuffled)
    key = next(iter(doc))
    changed = {**doc, key: [doc[key], "changed"]}
    assert canonical_hash(changed) != canonical_hash(doc)


ACTIONS = st.lists(
    st.tuples(st.sampled_from(list(Decision)), stages, st.booleans()), min_size=1, max_size=12
)


@settings(max_examples=25, deadline=None)
@given(ACTIONS, st.data())
def test_stage_is_last_record_and_chain_detects_any_altered_byte(actions, data) -> None:  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as tmp:
        records = asyncio.run(_apply(Path(tmp) / "p.db", actions))
    if not records:
        return
    assert verify_chain(records).ok
    victim = data.draw(st.integers(0, len(records) - 1))
    raw = records[victim].model_dump_json()
    pos = data.draw(st.integers(0, len(raw) - 1))
    altered = raw[:pos] + ("X" if raw[pos] != "X" else "Y") + raw[pos + 1 :]
    try:
        from governance.records import PromotionRecord

        tampered = PromotionRecord.model_validate(json.loads(altered))
    except Exception:
        return
    if tampered == records[victim]:
        return  # e.g. a key's case in a map the model normalises: not a change of content
    chain = [*records[:victim], tampered, *records[victim + 1 :]]
    result = verify_chain(chain)
    assert not result.ok and result.first_broken_record_id == tampered.record_id


async def _apply(path: Path, actions: list) -> list:  # type: ignore[type-arg]
    store = SqliteStore(path)
    await store.register_strategy(StrategyDoc(tenant_id="t", uid="u", strategy_id="s"))
    for decision, to_stage, freeze in actions:
        doc = await store.get_strategy("t", "u", "s")
        assert doc is not None
        change = StageChange(
            tenant_id="t",
            uid="u",
            strategy_id="s",
            record_id=str(uuid.uuid4()),
            audit_event_id=str(uuid.uuid4()),
            decision=decision,
            expected_from_stage=doc.lifecycle_stage,
            expected_last_record_id=doc.last_stage_change_record_id,
            to_stage=to_stage,
            reason_code="property",
            policy_version="p",
            requested_by="x",
            requested_at=NOW,
            effective_at=NOW,
            set_freeze=freeze if decision in (Decision.FREEZE, Decision.DEMOTE) else None,
        )
        try:
            await store.commit_stage_change(change)
        except GovernanceError:
            after = await store.get_strategy("t", "u", "s")
            assert after == doc  # a refused change writes nothing
        records = await store.list_records("t", "u", "s")
        final = await store.get_strategy("t", "u", "s")
        assert final is not None
        if records:
            assert final.lifecycle_stage == records[-1].to_stage
            assert final.last_stage_change_record_id == records[-1].record_id
            assert all(r.record_hash == record_hash(r) for r in records)
    records = await store.list_records("t", "u", "s")
    await store.close()
    return records


def test_every_stage_maps_to_a_runtime_mode() -> None:
    assert [execution_mode_for(s).value for s in LifecycleStage] == [
        "OBSERVE",
        "SHADOW_MODE",
        "PAPER",
        "LIVE",
    ]
