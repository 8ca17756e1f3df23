"""Run benchmarks: `python -m bench` runs all, `python -m bench NAME [args]` runs one.

Each prints its figures and a ratio against a baseline measured in the same run.
"""

from __future__ import annotations

import importlib
import os
import sys

BENCHMARKS = (
    "metrics",
    "evidence",
    "demotion_latency",
    "store",
    "what_if",
    "fleet",
    "register",
    "scale",
)


def main(argv: list[str]) -> int:
    names = [argv[0]] if argv else list(BENCHMARKS)
    if names[0] not in BENCHMARKS:
        print(f"unknown benchmark {names[0]!r}; one of: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    from bench.bytecode import byte_compile

    byte_compile()  # as installed: no benchmark times Python compiling a module it just edited
    for name in names:
        importlib.import_module(f"bench.{name}").main(argv[1:] if argv else [])
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    os._exit(code)  # a process that used Temporal may abort at interpreter exit (sdk-python #300)
