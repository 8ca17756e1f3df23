"""The execution gate on examples: every rail, the kill-switch sources, paper hosts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from governance.gate import GateInputs, GateMode, decide, is_paper_host
from governance.kill_switch import HaltFile, kill_switch
from governance.policy import default_policy
from governance.records import StrategyDoc
from governance.stages import ExecutionMode, execution_mode_for
from governance.stages import LifecycleStage as S

NOW = datetime(2026, 11, 25, 15, tzinfo=UTC)
PAPER_HOST = "https://paper-api.alpaca.markets"
LIVE_HOST = "https://api.alpaca.markets"


def strategy(stage: S, **over: Any) -> StrategyDoc:
    fields: dict[str, Any] = {
        "tenant_id": "t",
        "uid": "u",
        "strategy_id": "s",
        "lifecycle_stage": stage,
        "execution_mode": execution_mode_for(stage),
        **over,
    }
    return StrategyDoc(**fields)


def ready(stage: S, **over: Any) -> GateInputs:
    """Every rail green for a paper runtime; `over` turns one of them."""
    base: dict[str, Any] = {
        "now": NOW,
        "kill_switch": False,
        "marketdata_age_ms": 50,
        "agent_state": "READY",
        "trading_mode": "paper",
        "broker_host": PAPER_HOST,
        "global_shadow_mode": False,
        "strategy": strategy(stage),
        "policy": default_policy(),
    }
    return GateInputs(**{**base, **over})


def codes(inputs: GateInputs) -> tuple[GateMode, list[str]]:
    decision = decide(inputs)
    assert decision.executing == decision.mode.executing
    return decision.mode, [r.code for r in decision.reasons]


@pytest.mark.parametrize(
    ("stage", "mode"),
    [(S.OBSERVE, GateMode.NO_EXECUTION), (S.SHADOW, GateMode.SIMULATE), (S.PAPER, GateMode.PAPER)],
)
def test_the_stage_is_the_ceiling(stage: S, mode: GateMode) -> None:
    assert codes(ready(stage))[0] == mode


@pytest.mark.parametrize(
    ("over", "mode", "code"),
    [
        ({"kill_switch": True}, GateMode.NO_EXECUTION, "kill_switch"),
        ({"kill_switch": None}, GateMode.NO_EXECUTION, "kill_switch"),
        ({"policy": None}, GateMode.NO_EXECUTION, "missing_policy"),
        ({"strategy": None}, GateMode.NO_EXECUTION, "unknown_strategy"),
        ({"marketdata_age_ms": None}, GateMode.NO_EXECUTION, "marketdata_unknown"),
        ({"marketdata_age_ms": -1}, GateMode.NO_EXECUTION, "marketdata_unknown"),
        ({"marketdata_age_ms": float("nan")}, GateMode.NO_EXECUTION, "marketdata_unknown"),
        ({"marketdata_age_ms": 5_001}, GateMode.NO_EXECUTION, "marketdata_stale"),
        ({"agent_state": None}, GateMode.NO_EXECUTION, "agent_state_unknown"),
        ({"agent_state": "DEGRADED"}, GateMode.NO_EXECUTION, "agent_not_ready"),
        ({"agent_state": "HALTED"}, GateMode.NO_EXECUTION, "agent_not_ready"),
        ({"agent_state": "ERROR"}, GateMode.NO_EXECUTION, "agent_not_ready"),
        ({"agent_state": "BOOTING"}, GateMode.NO_EXECUTION, "agent_not_ready"),
        ({"trading_mode": None}, GateMode.SIMULATE, "trading_mode_not_paper"),
        ({"trading_mode": "observe"}, GateMode.SIMULATE, "trading_mode_not_paper"),
        ({"broker_host": None}, GateMode.SIMULATE, "broker_host_not_paper"),
        ({"broker_host": LIVE_HOST}, GateMode.SIMULATE, "broker_host_not_paper"),
        ({"global_shadow_mode": True}, GateMode.SIMULATE, "global_shadow_mode"),
        ({"global_shadow_mode": None}, GateMode.SIMULATE, "global_shadow_mode"),
        ({"strategy": strategy(S.PAPER, freeze=True)}, GateMode.SIMULATE, "frozen"),
        (
            {"strategy": strategy(S.PAPER, status="inactive")},
            GateMode.NO_EXECUTION,
            "strategy_inactive",
        ),
        # A circuit breaker elsewhere set SHADOW_MODE without touching the stage.
        (
            {"strategy": strategy(S.PAPER, execution_mode=ExecutionMode.SHADOW_MODE)},
            GateMode.SIMULATE,
            "stage_shadow",
        ),
    ],
)
def test_each_rail_lowers_a_ready_paper_strategy(
    over: dict[str, Any], mode: GateMode, code: str
) -> None:
    got, reasons = codes(ready(S.PAPER, **over))
    assert got == mode and code in reasons, reasons


def test_every_reason_is_reported_not_only_the_first() -> None:
    _, reasons = codes(
        ready(S.PAPER, kill_switch=True, policy=None, agent_state="ERROR", marketdata_age_ms=None)
    )
    assert {"kill_switch", "missing_policy", "agent_not_ready", "marketdata_unknown"} <= set(
        reasons
    )


def test_live_needs_live_runtime_live_host_and_an_enablement() -> None:
    enabled = strategy(S.LIVE, live_enabled_until=NOW + timedelta(hours=1))
    live = {"trading_mode": "live", "broker_host": LIVE_HOST, "strategy": enabled}
    assert codes(ready(S.LIVE, **live))[0] == GateMode.LIVE
    lapsed = strategy(S.LIVE, live_enabled_until=NOW - timedelta(seconds=1))
    assert "live_enablement_lapsed" in codes(ready(S.LIVE, **{**live, "strategy": lapsed}))[1]
    mode, reasons = codes(ready(S.LIVE, strategy=enabled))  # a paper runtime
    assert mode == GateMode.PAPER and "trading_mode_not_live" in reasons


@pytest.mark.parametrize(
    ("stage", "over"),
    [
        (S.PAPER, {"broker_host": LIVE_HOST}),
        (S.LIVE, {"broker_host": LIVE_HOST}),  # LIVE enablement absent
        (S.LIVE, {"broker_host": PAPER_HOST}),
    ],
)
def test_paper_execution_needs_a_paper_runtime(stage: S, over: dict[str, Any]) -> None:
    mode, reasons = codes(ready(stage, trading_mode="live", **over))
    assert mode not in (GateMode.PAPER, GateMode.LIVE), reasons


def test_kill_switch_from_the_environment_or_the_halt_file() -> None:
    assert kill_switch("1", None).engaged
    assert kill_switch(" 1 ", None).engaged
    assert not kill_switch("0", None).engaged
    assert not kill_switch(None, None).engaged
    assert not kill_switch(None, HaltFile(path="/run/HALT")).engaged
    present = kill_switch("0", HaltFile(path="/run/HALT", present=True))
    assert present.engaged and present.reason == "halt file /run/HALT is present: nothing executes"


@pytest.mark.parametrize("value", ["true", "TRUE", "yes", "on", "2", "halted"])
def test_an_unrecognised_halt_value_engages_the_kill_switch(value: str) -> None:
    engaged = kill_switch(value, None)
    assert engaged.engaged and engaged.reason == f"EXECUTION_HALTED={value!r}: nothing executes"


def test_a_halt_file_that_cannot_be_read_halts_and_the_gate_says_why() -> None:
    unknown = kill_switch(None, HaltFile(path="/run/HALT", error="Permission denied"))
    assert unknown.engaged
    assert unknown.reason is not None and "(Permission denied)" in unknown.reason
    inputs = ready(S.PAPER, kill_switch=unknown.engaged, kill_switch_reason=unknown.reason)
    decision = decide(inputs)
    assert decision.mode == GateMode.NO_EXECUTION
    assert [r.message for r in decision.reasons if r.code == "kill_switch"] == [unknown.reason]


@pytest.mark.parametrize(
    ("host", "paper"),
    [
        ("paper-api.alpaca.markets", True),
        ("https://paper-api.alpaca.markets/v2", True),
        ("paper-api.alpaca.markets:443", True),
        ("paper.broker.example", True),
        ("https://orders.paper.broker.example:8443", True),
        ("api.alpaca.markets", False),
        ("paperless-broker.com", False),
        ("https://papertrail.example/v2", False),
        ("api.notpaper-broker.example", False),
        ("https://api.alpaca.markets", False),
        ("", False),
        (None, False),
    ],
)
def test_paper_hosts(host: str | None, paper: bool) -> None:
    assert is_paper_host(host) is paper
