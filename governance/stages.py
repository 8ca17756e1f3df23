"""Lifecycle stages, the runtime execution modes they map to, and the legal transitions."""

from __future__ import annotations

from enum import StrEnum


class LifecycleStage(StrEnum):
    OBSERVE = "OBSERVE"
    SHADOW = "SHADOW"
    PAPER = "PAPER"
    LIVE = "LIVE"


class ExecutionMode(StrEnum):
    """Runtime mapping of a stage; `SHADOW_MODE` keeps the platform's existing spelling."""

    OBSERVE = "OBSERVE"
    SHADOW_MODE = "SHADOW_MODE"
    PAPER = "PAPER"
    LIVE = "LIVE"


class Decision(StrEnum):
    PROMOTE = "promote"
    DEMOTE = "demote"
    FREEZE = "freeze"
    UNFREEZE = "unfreeze"


class Transition(StrEnum):
    """The three promotions of the spec, keyed the same way in every policy map."""

    OBSERVE_TO_SHADOW = "observe_to_shadow"
    SHADOW_TO_PAPER = "shadow_to_paper"
    PAPER_TO_LIVE = "paper_to_live"

    @property
    def from_stage(self) -> LifecycleStage:
        return LifecycleStage(self.value.split("_to_")[0].upper())

    @property
    def to_stage(self) -> LifecycleStage:
        return LifecycleStage(self.value.split("_to_")[1].upper())


ORDER: tuple[LifecycleStage, ...] = (
    LifecycleStage.OBSERVE,
    LifecycleStage.SHADOW,
    LifecycleStage.PAPER,
    LifecycleStage.LIVE,
)

_EXECUTION_MODE = {
    LifecycleStage.OBSERVE: ExecutionMode.OBSERVE,
    LifecycleStage.SHADOW: ExecutionMode.SHADOW_MODE,
    LifecycleStage.PAPER: ExecutionMode.PAPER,
    LifecycleStage.LIVE: ExecutionMode.LIVE,
}


def rank(stage: LifecycleStage) -> int:
    """Position in the ladder; a higher rank is a more permissive stage."""
    return ORDER.index(stage)


def execution_mode_for(stage: LifecycleStage) -> ExecutionMode:
    return _EXECUTION_MODE[stage]


def stage_for_execution_mode(mode: ExecutionMode) -> LifecycleStage:
    return next(s for s, m in _EXECUTION_MODE.items() if m == mode)


def safer(a: LifecycleStage, b: LifecycleStage) -> LifecycleStage:
    """The less permissive of two stages."""
    return a if rank(a) <= rank(b) else b


def promotion_transition(from_stage: LifecycleStage, to_stage: LifecycleStage) -> Transition:
    """The transition for a promotion request, or ValueError if it is not one adjacent step up."""
    if rank(to_stage) != rank(from_stage) + 1:
        raise ValueError(
            f"to_stage: a promotion moves exactly one stage up; {from_stage} -> {to_stage} "
            "is not allowed"
        )
    return Transition(f"{from_stage.value.lower()}_to_{to_stage.value.lower()}")
