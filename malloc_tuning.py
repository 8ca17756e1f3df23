"""glibc's malloc keeps the memory NumPy frees for the next array, instead of handing it back.

A report computed from rows allocates and frees arrays of a few MB for every day of evidence (a
day's column of 500,000 float64 is 4 MB). By default glibc serves a block that size with its
own `mmap` and unmaps it when freed, or trims it off the top of the heap, so the next day's
arrays fault every page in again, zero-filled by the kernel. A cold `stratgate evidence report`
of 10M rows took ~103,000 page faults that way, 0.25-0.5 s of system time on this 2-core
machine, for a peak RSS of ~360 MiB.

glibc raises its thresholds by itself, but only as blocks of the right size happen to be freed;
this sets at the start the state that heuristic ends in: the mmap threshold at its largest
dynamic value (32 MiB on 64-bit, glibc's DEFAULT_MMAP_THRESHOLD_MAX) and the trim threshold at
twice it, as glibc pairs them. Measured on that report: ~44,000 page faults, peak RSS ~435 MiB
(the freed days are reused, not returned), CPU time 1.27 -> 1.04 s. A process keeps at most
64 MiB free at the top of a heap; a block of 32 MiB or more is still mapped on its own.

An operator's own setting (`MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_`, or a
`glibc.malloc` tunable) is left alone, and so is any other C library. Imported by every entry
point before NumPy allocates anything (after cpu_tuning).
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Mapping

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
MMAP_THRESHOLD = 32 * 1024 * 1024
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD
OPERATOR_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")


def is_glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") is not None
    except (ValueError, OSError, AttributeError):  # not glibc, or not a POSIX confstr
        return False


def apply(environ: Mapping[str, str] = os.environ) -> bool:
    """Set glibc's thresholds, unless the operator tuned malloc or this is not glibc. Returns
    whether it did."""
    if any(name in environ for name in OPERATOR_SETTINGS):
        return False
    if "glibc.malloc." in environ.get("GLIBC_TUNABLES", ""):
        return False
    if not is_glibc():
        return False
    libc = ctypes.CDLL(None)
    # mallopt returns 1 on success; setting the mmap threshold also stops glibc adjusting it.
    return bool(
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
        and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    )


apply()
