"""Benchmarks (`python -m bench NAME`), each step run as a stratgate process would be."""

import cpu_tuning  # noqa: F401  (first: NumPy reads its CPU switch when first imported)
import malloc_tuning  # noqa: F401  (before NumPy allocates: glibc keeps freed arrays)
