"""The execution gate: what a strategy may do right now. It always fails closed.

The promotion stage is only a ceiling; the global rails (kill-switch, marketdata freshness,
agent state, trading mode, broker host, the platform's shadow toggle) can only lower it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field

from governance.fleet_halt import GlobalHalt, TenantHalt
from governance.limits import LimitEnvelope
from governance.policy import PromotionPolicy
from governance.records import StrategyDoc, UtcDatetime
from governance.stages import LifecycleStage


class GateMode(StrEnum):
    NO_EXECUTION = "NO_EXECUTION"  # signals only
    SIMULATE = "SIMULATE"  # simulated fills, no broker contact
    PAPER = "PAPER"  # paper orders
    LIVE = "LIVE"  # real orders

    @property
    def executing(self) -> bool:
        """Whether the broker (paper or live) is contacted."""
        return self in (GateMode.PAPER, GateMode.LIVE)


class AgentState(StrEnum):
    READY = "READY"
    DEGRADED = "DEGRADED"
    HALTED = "HALTED"
    ERROR = "ERROR"


Cap = Callable[[GateMode, str, str], None]
_ORDER = [GateMode.NO_EXECUTION, GateMode.SIMULATE, GateMode.PAPER, GateMode.LIVE]
_CEILING = {
    LifecycleStage.OBSERVE: GateMode.NO_EXECUTION,
    LifecycleStage.SHADOW: GateMode.SIMULATE,
    LifecycleStage.PAPER: GateMode.PAPER,
    LifecycleStage.LIVE: GateMode.LIVE,
}


class GateInputs(BaseModel):
    """Everything the gate looks at. `None` means unknown, and unknown fails closed."""

    model_config = ConfigDict(frozen=True)

    now: UtcDatetime
    kill_switch: bool | None = None
    # Why it is engaged, when the caller knows (governance.kill_switch says so for its own).
    kill_switch_reason: str | None = None
    marketdata_age_ms: float | None = None
    agent_state: str | None = None
    trading_mode: str | None = None
    broker_host: str | None = None
    global_shadow_mode: bool | None = False
    strategy: StrategyDoc | None = None
    policy: PromotionPolicy | None = None
    # The envelope on record for the strategy's stage (governance.envelope.envelope_in_force);
    # `limits_unreadable` when the records it comes from could not be read.
    limit_envelope: LimitEnvelope | None = None
    limits_unreadable: bool = False
    # The tenant's halt document (None: none stored) and whether it could be read; the
    # platform's halt switch (None: unknown). Either halt wins over everything else.
    tenant_halt: TenantHalt | None = None
    tenant_halt_unreadable: bool = False
    global_halt: GlobalHalt | None = GlobalHalt(engaged=False)


class GateReason(BaseModel):
    code: str
    message: str


class GateDecision(BaseModel):
    mode: GateMode
    executing: bool
    stage: LifecycleStage | None
    reasons: list[GateReason] = Field(default_factory=list)
    # The limits the runtime enforces beside this decision (None: the stage places no orders,
    # or no record of it carries an envelope).
    limit_envelope: LimitEnvelope | None = None


def is_paper_host(host: str | None) -> bool:
    """A broker host with a DNS label `paper` or `paper-…` (Alpaca's `paper-api…`).

    A label merely starting with the letters (`paperless-broker.com`) is not a paper host:
    mistaking a live broker for paper would let paper orders reach real markets.
    """
    if not host:
        return False
    name = (urlparse(host).hostname if "//" in host else host.split("/")[0].split(":")[0]) or ""
    return any(
        label == "paper" or label.startswith(("paper-", "paper_"))
        for label in name.lower().split(".")
    )


def decide(inputs: GateInputs) -> GateDecision:
    reasons: list[GateReason] = []
    ceiling = GateMode.LIVE

    def cap(mode: GateMode, code: str, message: str) -> None:
        nonlocal ceiling
        reasons.append(GateReason(code=code, message=message))
        ceiling = min(ceiling, mode, key=_ORDER.index)

    strategy, policy = inputs.strategy, inputs.policy
    stage = strategy.effective_stage() if strategy else None
    _halts(inputs, cap)
    if inputs.kill_switch is not False:
        why = inputs.kill_switch_reason or "kill-switch engaged or unknown: nothing executes"
        cap(GateMode.NO_EXECUTION, "kill_switch", why)
    if policy is None:
        cap(
            GateMode.NO_EXECUTION, "missing_policy", "no promotion policy: unknown config ⇒ OBSERVE"
        )
    if strategy is None:
        cap(GateMode.NO_EXECUTION, "unknown_strategy", "strategy is not registered")
    else:
        assert stage is not None
        if _CEILING[stage] != GateMode.LIVE:
            cap(_CEILING[stage], f"stage_{stage.value.lower()}", f"strategy stage is {stage}")
        if strategy.status != "active":
            cap(GateMode.NO_EXECUTION, "strategy_inactive", f"strategy status is {strategy.status}")
        if strategy.freeze:
            cap(GateMode.SIMULATE, "frozen", f"strategy is frozen ({strategy.freeze_reason})")
        if stage == LifecycleStage.LIVE and not _live_enabled(strategy, inputs.now):
            cap(GateMode.PAPER, "live_enablement_lapsed", "LIVE enablement is absent or lapsed")
    _marketdata(inputs, policy, cap)
    if inputs.agent_state is None:
        cap(GateMode.NO_EXECUTION, "agent_state_unknown", "execution agent state unknown")
    elif inputs.agent_state.upper() != AgentState.READY:
        cap(GateMode.NO_EXECUTION, "agent_not_ready", f"execution agent is {inputs.agent_state}")
    if inputs.global_shadow_mode is not False:
        cap(GateMode.SIMULATE, "global_shadow_mode", "systemStatus/config.is_shadow_mode is on")
    _broker(inputs, ceiling, cap)
    if inputs.limits_unreadable:
        cap(GateMode.NO_EXECUTION, "limits_unknown", "the strategy's limit envelope is unreadable")
    return GateDecision(
        mode=ceiling,
        executing=ceiling.executing,
        stage=stage,
        reasons=reasons,
        limit_envelope=inputs.limit_envelope,
    )


def _halts(inputs: GateInputs, cap: Cap) -> None:
    platform, tenant = inputs.global_halt, inputs.tenant_halt
    if platform is None:
        cap(
            GateMode.NO_EXECUTION,
            "global_halt",
            "systemStatus/config.execution_halted is unknown: halted, since its state is unknown",
        )
    elif platform.engaged:
        cap(GateMode.NO_EXECUTION, "global_halt", f"the platform is {platform.describe()}")
    if inputs.tenant_halt_unreadable:
        cap(
            GateMode.NO_EXECUTION,
            "tenant_halt",
            "the tenant's halt document cannot be read: halted, since its state is unknown",
        )
    elif tenant is not None and tenant.active:
        cap(GateMode.NO_EXECUTION, "tenant_halt", f"the tenant is {tenant.describe()}")


def _live_enabled(strategy: StrategyDoc, now: datetime) -> bool:
    return strategy.live_enabled_until is not None and strategy.live_enabled_until > now


def _marketdata(inputs: GateInputs, policy: PromotionPolicy | None, cap: Cap) -> None:
    age = inputs.marketdata_age_ms
    limit = policy.data_integrity_thresholds.marketdata_max_age_ms if policy else None
    if age is None or age < 0 or age != age:
        cap(GateMode.NO_EXECUTION, "marketdata_unknown", "marketdata age unknown")
    elif limit is None or age > limit:
        cap(GateMode.NO_EXECUTION, "marketdata_stale", f"marketdata is {age:.0f} ms old")


def _broker(inputs: GateInputs, ceiling: GateMode, cap: Cap) -> None:
    """Broker-side modes need the runtime to match: PAPER a paper runtime and paper broker,
    LIVE a live runtime and a live broker. Anything else, or unknown, simulates at most."""
    mode = (inputs.trading_mode or "").strip().lower()
    host = inputs.broker_host
    if ceiling == GateMode.LIVE:
        if mode != "live":
            cap(GateMode.PAPER, "trading_mode_not_live", f"TRADING_MODE is {mode or 'unset'}")
            ceiling = GateMode.PAPER
        elif not host or is_paper_host(host):
            cap(GateMode.SIMULATE, "broker_host_not_live", f"broker host {host!r} is not live")
            return
    if ceiling == GateMode.PAPER:
        if mode != "paper":
            cap(GateMode.SIMULATE, "trading_mode_not_paper", f"TRADING_MODE is {mode or 'unset'}")
        elif not is_paper_host(host):
            cap(GateMode.SIMULATE, "broker_host_not_paper", f"broker host {host!r}")
