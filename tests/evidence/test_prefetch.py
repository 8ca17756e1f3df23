"""The CLI's prefetch: `stratgate evidence report` forks a child that summarises the strategy's
signal files while the report imports. The report is the same with it and without it, reads what
the child kept instead of computing it again, and never leaves the child behind; anything but a
report of plain ids forks nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from evidence import partials, prefetch
from tests.cli.support import ok, refused, sg

ROOT = Path(__file__).resolve().parents[2]
WHERE = ("--tenant", "t", "--uid", "u", "--strategy", "s")
IDS = ("t", "u", "s")


def kept(home: Path) -> Path:
    return home / "evidence" / "t" / "u" / "s" / "signal_evaluations" / partials.FOLDER


def home_with_evidence(tmp_path: Path, policy: bool = True) -> Path:
    home = tmp_path / "home"
    ok(sg(home, "strategy", "register", *WHERE, "--since", "2026-10-01T00:00:00+00:00", "--json"))
    assert sg(home, "evidence", "generate", *WHERE, "--sessions", "4").returncode == 0
    if policy:
        defaults = ok(sg(home, "policy", "show", "--defaults", "--json"))
        (tmp_path / "p.json").write_text(json.dumps(defaults))
        assert sg(home, "policy", "set", "--tenant", "t", str(tmp_path / "p.json")).returncode == 0
    shutil.rmtree(kept(home), ignore_errors=True)  # none kept: as after a change of code
    return home


def criteria(report: dict[str, object]) -> list[tuple[object, ...]]:
    rows = report["criteria"]
    assert isinstance(rows, list) and rows
    return [(c["name"], c["value"], c["status"]) for c in rows]


@pytest.mark.parametrize(
    ("args", "ids"),
    [
        (["evidence", "report", *WHERE, "--to", "SHADOW"], IDS),
        (["evidence", "report", "--tenant=t", "--uid=u", "--strategy=s"], IDS),
        (["evidence", "ingest", *WHERE], None),
        (["evidence", "report", "--tenant", "t", "--uid", "u"], None),
        (["evidence", "report", "--tenant", "..", "--uid", "u", "--strategy", "s"], None),
        (["evidence", "report", "--tenant", "t", "--uid", "u", "--strategy", "a/b"], None),
        (["evidence", "report", "--tenant", "t", "--uid", "u", "--strategy"], None),
    ],
)
def test_only_a_report_of_plain_ids_is_prefetched(
    args: list[str], ids: tuple[str, str, str] | None
) -> None:
    assert prefetch.report_ids(args) == ids


def test_the_report_is_the_same_with_and_without_it(tmp_path: Path) -> None:
    home = home_with_evidence(tmp_path)
    args = ("evidence", "report", *WHERE, "--to", "SHADOW", "--json")
    without = ok(sg(home, *args, STRATGATE_EVIDENCE_PREFETCH="0"))
    assert kept(home).is_dir()  # the report itself kept them
    shutil.rmtree(kept(home))
    with_it = ok(sg(home, *args))
    assert criteria(with_it) == criteria(without)
    files = sorted(kept(home).parent.glob("*.parquet"))
    assert sorted(p.name for p in kept(home).iterdir()) == [
        f"{p.stem}.{partials.version()}" for p in files
    ]


# In a fresh process, as the CLI does it: start before any thread, wait, then read.
CHILD = """
import json, sys
from evidence import partials, prefetch
pid = prefetch.start(["evidence", "report", "--tenant", "t", "--uid", "u", "--strategy", "s"])
prefetch.wait()
computed = []
if sys.argv[2] == "count":  # what the parent would summarise itself, summarising nothing
    partials.stream_days = lambda path, *a, **k: computed.append(path.name)
(path,) = sorted(p for p in __import__("pathlib").Path(sys.argv[1]).glob("*.parquet"))
try:
    days = len(partials.partials(path))
except Exception as exc:
    days = type(exc).__name__
print(json.dumps([pid is not None, computed, days]))
"""


def child(home: Path, how: str = "count", **env: str) -> list[Any]:
    folder = kept(home).parent
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(folder), how],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "STRATGATE_HOME": str(home), **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result: list[Any] = json.loads(out.stdout)
    return result


def test_the_report_reads_what_the_child_kept(tmp_path: Path) -> None:
    home = home_with_evidence(tmp_path, policy=False)
    forked, computed, days = child(home)
    assert forked and computed == [] and days == 4  # nothing summarised again in the parent
    shutil.rmtree(kept(home))
    forked, computed, days = child(home, STRATGATE_EVIDENCE_PREFETCH="0")
    assert not forked and len(computed) == 1  # turned off: the reader summarises it itself


def test_a_bad_file_is_left_to_the_report(tmp_path: Path) -> None:
    home = home_with_evidence(tmp_path, policy=False)
    (path,) = kept(home).parent.glob("*.parquet")
    path.write_bytes(b"not parquet")
    forked, _, days = child(home, "real")
    assert forked and days == "ArrowInvalid"  # the child kept nothing; the parent's read says why
    assert not kept(home).exists() or not any(kept(home).iterdir())


def test_a_refused_report_waits_for_its_child(tmp_path: Path) -> None:
    home = home_with_evidence(tmp_path, policy=False)
    refused(sg(home, "evidence", "report", *WHERE, "--to", "SHADOW"), "policy")
    # The command ended after its child: the summaries are kept whole, no temporary left.
    (summary,) = kept(home).iterdir()
    assert summary.name.endswith("." + partials.version())
    whole = ["confidence.f64", "counts.npy", "hits.bool", "ic.npy", "meta.npy"]
    assert sorted(p.name for p in summary.iterdir()) == whole


def test_a_strategy_without_signal_files_forks_nothing(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("STRATGATE_EVIDENCE_DIR", str(tmp_path / "ev"))
    assert prefetch.start(["evidence", "report", *WHERE]) is None
    (tmp_path / "ev" / "t" / "u" / "s" / "signal_evaluations").mkdir(parents=True)
    assert prefetch.start(["evidence", "report", *WHERE]) is None
    prefetch.wait()  # nothing to wait for
