"""The global kill-switch (spec: "always wins"), decided on what the edge already read.

`EXECUTION_HALTED` halts unless it is unset, empty or "0"; the halt file halts when it exists
and also when it cannot be looked at: a switch whose state is unknown fails closed.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class HaltFile(BaseModel):
    """What was found at the path `EXECUTION_HALT_FILE` names."""

    model_config = ConfigDict(frozen=True)

    path: str
    present: bool = False
    error: str | None = None  # looking at it failed (permission, name too long, a directory...)


class KillSwitch(BaseModel):
    model_config = ConfigDict(frozen=True)

    engaged: bool
    reason: str | None = None


def kill_switch(halted: str | None, halt_file: HaltFile | None) -> KillSwitch:
    value = (halted or "").strip()
    if value not in ("", "0"):  # "1", and anything unrecognised: unknown input fails closed
        return KillSwitch(engaged=True, reason=f"EXECUTION_HALTED={value[:40]!r}: nothing executes")
    if halt_file is None:
        return KillSwitch(engaged=False)
    shown = halt_file.path if len(halt_file.path) <= 120 else halt_file.path[:120] + "…"
    if halt_file.error is not None:
        return KillSwitch(
            engaged=True,
            reason=f"halt file {shown} cannot be read ({halt_file.error}): halted, since its "
            "state is unknown",
        )
    if halt_file.present:
        return KillSwitch(engaged=True, reason=f"halt file {shown} is present: nothing executes")
    return KillSwitch(engaged=False)
