"""Running `.venv/bin/stratgate` as a user does: a subprocess with its own STRATGATE_HOME."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from store.sqlite import SqliteStore

STRATGATE = Path(sys.prefix, "bin", "stratgate")
# Configuration and the trading runtime's environment are exactly what each test says.
UNSET = (
    "TEMPORAL_ADDRESS",
    "STRATGATE_DB",
    "STRATGATE_STORE",
    "EXECUTION_HALTED",
    "EXECUTION_HALT_FILE",
    "TRADING_MODE",
    "BROKER_HOST",
)


def sg(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`stratgate *args` with STRATGATE_HOME=home and `env` on top of a cleaned environment."""
    full = {k: v for k, v in os.environ.items() if k not in UNSET}
    full.update(STRATGATE_HOME=str(home), **env)
    return subprocess.run(
        [str(STRATGATE), *args], capture_output=True, text=True, env=full, timeout=60
    )


def ok(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def refused(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """Exit code 2 and one line on stderr that names the field and says why."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    line = result.stderr.strip()
    assert line.startswith("error: ") and "\n" not in line, line
    assert all(w in line for w in words), line
    return line


def in_store(home: Path, fn: Any) -> Any:
    async def go() -> Any:
        store = SqliteStore(home / "stratgate.db")
        try:
            return await fn(store)
        finally:
            await store.close()

    return asyncio.run(go())
