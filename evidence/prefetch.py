"""A report's signal summaries, computed in a child process while the report does its imports.

`stratgate evidence report` is a fresh process. Its imports (pydantic's models, the store, typer)
take about 0.25 s of one core, holding the GIL; summarising files with no kept summaries is about
0.6 s of CPU over both cores. A thread beside the imports gained nothing (0.98-1.13x, measured
over three sessions): it waited for the GIL between NumPy calls. So the CLI forks first, while
the process has no other thread (fork is safe then), and the child summarises the strategy's
signal files and keeps the summaries (evidence.partials writes each under a temporary name and
renames it, so two writers can race) while the parent imports. The report waits for the child,
then reads what it kept. The child computes only what the report would (the same files, the same
function); if it fails, or this system has no fork, the report computes them itself.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import data_dirs

KIND = "signal_evaluations"
# Ids taken from the command line before any check: only plain names make a path here (the
# report itself refuses what is not registered; nothing is summarised outside the evidence root).
PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
SWITCH = "STRATGATE_EVIDENCE_PREFETCH"

_child: int | None = None


def report_ids(args: Sequence[str]) -> tuple[str, str, str] | None:
    """Tenant, uid and strategy of an `evidence report` command line whose three ids are given
    plainly (`--tenant T` or `--tenant=T`) and are plain names; None for anything else."""
    if list(args[:2]) != ["evidence", "report"]:
        return None
    ids: dict[str, str] = {}
    for i, arg in enumerate(args[2:], start=2):
        name, eq, value = arg.partition("=")
        if name in ("--tenant", "--uid", "--strategy"):
            if not eq:
                value = args[i + 1] if i + 1 < len(args) else ""
            ids.setdefault(name, value)
    found = (ids.get("--tenant", ""), ids.get("--uid", ""), ids.get("--strategy", ""))
    return found if all(PLAIN.fullmatch(i) for i in found) else None


def start(args: Sequence[str]) -> int | None:
    """Fork the child that summarises a report's files (its pid), or None: not a report of
    plain ids, turned off (`STRATGATE_EVIDENCE_PREFETCH=0`), or no fork here. Call it before
    any thread starts; `wait()` before reading the summaries and before the process ends."""
    global _child
    ids = report_ids(args)
    if ids is None or os.environ.get(SWITCH) == "0" or not hasattr(os, "fork"):
        return None
    folder = data_dirs.evidence_dir(os.environ).joinpath(*ids, KIND)
    if not _signal_files(folder):
        return None
    pid = os.fork()
    if pid:
        _child = pid
        return pid
    code = 1
    try:
        _summarise(folder)
        code = 0
    finally:
        os._exit(code)  # the parent's buffers, atexit hooks and exit code are the parent's


def wait() -> None:
    """Wait for the child, if one was started and not yet waited for."""
    global _child
    pid, _child = _child, None
    if pid is not None:
        os.waitpid(pid, 0)


def _signal_files(folder: Path) -> list[Path]:
    """The folder's stored signal files, in FileEvidenceSource.files' order (none if absent).

    Whether their summaries are kept is the child's to find out: the name of a kept summary
    holds the metric code's version, which NumPy's CPU features are part of, and the parent has
    not imported NumPy. A child that finds them kept ends at once: ~30 ms more of a warm report's
    wall time, ~0.1 s of CPU on the other core, against ~65 ms less of a cold one."""
    try:
        return sorted(folder.glob("[0-9a-f]*.parquet"))
    except OSError:
        return []


def _summarise(folder: Path) -> None:
    from evidence.partials import partials

    for path in _signal_files(folder):
        try:
            partials(path)
        except Exception:  # the report's own read meets it again and says why
            continue
