"""Evidence files are validated whole; reports judge generated strategies correctly."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from evidence.errors import EvidenceSchemaError
from evidence.files import FileEvidenceSource
from evidence.synthetic import Spec, generate
from governance.eligibility import build_report
from governance.hashing import canonical_hash
from governance.policy import default_policy
from governance.report import EligibilityReport, Verdict
from governance.stages import LifecycleStage as S

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
SPEC = Spec(sessions=25, symbols=30, evals_per_session=300, end=date(2026, 11, 24))
HEADER = "ts,symbol,score,action,confidence,valid,error,fwd_return\n"
GOOD = "2026-11-20T15:00:00Z,AAPL,0.4,BUY,0.7,true,false,0.002\n"


def test_csv_refused_naming_file_row_and_column(tmp_path: Path) -> None:
    source = FileEvidenceSource(tmp_path / "ev")
    cases = {
        "bad_action.csv": (HEADER + GOOD + GOOD.replace("BUY", "MAYBE"), 2, "action"),
        "bad_ts.csv": (HEADER + GOOD + GOOD.replace("2026-11-20T15:00:00Z", "yesterday"), 2, "ts"),
        "bad_conf.csv": (HEADER + GOOD * 3 + GOOD.replace("0.7", "1.7"), 4, "confidence"),
        "bad_bool.csv": (HEADER + GOOD.replace("true", "perhaps"), 1, "valid"),
        "no_score.csv": (
            HEADER.replace("score,", "") + "2026-11-20T15:00:00Z,AAPL,BUY,0.7,true,false,0.1\n",
            None,
            "score",
        ),
    }
    for name, (text, row, column) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(EvidenceSchemaError) as refused:
            source.ingest("t", "u", "s", "signal_evaluations", path)
        assert (refused.value.file.name, refused.value.row, refused.value.column) == (
            name,
            row,
            column,
        )
        assert name in refused.value.message
    assert not (tmp_path / "ev").exists()  # nothing partial was kept


def test_ingest_then_load_round_trip(tmp_path: Path) -> None:
    source = FileEvidenceSource(tmp_path)
    path = tmp_path / "good.csv"
    path.write_text(HEADER + GOOD + GOOD.replace("BUY", "HOLD").replace("0.4", ""))
    ref, rows = source.ingest("t", "u", "s", "signal_evaluations", path)
    assert rows == 2 and len(ref.sha256) == 64
    bundle = source.load("t", "u", "s")
    assert bundle.signals is not None and len(bundle.signals) == 2
    assert bundle.signals.action.tolist() == ["BUY", "HOLD"]
    assert bundle.refs[0].sha256 == ref.sha256


def report(
    source: FileEvidenceSource, strategy: str, to: S, entered: datetime, **policy: object
) -> EligibilityReport:
    p = default_policy().model_copy(update=policy) if policy else default_policy()
    frm = {S.SHADOW: S.OBSERVE, S.PAPER: S.SHADOW, S.LIVE: S.PAPER}[to]
    return build_report(
        bundle=source.load("t", "u", strategy),
        policy=p,
        from_stage=frm,
        target_stage=to,
        stage_entered_at=entered,
        now=NOW,
    )


def test_edge_is_eligible_and_noise_ineligible_naming_criteria(tmp_path: Path) -> None:
    source = FileEvidenceSource(tmp_path)
    entered, _ = generate(source, "t", "u", "edge", SPEC)
    generate(source, "t", "u", "noise", replace(SPEC, edge=0.0, seed=11))
    for to in (S.SHADOW, S.PAPER, S.LIVE):
        good = report(source, "edge", to, entered.to_pydatetime())
        assert good.verdict == Verdict.ELIGIBLE, (to, good.reasons)
    bad = report(source, "noise", S.SHADOW, entered.to_pydatetime())
    assert bad.verdict == Verdict.INELIGIBLE
    failed = {c.name for c in bad.criteria if not c.passed}
    assert failed & {"ic_mean", "hit_rate"} and all(
        any(f in r for f in failed) for r in bad.reasons
    )
    body = good.model_dump(mode="json", exclude={"series", "metrics_hash"})
    assert good.metrics_hash == canonical_hash(body)
    assert all(e.sha256 for e in good.evidence)


def test_short_window_waits_and_a_critical_breaker_restarts_it(tmp_path: Path) -> None:
    source = FileEvidenceSource(tmp_path)
    entered, _ = generate(source, "t", "u", "edge", SPEC)
    assert report(source, "edge", S.SHADOW, entered.to_pydatetime()).verdict == Verdict.ELIGIBLE
    risk = tmp_path / "risk.csv"
    risk.write_text(
        "ts,kind,severity,event_id\n2026-11-20T16:00:00Z,daily_loss_limit_breached,critical,r1\n"
        "2026-11-21T16:00:00Z,circuit_breaker_warning,warning,r2\n"
    )
    source.ingest("t", "u", "edge", "risk_events", risk)
    after = report(source, "edge", S.SHADOW, entered.to_pydatetime())
    assert after.verdict == Verdict.WAITING
    assert after.window.restarted_at is not None
    assert after.window.restarted_at.isoformat().startswith("2026-11-20T16:00:00")
    assert after.window.restarted_by == "r1 (daily_loss_limit_breached)"
    assert after.window.sessions < 5 and any("sessions" in r for r in after.reasons)
