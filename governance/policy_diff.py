"""What a proposed policy version changes, field by field, and which changes weaken LIVE.

A change weakens LIVE controls when it makes it easier for a strategy to reach or stay in LIVE:
- fewer roles (or fewer final authorizers) for `paper_to_live`, or its order relaxed;
- a longer LIVE enablement or a longer LIVE confirmation token TTL (`live_controls`);
- a waiver added to `paper_to_live` (a criterion no longer gated);
- a loosened `paper_to_live` threshold: a stability window or a signal quality threshold
  (`*_min`/`min_*` lowered, `*_max` raised);
- a loosened risk threshold: those are the breakers that demote a LIVE strategy.
Such a change needs two distinct policy approvers (`governance/policy_change.py`).
"""

from __future__ import annotations

import json
from collections import Counter
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from governance.policy import PromotionPolicy
from governance.policy_chain import content

LIVE = "paper_to_live"


class ChangeKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


class FieldChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: str
    kind: ChangeKind
    old: Any = None
    new: Any = None
    weakens_live: bool = False
    why: str | None = None


class PolicyDiff(BaseModel):
    model_config = ConfigDict(frozen=True)

    from_version: str | None  # None: the tenant has no policy; compared with the spec defaults
    to_version: str
    changes: list[FieldChange]

    @property
    def live_weakenings(self) -> list[FieldChange]:
        return [c for c in self.changes if c.weakens_live]

    def lines(self) -> list[str]:
        """The diff for people: `~` changed, `+` added, `-` removed, LIVE weakenings flagged."""
        mark = {ChangeKind.CHANGED: "~", ChangeKind.ADDED: "+", ChangeKind.REMOVED: "-"}
        lines = []
        for c in self.changes:
            line = f"{mark[c.kind]} {c.path}: {_shown(c.old)} -> {_shown(c.new)}"
            if c.weakens_live:
                line += f"   [weakens LIVE: {c.why}]"
            lines.append(line)
        return lines or ["(no field changes)"]


def _shown(value: Any) -> str:
    return "(none)" if value is None else json.dumps(value, sort_keys=True)


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        flat: dict[str, Any] = {}
        for key, value in data.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: data}


def _comparable(policy: PromotionPolicy) -> dict[str, Any]:
    data: dict[str, Any] = content(policy)
    data.pop("policy_version", None)
    # Waivers keyed by what they waive, so adding one shows as one added field.
    data["waived"] = {f"{w.transition.value}.{w.criterion}": w.reason for w in policy.waived}
    return _flatten(data)


def _lower_is_looser(name: str) -> bool | None:
    """True when lowering this threshold loosens it, False when raising does, None unknown."""
    if name.endswith("_min") or name.startswith("min_") or name == "session_coverage_min":
        return True
    if name.endswith("_max"):
        return False
    return None


# Risk thresholds: raising these lets a LIVE strategy lose, concentrate or err more before a
# breaker demotes it.
RISK_HIGHER_IS_LOOSER = {
    "daily_loss_limit",
    "drawdown_breaker",
    "concentration_limit",
    "concentration_breach_allowance",
    "risk_denial_rate_max",
    "vix_warnings_with_denials_max",
    "repeated_denials_min",  # more denials needed before a day counts
    "warning_budget.max_warnings",
}
RISK_LOWER_IS_LOOSER = {"warning_budget.window_seconds"}  # fewer warnings fall in the window


def _numeric_loosening(old: Any, new: Any, lower_is_looser: bool) -> bool:
    if old is None or new is None:
        return old != new  # an alternative added or removed: treated as loosening
    if isinstance(old, bool) or not isinstance(old, int | float):
        return False
    return bool(new < old) if lower_is_looser else bool(new > old)


def _weakens(path: str, old: Any, new: Any) -> str | None:
    """Why this change weakens LIVE controls, or None."""
    if path == f"approval_matrix.{LIVE}.roles":
        before, after = Counter(old or []), Counter(new or [])
        dropped = before - after
        if dropped:
            names = ", ".join(f"{n}x {r}" for r, n in sorted(dropped.items()))
            return f"fewer PAPER -> LIVE approvers ({names} no longer required)"
        return None
    if path == f"approval_matrix.{LIVE}.ordered" and old is True and new is not True:
        return "PAPER -> LIVE approvals no longer in order"
    if path == "live_controls.enablement_seconds" and _numeric_loosening(old, new, False):
        return "longer LIVE enablement before renewal"
    if path == "live_controls.confirmation_token_ttl_seconds" and _numeric_loosening(
        old, new, False
    ):
        return "longer-lived LIVE confirmation tokens"
    if path.startswith(f"waived.{LIVE}.") and old is None:
        return "a PAPER -> LIVE criterion is waived"
    for section in ("stability_windows", "signal_quality_thresholds"):
        head = f"{section}.{LIVE}."
        if path.startswith(head):
            name = path.removeprefix(head)
            direction = _lower_is_looser(name)
            if direction is None:
                return f"PAPER -> LIVE {name} changed (no known direction: counted as loosening)"
            if _numeric_loosening(old, new, direction):
                return f"PAPER -> LIVE threshold {name} loosened"
            return None
    if path.startswith("risk_thresholds."):
        name = path.removeprefix("risk_thresholds.")
        if name == "drawdown_breaker_critical" and old is True and new is not True:
            return "the drawdown breaker no longer demotes critically"
        if name == "coinciding_warning_kinds" and set(old or []) - set(new or []):
            return "fewer warning kinds count against LIVE strategies"
        if name in RISK_HIGHER_IS_LOOSER and _numeric_loosening(old, new, False):
            return f"risk threshold {name} loosened (LIVE breakers)"
        if name in RISK_LOWER_IS_LOOSER and _numeric_loosening(old, new, True):
            return f"risk threshold {name} loosened (LIVE breakers)"
    return None


def diff_policies(
    current: PromotionPolicy | None, proposed: PromotionPolicy, baseline: PromotionPolicy
) -> PolicyDiff:
    """Every field `proposed` changes against `current` (or against `baseline`, the spec
    defaults, when the tenant has none: a first policy may not quietly weaken LIVE either)."""
    before = _comparable(current if current is not None else baseline)
    after = _comparable(proposed)
    changes: list[FieldChange] = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if path in before and path in after and old == new:
            continue
        kind = (
            ChangeKind.ADDED
            if path not in before
            else ChangeKind.REMOVED
            if path not in after
            else ChangeKind.CHANGED
        )
        why = _weakens(path, old, new)
        changes.append(
            FieldChange(
                path=path, kind=kind, old=old, new=new, weakens_live=why is not None, why=why
            )
        )
    return PolicyDiff(
        from_version=current.policy_version if current else None,
        to_version=proposed.policy_version,
        changes=changes,
    )
