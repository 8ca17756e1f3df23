"""A report's signal summaries, started before the report's own imports are done.

`stratgate evidence report` is a fresh process: its imports (the pydantic models, the store,
typer) take about half a second of one core, holding the GIL, while summarising a file with no
kept summaries is mostly Parquet decoding and NumPy sorts, which release it. So the CLI starts
this on a thread as soon as it knows the strategy, and the report's `partials` call later finds
the summaries kept, or waits for the summariser already at work (evidence.partials keeps one per
file in a process). It computes only what the report would: the same files, the same function.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

KIND = "signal_evaluations"
# Ids taken from the command line before any check: only plain names make a path here (the
# report itself refuses what is not registered; nothing is summarised outside the evidence root).
PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


def _summarise(folder: Path) -> None:
    from evidence.partials import partials  # imported on this thread: NumPy, Arrow

    for path in sorted(folder.glob("[0-9a-f]*.parquet")):  # FileEvidenceSource.files' order
        try:
            partials(path)
        except Exception:  # the report's own call meets it again and says so
            continue


def start(
    evidence_dir: Path, tenant_id: str, uid: str, strategy_id: str
) -> threading.Thread | None:
    """Summarise the strategy's signal files on a thread (join it before the process ends);
    None when the ids are not plain names or the strategy has no signal files."""
    if not all(PLAIN.fullmatch(i) for i in (tenant_id, uid, strategy_id)):
        return None
    folder = Path(evidence_dir) / tenant_id / uid / strategy_id / KIND
    if not folder.is_dir():
        return None
    thread = threading.Thread(target=_summarise, args=(folder,), name="evidence-prefetch")
    thread.start()
    return thread
