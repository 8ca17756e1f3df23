"""The `stratgate` command's first module: only what must come before everything else.

`evidence report` forks its prefetch child here (evidence.prefetch), before cli.main and typer
are imported (~40 ms the child's summary would otherwise wait for); the CPU and malloc tunings
come first, so the child's NumPy is tuned like the parent's.
"""

from __future__ import annotations

import sys

import cpu_tuning  # noqa: F401  (first: NumPy reads its CPU switch when first imported)
import malloc_tuning  # noqa: F401  (before NumPy allocates: glibc keeps freed arrays)
from evidence import prefetch


def main() -> None:
    prefetch.start(sys.argv[1:])  # `evidence report`: its summaries in a child, now
    from cli.main import main as run

    run()
