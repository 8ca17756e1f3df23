"""The versioned tenant promotion policy, with the spec's defaults for every transition.

Field names follow the spec's section 3A (`stability_windows`, `signal_quality_thresholds`,
`risk_thresholds`, `data_integrity_thresholds`, `approval_matrix`); per-transition maps are keyed
`observe_to_shadow`, `shadow_to_paper`, `paper_to_live`. Rates are fractions in [0, 1].
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.functional_serializers import model_serializer
from pydantic_core.core_schema import SerializerFunctionWrapHandler

from governance.criteria_catalog import BY_TRANSITION
from governance.errors import GovernanceError, PolicyMissing
from governance.fleet_halt import HaltPolicy
from governance.limits import LimitEnvelope, LimitEnvelopes
from governance.roles import Role
from governance.stages import LifecycleStage, Transition

Rate = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegInt = Annotated[int, Field(ge=0)]
PositiveSeconds = Annotated[int, Field(gt=0)]
TRANSITION_KEYS = tuple(t.value for t in Transition)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _PerTransition(_Strict):
    """A map keyed by transition; a key that skips a stage is refused by name."""

    @model_validator(mode="before")
    @classmethod
    def _known_transitions(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = set(cls.model_fields)
            for key in data:
                if key not in allowed:
                    raise ValueError(
                        f"unknown transition {key!r}: promotions move one stage at a time "
                        f"({', '.join(sorted(allowed))})"
                    )
        return data


class StabilityWindow(_Strict):
    min_sessions: NonNegInt
    # A session counts only if the strategy was in its stage for at least this fraction of it
    # (open to close on the policy's calendar): partial sessions at either end do not count.
    session_coverage_min: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0
    min_evaluations: NonNegInt = 0
    min_fills: NonNegInt = 0
    # SHADOW: "≥ 50 simulated fills (or ≥ 1,000 signals if low-turnover)". Low turnover means
    # an average daily turnover (traded notional / equity) measured at or below
    # `low_turnover_max`; only then do signals stand in for fills.
    min_signals_if_low_turnover: NonNegInt | None = None
    low_turnover_max: Annotated[float, Field(ge=0.0)] | None = None
    min_orders: NonNegInt = 0

    @model_validator(mode="after")
    def _alternative_is_defined(self) -> StabilityWindow:
        if (self.min_signals_if_low_turnover is None) != (self.low_turnover_max is None):
            raise ValueError(
                "min_signals_if_low_turnover and low_turnover_max go together: the signal "
                "alternative needs a definition of low turnover"
            )
        return self


class StabilityWindows(_PerTransition):
    observe_to_shadow: StabilityWindow = StabilityWindow(min_sessions=5, min_evaluations=500)
    shadow_to_paper: StabilityWindow = StabilityWindow(
        min_sessions=10, min_fills=50, min_signals_if_low_turnover=1000, low_turnover_max=0.1
    )
    paper_to_live: StabilityWindow = StabilityWindow(min_sessions=20, min_orders=100)


class ObserveToShadowQuality(_Strict):
    coverage_min: Rate = 0.90
    hit_rate_min: Rate = 0.52
    ic_mean_min: Annotated[float, Field(ge=-1.0, le=1.0)] = 0.02
    ic_negative_day_fraction_max: Rate = 0.60
    calibration_buckets: Annotated[int, Field(ge=2, le=20)] = 5
    calibration_monotonic_buckets_min: NonNegInt = 4
    # Discrete (BUY/SELL/HOLD) strategies replace IC with lift: hit rate minus the better of
    # "always the majority direction" and "random with the strategy's own frequencies". An
    # improvement must be real, so the default asks for the same 2 points as hit_rate_min.
    lift_min: Annotated[float, Field(ge=-1.0, le=1.0)] = 0.02

    @model_validator(mode="after")
    def _buckets(self) -> ObserveToShadowQuality:
        if self.calibration_monotonic_buckets_min > self.calibration_buckets:
            raise ValueError(
                "calibration_monotonic_buckets_min cannot exceed calibration_buckets "
                f"({self.calibration_monotonic_buckets_min} > {self.calibration_buckets})"
            )
        return self


class ShadowToPaperQuality(_Strict):
    window_return_min: float = 0.0
    sharpe_daily_min: float = 0.2
    max_drawdown_max: Rate = 0.03
    turnover_max: Annotated[float, Field(ge=0.0)] = 1.5


class PaperToLiveQuality(_Strict):
    window_return_min: float = 0.0
    max_drawdown_max: Rate = 0.02
    worst_day_return_min: Annotated[float, Field(ge=-1.0, le=0.0)] = -0.01
    # Tenant-defined SLOs; these defaults are conservative placeholders to be tuned.
    decision_latency_p50_ms_max: Annotated[float, Field(gt=0)] = 250.0
    slippage_bps_p50_max: Annotated[float, Field(ge=0)] = 10.0
    # "No systematic pricing bugs": the mean signed slippage (adverse positive) stays small.
    slippage_bias_bps_max: Annotated[float, Field(ge=0)] = 2.0


class SignalQualityThresholds(_PerTransition):
    observe_to_shadow: ObserveToShadowQuality = ObserveToShadowQuality()
    shadow_to_paper: ShadowToPaperQuality = ShadowToPaperQuality()
    paper_to_live: PaperToLiveQuality = PaperToLiveQuality()


class WarningBudget(_Strict):
    """Warning breakers (e.g. VIX guard) demote once more than `max_warnings` land in the window."""

    # Bounded so the demotion workflow carries at most this many timestamps across runs.
    max_warnings: Annotated[int, Field(ge=0, le=1_000)] = 3
    window_seconds: PositiveSeconds = 86_400


class RiskThresholds(_Strict):
    daily_loss_limit: Rate = 0.02
    drawdown_breaker: Rate = 0.05
    drawdown_breaker_critical: bool = True
    concentration_limit: Rate = 0.20
    concentration_breach_allowance: NonNegInt = 3
    risk_denial_rate_max: Rate = 0.02
    # VIX guard activations are allowed but "must not coincide with repeated risk denials":
    # days on which a named warning kind fired and the risk service denied at least
    # `repeated_denials_min` orders; none allowed by default.
    vix_warnings_with_denials_max: NonNegInt = 0
    coinciding_warning_kinds: Annotated[list[str], Field(min_length=1, max_length=32)] = [
        "circuit_breaker_warning"
    ]
    repeated_denials_min: Annotated[int, Field(ge=1)] = 2
    warning_budget: WarningBudget = WarningBudget()


class DataIntegrityThresholds(_Strict):
    max_quote_age_ms: Annotated[int, Field(gt=0)] = 2_000
    quote_freshness_min: Rate = 0.99
    missing_field_rate_max: Rate = 0.005
    evaluation_error_rate_max: Rate = 0.001
    fill_failure_rate_max: Rate = 0.001
    order_api_error_rate_max: Rate = 0.005
    schema_error_rate_max: Rate = 0.001
    stale_rate_max: Rate = 0.01
    max_clock_skew_ms: Annotated[int, Field(gt=0)] = 1_000
    # The execution gate's marketdata freshness limit.
    marketdata_max_age_ms: Annotated[int, Field(gt=0)] = 5_000


class ApprovalRequirement(_Strict):
    """Roles that must sign; a role listed twice needs two distinct people."""

    roles: list[Role]
    ordered: bool = False
    auto_approve_non_production: bool = False
    # One approver must hold the `designated_person` designation (RTS 6 Art. 5). None is the
    # default: required for paper_to_live in production tenants, not elsewhere.
    designated_person_required: bool | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> ApprovalRequirement:
        # Auto-approval only ever applies to non-production tenants; production needs a person.
        if not self.roles:
            raise ValueError("roles: at least one approver role is required")
        if Role.ADMIN in self.roles:
            # Admins may cancel requests; an approval needs one of the spec's checkpoint roles.
            raise ValueError("roles: 'admin' is not an approver role")
        if Role.DESIGNATED_PERSON in self.roles:
            raise ValueError(
                "roles: 'designated_person' is a designation an approver holds, not an "
                "approval slot (use designated_person_required)"
            )
        if self.designated_person_required and self.auto_approve_non_production:
            raise ValueError(
                "designated_person_required: an auto-approved transition has no designated "
                "person to sign it"
            )
        return self


class ApprovalMatrix(_PerTransition):
    @model_validator(mode="after")
    def _live_needs_people(self) -> ApprovalMatrix:
        # LIVE needs explicit human approval and confirmation tokens (spec 1C), in any tenant.
        if self.paper_to_live.auto_approve_non_production:
            raise ValueError("paper_to_live: LIVE is never auto-approved")
        return self

    observe_to_shadow: ApprovalRequirement = ApprovalRequirement(
        roles=[Role.STRATEGY_REVIEWER], auto_approve_non_production=True
    )
    shadow_to_paper: ApprovalRequirement = ApprovalRequirement(
        roles=[Role.RISK_APPROVER, Role.OPS_APPROVER]
    )
    # The spec's 3-step governance, in order; the two final authorizers must be distinct people.
    paper_to_live: ApprovalRequirement = ApprovalRequirement(
        roles=[Role.RISK_APPROVER, Role.OPS_APPROVER, Role.FINAL_AUTHORIZER, Role.FINAL_AUTHORIZER],
        ordered=True,
    )
    unfreeze: ApprovalRequirement = ApprovalRequirement(roles=[Role.RISK_APPROVER])


class LiveControls(_Strict):
    confirmation_token_ttl_seconds: PositiveSeconds = 300
    enablement_seconds: PositiveSeconds = 86_400


class PolicyWaiver(_Strict):
    """A tenant's explicit decision not to gate one criterion of one transition."""

    transition: Transition
    criterion: str
    reason: Annotated[str, Field(min_length=3, max_length=500)]

    @model_validator(mode="after")
    def _known_criterion(self) -> PolicyWaiver:
        known = BY_TRANSITION[self.transition]
        if self.criterion not in known:
            raise ValueError(
                f"criterion {self.criterion!r} is not one of {self.transition.value}'s "
                f"({', '.join(known)})"
            )
        return self


