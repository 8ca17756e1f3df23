"""The limit envelope of an executing stage: what a PAPER or LIVE strategy may trade, and how much.

The policy holds one envelope per executing stage (`limit_envelopes.paper`, `.live`); the record
of a promotion into PAPER or LIVE snapshots the one in force, and the execution gate returns it
beside its decision, so the runtime's pre-trade controls and an auditor read the same numbers.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from governance.stages import LifecycleStage

ANY_INSTRUMENT = "*"
Instrument = Annotated[str, Field(pattern=r"^(\*|[A-Za-z0-9][A-Za-z0-9._:/\-]{0,31})$")]
Money = Annotated[float, Field(gt=0.0, le=1e15)]


class LimitEnvelope(BaseModel):
    """Pre-trade limits (MiFID II Art. 17(1), RTS 6 Art. 15, SEC 15c3-5(c)(1)); values are
    notional in the account's currency."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Symbols the strategy may trade; `*` alone means any instrument of the venue.
    instruments: Annotated[list[Instrument], Field(min_length=1, max_length=1_000)]
    max_order_value: Money
    max_orders_per_day: Annotated[int, Field(gt=0, le=10_000_000)]
    max_position_value: Money  # per instrument, absolute
    max_gross_position_value: Money  # all instruments, sum of absolute positions

    @model_validator(mode="after")
    def _coherent(self) -> LimitEnvelope:
        if len(set(self.instruments)) != len(self.instruments):
            raise ValueError("instruments: each instrument is listed once")
        if ANY_INSTRUMENT in self.instruments and len(self.instruments) > 1:
            raise ValueError("instruments: '*' (any instrument) stands alone")
        if self.max_gross_position_value < self.max_position_value:
            raise ValueError(
                "max_gross_position_value cannot be below max_position_value "
                f"({self.max_gross_position_value} < {self.max_position_value})"
            )
        return self

    def allows_any_instrument(self) -> bool:
        return self.instruments == [ANY_INSTRUMENT]


_NUMERIC = (
    "max_order_value",
    "max_orders_per_day",
    "max_position_value",
    "max_gross_position_value",
)


class LimitEnvelopes(BaseModel):
    """Per executing stage. LIVE stays within what PAPER tested: a LIVE limit above PAPER's, or
    an instrument PAPER does not allow, is refused naming the field."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Conservative placeholders, like the SLOs: each tenant sets its own.
    paper: LimitEnvelope = LimitEnvelope(
        instruments=[ANY_INSTRUMENT],
        max_order_value=100_000.0,
        max_orders_per_day=2_000,
        max_position_value=250_000.0,
        max_gross_position_value=1_000_000.0,
    )
    live: LimitEnvelope = LimitEnvelope(
        instruments=[ANY_INSTRUMENT],
        max_order_value=25_000.0,
        max_orders_per_day=500,
        max_position_value=50_000.0,
        max_gross_position_value=250_000.0,
    )

    @model_validator(mode="after")
    def _live_within_paper(self) -> LimitEnvelopes:
        for name in _NUMERIC:
            live, paper = getattr(self.live, name), getattr(self.paper, name)
            if live > paper:
                raise ValueError(
                    f"live.{name} ({live}) exceeds paper.{name} ({paper}): LIVE stays within "
                    "the limits PAPER tested"
                )
        if not self.paper.allows_any_instrument():
            untested = [i for i in self.live.instruments if i not in self.paper.instruments]
            if untested:
                raise ValueError(
                    f"live.instruments: {', '.join(untested)} not allowed in paper.instruments "
                    "(LIVE trades only what PAPER tested)"
                )
        return self

    def for_stage(self, stage: LifecycleStage) -> LimitEnvelope | None:
        """The envelope of an executing stage; None for the stages that place no orders."""
        if stage == LifecycleStage.PAPER:
            return self.paper
        if stage == LifecycleStage.LIVE:
            return self.live
        return None
