"""Reading the runtime's halt switches from the environment and the file system, for the
gate's callers (API, CLI); governance.kill_switch decides on what this read.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping

from governance.kill_switch import HaltFile, KillSwitch, kill_switch


def read_kill_switch(env: Mapping[str, str] | None = None) -> KillSwitch:
    """`EXECUTION_HALTED` and the file `EXECUTION_HALT_FILE` names, if set."""
    env = os.environ if env is None else env
    path = env.get("EXECUTION_HALT_FILE") or None
    return kill_switch(env.get("EXECUTION_HALTED"), look_at(path) if path else None)


def look_at(path: str) -> HaltFile:
    """Whether the halt file exists. Only "no such file" means absent: any other failure to
    look leaves its state unknown, and that is reported for the gate to fail closed on.

    A stat, not an open: opening a FIFO put there would block the gate.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return HaltFile(path=path)
    except OSError as exc:
        return HaltFile(path=path, error=exc.strerror or type(exc).__name__)
    except ValueError as exc:  # an embedded NUL byte
        return HaltFile(path=path, error=str(exc))
    if stat.S_ISDIR(mode):
        return HaltFile(path=path, error="is a directory")
    return HaltFile(path=path, present=True)
