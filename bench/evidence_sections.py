"""Where a cold `stratgate evidence report` goes, section by section (ms), on the home
`bench evidence` left (run that first). Each row is its own fresh process, best of --repeat;
the report rows are end to end.

    .venv/bin/python -m bench.evidence_sections [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.bytecode import byte_compile
from settings import Settings

CLI = ["evidence", "report", "--tenant", "bench", "--uid", "quant", "--strategy", "s20"]
CLI += ["--to", "SHADOW", "--json"]
# In process, after imports: the file read a row group (a day) at a time, then as the report's
# NumPy columns, then summarised (read + counts + ranks + IC + confidence sort) on two threads.
SCAN = """
import sys, time, cpu_tuning, malloc_tuning
from pathlib import Path
from evidence.partials import stream_days
from evidence.signal_scan import SignalFile
f = SignalFile(Path(sys.argv[1]))
t0 = time.perf_counter()
for g in range(f.file.metadata.num_row_groups):
    f.file.read_row_group(g, columns=[c for c in f.read if c != "ts"])
t1 = time.perf_counter()
for d in f.days():
    pass
t2 = time.perf_counter()
stream_days(f.path, lambda d: None)
t3 = time.perf_counter()
print((t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3)
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.evidence_sections")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    byte_compile()  # as installed (bench/bytecode.py)
    home = Settings.from_env().home / "bench" / "evidence" / "run"
    folder = home / "evidence" / "bench" / "quant" / "s20" / "signal_evaluations"
    (stored,) = folder.glob("[0-9a-f]*.parquet")
    env = {**os.environ, "STRATGATE_HOME": str(home), "STRATGATE_STORE": "sqlite"}
    py = sys.executable
    stratgate = str(Path(py).with_name("stratgate"))

    def best(cmd: list[str], cold: bool = False, n: int = args.repeat, **extra: str) -> float:
        times = []
        for _ in range(n):
            if cold:
                shutil.rmtree(folder / ".partials", ignore_errors=True)
            start = time.perf_counter()
            subprocess.run(cmd, env={**env, **extra}, check=True, stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - start)
        return min(times) * 1e3

    rows = [
        ("interpreter start (python -c pass)", best([py, "-c", "pass"])),
        (
            "+ numpy, pyarrow, pyarrow.parquet",
            best([py, "-c", "import cpu_tuning, malloc_tuning, numpy, pyarrow.parquet"]),
        ),
        (
            "+ every import of the report path",
            best([py, "-c", "import cli.main, cli.evidence, app.evidence_report"]),
        ),
    ]
    scans = [
        subprocess.run([py, "-c", SCAN, str(stored)], env=env, check=True, capture_output=True)
        for _ in range(args.repeat)
    ]
    ms = [min(float(s.stdout.split()[i]) for s in scans) for i in range(3)]
    rows += [
        ("in process: read the row groups (decode)", ms[0]),
        ("in process: read + NumPy columns (views)", ms[1]),
        ("in process: read + summarise, 2 threads", ms[2]),
        ("report, summaries kept (warm)", best([stratgate, *CLI])),
    ]
    rows.append(("report, no kept summaries", best([stratgate, *CLI], True)))
    print(os.popen("uptime").read().strip())
    for label, value in rows:
        print(f"  {label:44} {value:8.0f} ms")


if __name__ == "__main__":
    main()
