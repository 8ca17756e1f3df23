"""NumPy's sorts on AMD Zen 4: take the AVX2 kernels, not the AVX-512 ones.

NumPy dispatches `sort` and `argsort` to x86-simd-sort's AVX-512 kernels on any CPU that has
AVX-512. Their partition step stores with `vpcompress` to memory, which Zen 4 runs in microcode
(over 100 cycles an instruction; numpy/x86-simd-sort#6), so on Zen 4 a sort of 500,000 int64 takes
24 ms with them and 5 ms with the AVX2 kernels. Sorting is most of an evidence report computed
from rows (two rank sorts and a confidence sort per day), so on Zen 4 every stratgate entry point
turns NumPy's AVX-512 targets off with its own switch, `NPY_DISABLE_CPU_FEATURES`, which NumPy reads
once, when it is first imported: this module must be imported before NumPy is (the first
first-party import of `cli.main`, `worker`, `api.app` and the benchmarks).

Zen 4 is AMD family 25 with AVX-512 (Zen 3, the same family, has none; Zen 5 is family 26 and
does not need this). A `NPY_DISABLE_CPU_FEATURES` already set (even empty) is the operator's
choice and left alone. Results do not depend on it (sorts are exact); the kept per-day summaries
are keyed by the CPU features NumPy uses anyway (evidence.partials.code_version).

OpenBLAS, which NumPy carries, starts a thread per core when NumPy is imported, and those threads
spin before they sleep: about 90 ms of CPU on this 2-core machine in every process, most of a
second core while the imports run. stratgate never calls BLAS on a hot path (the IC's dot
products are einsum, governance.metrics.ranking) and does its parallel work on its own threads
(two summarisers, evidence.partials), so every entry point asks OpenBLAS for one thread
(`OPENBLAS_NUM_THREADS=1`), unless the operator chose a count (it, or `OMP_NUM_THREADS`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, MutableMapping
from pathlib import Path

SWITCH = "NPY_DISABLE_CPU_FEATURES"
AVX512_TARGETS = "X86_V4 AVX512_ICL AVX512_SPR"
# What OpenBLAS reads for its thread count, first to last.
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")


def is_zen4(cpuinfo: str) -> bool:
    """Whether /proc/cpuinfo's first processor is an AMD Zen 4 (family 25 with AVX-512)."""
    fields: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        if not line.strip():
            break  # the first processor is enough: cores of one machine are alike
        name, _, value = line.partition(":")
        fields[name.strip()] = value.strip()
    return (
        fields.get("vendor_id") == "AuthenticAMD"
        and fields.get("cpu family") == "25"
        and "avx512f" in fields.get("flags", "").split()
    )


def sorts_off(
    cpuinfo: Path = Path("/proc/cpuinfo"),
    environ: MutableMapping[str, str] = os.environ,
    modules: Mapping[str, object] = sys.modules,
) -> bool:
    """Turn NumPy's AVX-512 targets off on Zen 4, if NumPy is not imported yet and the switch is
    unset. Returns whether it did."""
    if "numpy" in modules or SWITCH in environ:
        return False
    try:
        text = cpuinfo.read_text()
    except OSError:  # not Linux: nothing to tune
        return False
    if not is_zen4(text):
        return False
    environ[SWITCH] = AVX512_TARGETS  # children (`stratgate up`'s worker) inherit it too
    return True


def one_blas_thread(
    environ: MutableMapping[str, str] = os.environ, modules: Mapping[str, object] = sys.modules
) -> bool:
    """Ask OpenBLAS for one thread, if NumPy is not imported yet (OpenBLAS reads it when it is
    loaded) and no thread count is set. Returns whether it did."""
    if "numpy" in modules or any(name in environ for name in BLAS_THREADS):
        return False
    environ[BLAS_THREADS[0]] = "1"  # inherited by children too
    return True


def apply() -> None:
    sorts_off()
    one_blas_thread()


apply()