# Fields that older versions wrote and that no longer have any effect. A stored policy (or one
# carried in a workflow's history) that has them is read without them; a new policy that names
# them is refused by `parse_policy`, like any unknown field.
RETIRED_FIELDS = (("signal_quality_thresholds", "observe_to_shadow", "forward_return_horizon"),)


def _without_retired(data: Any) -> Any:
    if not isinstance(data, dict):
        return data
    cleaned = copy.deepcopy(data)
    for path in RETIRED_FIELDS:
        node: Any = cleaned
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(path[-1], None)
    return cleaned


def _retired_in(data: dict[str, Any]) -> list[str]:
    found = []
    for path in RETIRED_FIELDS:
        node: Any = data
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and path[-1] in node:
            found.append(".".join(path))
    return found


class PromotionPolicy(_Strict):
    policy_version: Annotated[str, Field(min_length=1, max_length=128)]
    production: bool = True
    calendar: str = "XNYS"
    stability_windows: StabilityWindows = StabilityWindows()
    signal_quality_thresholds: SignalQualityThresholds = SignalQualityThresholds()
    risk_thresholds: RiskThresholds = RiskThresholds()
    data_integrity_thresholds: DataIntegrityThresholds = DataIntegrityThresholds()
    approval_matrix: ApprovalMatrix = ApprovalMatrix()
    request_deadline_seconds: PositiveSeconds = 30 * 86_400
    approval_ttl_seconds: PositiveSeconds = 3 * 86_400
    evaluation_interval_seconds: PositiveSeconds = 3_600
    live_controls: LiveControls = LiveControls()
    waived: Annotated[list[PolicyWaiver], Field(max_length=64)] = []
    updated_at: datetime | None = None
    updated_by: str | None = None
    # What a PAPER and a LIVE strategy may trade; snapshotted by the record of each promotion.
    limit_envelopes: LimitEnvelopes = LimitEnvelopes()
    # Stamped by the store when the version is published (governance/policy_chain.py): the
    # proposal it came from, and the version's place in the tenant's hash chain of policies.
    proposal_id: str | None = None
    prev_policy_hash: str | None = None
    policy_hash: str | None = None
    # A tenant halt's posture and resume approvals (None: the defaults); not dumped while None,
    # so versions stored before it existed hash as they did (governance/policy_chain.py).
    fleet_halt: HaltPolicy | None = None

    @model_serializer(mode="wrap")
    def _omit_unset_halt(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        return {k: v for k, v in data.items() if k != "fleet_halt" or v is not None}

    @model_validator(mode="before")
    @classmethod
    def _drop_retired(cls, data: Any) -> Any:
        return _without_retired(data)

    @model_validator(mode="after")
    def _one_waiver_each(self) -> PromotionPolicy:
        seen = [(w.transition, w.criterion) for w in self.waived]
        if len(seen) != len(set(seen)):
            raise ValueError("waived: a criterion is waived at most once per transition")
        return self

    def waiver_for(self, transition: Transition, criterion: str) -> PolicyWaiver | None:
        return next(
            (w for w in self.waived if w.transition == transition and w.criterion == criterion),
            None,
        )

    def window_for(self, transition: Transition) -> StabilityWindow:
        window: StabilityWindow = getattr(self.stability_windows, transition.value)
        return window

    def approvals_for(self, transition: Transition | str) -> ApprovalRequirement:
        """The transition's approvals, with `designated_person_required` resolved to a bool."""
        key = transition.value if isinstance(transition, Transition) else transition
        requirement: ApprovalRequirement = getattr(self.approval_matrix, key)
        required = requirement.designated_person_required
        if required is None:
            required = key == Transition.PAPER_TO_LIVE.value and self.production
        return requirement.model_copy(update={"designated_person_required": required})

    def limit_envelope_for(self, stage: LifecycleStage) -> LimitEnvelope | None:
        return self.limit_envelopes.for_stage(stage)

    def auto_approves(self, transition: Transition) -> bool:
        """Auto-approval is only ever honoured for non-production tenants."""
        return (not self.production) and self.approvals_for(transition).auto_approve_non_production


DEFAULT_POLICY_VERSION = "spec-defaults.v1"


class PolicyInvalid(GovernanceError):
    code = "invalid_policy"

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        text = "; ".join(f"{f}: {m}" for f, m in errors)
        super().__init__(f"policy refused: {text}", field=errors[0][0] if errors else None)


def _as_policy_invalid(exc: ValidationError) -> PolicyInvalid:
    errors = [
        (".".join(str(p) for p in e["loc"]) or "policy", e["msg"].removeprefix("Value error, "))
        for e in exc.errors()
    ]
    return PolicyInvalid(errors)


def parse_policy(data: Any) -> PromotionPolicy:
    """Validate a policy document; refuses impossible values naming each field and why."""
    if not isinstance(data, dict):
        raise PolicyInvalid([("policy", "a policy is a mapping of fields")])
    retired = _retired_in(data)
    if retired:
        raise PolicyInvalid(
            [(f, "this field no longer exists (it had no effect)") for f in retired]
        )
    try:
        return PromotionPolicy.model_validate(data)
    except ValidationError as exc:
        raise _as_policy_invalid(exc) from None


def load_stored_policy(data: dict[str, Any]) -> PromotionPolicy:
    """A policy as a store holds it, written by this version or an earlier one."""
    return PromotionPolicy.model_validate(data)


def default_policy(policy_version: str = DEFAULT_POLICY_VERSION) -> PromotionPolicy:
    """The global defaults: exactly the spec's thresholds for each transition."""
    return PromotionPolicy(policy_version=policy_version)


def _deep_merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def effective_policy(
    policy: PromotionPolicy | None, stage_overrides: dict[str, Any] | None
) -> PromotionPolicy:
    """The tenant policy with a strategy's `stage_overrides` merged on top.

    A missing policy fails closed: there is nothing to promote against.
    """
    if policy is None:
        raise PolicyMissing(
            "no promotion policy for this tenant: promotions are refused (fail-closed)",
            field="policy",
        )
    if not stage_overrides:
        return policy
    if "policy_version" in stage_overrides:
        raise PolicyInvalid([("stage_overrides.policy_version", "overrides cannot change it")])
    return parse_policy(_deep_merge(policy.model_dump(mode="json"), stage_overrides))
