"""Where stratgate keeps its data, from the environment: STRATGATE_HOME and the evidence root.

Apart from settings.py because the CLI's prefetch (evidence.prefetch) needs the evidence root
in a process that has not imported pydantic yet, and must not wait for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import platformdirs


def home(env: Mapping[str, str]) -> Path:
    """STRATGATE_HOME, or the user's data directory."""
    return Path(env.get("STRATGATE_HOME") or platformdirs.user_data_dir("stratgate"))


def evidence_dir(env: Mapping[str, str]) -> Path:
    """STRATGATE_EVIDENCE_DIR, or `evidence` under the home."""
    return Path(env.get("STRATGATE_EVIDENCE_DIR") or home(env) / "evidence")
