"""The CLI's prefetch of a report's signal summaries: it computes what the report would, once,
and only for `evidence report` with plain ids."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from cli.main import _prefetch
from evidence import partials, prefetch
from evidence.files import FileEvidenceSource
from governance.stages import LifecycleStage as S
from tests.evidence.test_incremental import evidence, report, same, write_parquet

FOLDER = "t/u/s/signal_evaluations"


def ingested(tmp_path: Path) -> tuple[FileEvidenceSource, Any]:
    signals, _, _, entered = evidence(5)
    source = FileEvidenceSource(tmp_path / "ev")
    source.ingest(
        "t", "u", "s", "signal_evaluations", write_parquet(tmp_path / "a.parquet", signals)
    )
    shutil.rmtree(tmp_path / "ev" / FOLDER / partials.FOLDER)  # as after a change of code
    return source, entered


def test_two_askers_of_one_file_summarise_it_once(tmp_path: Path, monkeypatch: Any) -> None:
    source, _ = ingested(tmp_path)
    (path,) = source.files("t", "u", "s", "signal_evaluations")
    calls: list[Path] = []
    real = partials.stream_days

    def slow(p: Path, sink: Any, *args: Any, **kwargs: Any) -> None:
        calls.append(p)
        time.sleep(0.3)  # both askers are in partials() while the first summarises
        real(p, sink, *args, **kwargs)

    monkeypatch.setattr(partials, "stream_days", slow)
    out: list[Any] = []
    askers = [threading.Thread(target=lambda: out.append(partials.partials(path))) for _ in "ab"]
    for a in askers:
        a.start()
    for a in askers:
        a.join()
    assert calls == [path]
    assert [len(days) for days in out] == [len(out[0])] * 2 and out[0]


def test_the_prefetch_keeps_what_the_report_reads(tmp_path: Path, monkeypatch: Any) -> None:
    source, entered = ingested(tmp_path)
    cold = report(source, "open", S.SHADOW, entered)  # computed by the report itself
    shutil.rmtree(tmp_path / "ev" / FOLDER / partials.FOLDER)
    monkeypatch.setenv("STRATGATE_HOME", str(tmp_path))
    monkeypatch.setenv("STRATGATE_EVIDENCE_DIR", str(tmp_path / "ev"))
    args = ["evidence", "report", "--tenant", "t", "--uid=u", "--strategy", "s", "--to", "SHADOW"]
    thread = _prefetch(args)
    assert thread is not None
    thread.join()
    (kept,) = (tmp_path / "ev" / FOLDER / partials.FOLDER).iterdir()
    assert kept.name.endswith("." + partials.version())
    calls: list[Path] = []
    monkeypatch.setattr(partials, "stream_days", lambda p, *a, **k: calls.append(p))
    same(report(source, "open", S.SHADOW, entered), cold)
    assert calls == []  # the report read the kept summaries: nothing computed again


@pytest.mark.parametrize(
    "args",
    [
        ["evidence", "ingest", "--tenant", "t", "--uid", "u", "--strategy", "s"],
        ["evidence", "report", "--tenant", "t", "--uid", "u"],
        ["evidence", "report", "--tenant", "..", "--uid", "u", "--strategy", "s"],
        ["evidence", "report", "--tenant", "t", "--uid", "u", "--strategy", "nothing-here"],
    ],
)
def test_no_prefetch_outside_a_report_of_plain_ids(
    tmp_path: Path, monkeypatch: Any, args: list[str]
) -> None:
    ingested(tmp_path)
    monkeypatch.setenv("STRATGATE_EVIDENCE_DIR", str(tmp_path / "ev"))
    assert _prefetch(args) is None
    assert not (tmp_path / "ev" / FOLDER / partials.FOLDER).exists()


def test_the_prefetch_can_be_turned_off(tmp_path: Path, monkeypatch: Any) -> None:
    ingested(tmp_path)
    monkeypatch.setenv("STRATGATE_EVIDENCE_DIR", str(tmp_path / "ev"))
    args = ["evidence", "report", "--tenant", "t", "--uid", "u", "--strategy", "s"]
    monkeypatch.setenv("STRATGATE_EVIDENCE_PREFETCH", "0")
    assert _prefetch(args) is None
    monkeypatch.delenv("STRATGATE_EVIDENCE_PREFETCH")
    thread = _prefetch(args)
    assert thread is not None
    thread.join()


def test_a_bad_file_is_left_to_the_report(tmp_path: Path) -> None:
    folder = tmp_path / "ev" / FOLDER
    folder.mkdir(parents=True)
    (folder / "ab.parquet").write_bytes(b"not parquet")
    thread = prefetch.start(tmp_path / "ev", "t", "u", "s")
    assert thread is not None
    thread.join()  # no exception escaped the thread; the report's own read will say why
    with pytest.raises(pa.ArrowInvalid):
        partials.partials(folder / "ab.parquet")
