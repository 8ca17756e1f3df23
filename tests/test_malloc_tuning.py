"""malloc_tuning: glibc keeps the arrays NumPy frees, so the next day's arrays fault no pages in,
and an operator's own malloc settings are left alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import malloc_tuning

ROOT = Path(__file__).resolve().parents[1]
# A day's columns (6 of 500,000 float64, 4 MB each) made together and freed together, again and
# again, as a summary does: the page faults of the last 20 rounds (the kernel's count).
ROUNDS = """
import resource, sys
{first}
import numpy as np
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
def day():
    columns = [np.ones(500_000) for _ in range(6)]
    return sum(c.sum() for c in columns)
for _ in range(5):
    day()
before = faults()
for _ in range(20):
    day()
print(faults() - before)
"""


def _faults(first: str, **env: str) -> int:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    base.pop("GLIBC_TUNABLES", None)
    out = subprocess.run(
        [sys.executable, "-c", ROUNDS.format(first=first)],
        env={**base, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout)


@pytest.mark.skipif(not malloc_tuning.is_glibc(), reason="glibc's malloc only")
def test_freed_arrays_are_reused_without_page_faults() -> None:
    pages = 6 * 500_000 * 8 // 4096  # one day's pages: ~5,900
    untuned = _faults("pass")
    tuned = _faults("import cli.main")  # the `stratgate` command's first import tunes it
    assert untuned >= 10 * pages  # the rounds fault their pages in again
    assert tuned < pages  # the rounds reuse the same memory


def test_an_operators_malloc_settings_are_left_alone() -> None:
    for env in (
        {"MALLOC_MMAP_THRESHOLD_": "131072"},
        {"MALLOC_TRIM_THRESHOLD_": "0"},
        {"GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=131072"},
    ):
        assert malloc_tuning.apply(env) is False
    assert malloc_tuning.apply({"GLIBC_TUNABLES": "glibc.rtld.optional_static_tls=1"}) is (
        malloc_tuning.is_glibc()
    )
