"""Exchange calendars' session tables kept on disk beside the evidence.

Building a calendar (exchange-calendars: pandas and holiday rules) costs most of a second of a
cold process, on every `stratgate evidence report`; the table it yields (session dates, opens,
closes) is a few kilobytes. It is kept per calendar, years and exchange-calendars version, and
handed to governance.metrics.sessions, which counts the same sessions from it.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from governance.metrics.sessions import SessionTable, provide, session_table

FOLDER = ".calendars"
# What this process has handed to governance already: governance keeps it for the process, so
# many reports in one process (a what-if over a tenant) neither reread it nor ask the
# package metadata for its version each time.
_GIVEN: set[tuple[Path, str, int, int]] = set()


def provide_sessions(root: Path, calendar: str, first_year: int, last_year: int) -> None:
    if not re.fullmatch(r"[A-Za-z0-9_-]+", calendar):
        return  # not a name to build a path from: let governance build it in memory
    key = (Path(root), calendar, first_year, last_year)
    if key not in _GIVEN:
        _provide(root, calendar, first_year, last_year)
        _GIVEN.add(key)


def _provide(root: Path, calendar: str, first_year: int, last_year: int) -> None:
    version = importlib.metadata.version("exchange-calendars")
    path = Path(root) / FOLDER / f"{calendar}-{first_year}-{last_year}-{version}.npz"
    if path.exists():
        with np.load(path) as kept:
            provide(
                SessionTable(
                    calendar, first_year, last_year, kept["days"], kept["opens"], kept["closes"]
                )
            )
        return
    table = session_table(calendar, first_year, last_year)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".incoming-", suffix=".npz", dir=path.parent)
    with os.fdopen(fd, "wb") as f:
        np.savez(f, days=table.days, opens=table.opens, closes=table.closes)
    os.replace(tmp, path)  # atomic: a concurrent reader sees the whole table or none
    provide(table)
