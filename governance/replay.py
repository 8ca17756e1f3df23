"""Decision replay: a record's recorded eligibility report against one recomputed from what the
record cites (its evidence by id and hash, its policy version, its window).

Values compare exactly for counts (units `count`, `days`, `fills`, `buckets`) and within
FLOAT_TOLERANCE, relative to max(1, |recorded|), for every other unit: the metric code is
deterministic, so a recomputation on the same files is expected to be equal to the bit, and the
tolerance only absorbs a float printed and read back. `metrics_hash` is compared exactly: it is
the canonical hash of the whole report (criteria, window, verdict, evidence refs).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, computed_field

from governance.records import EvidenceRef, PromotionRecord
from governance.report import CriterionStatus, EligibilityReport, Verdict, report_hash
from governance.risk_events import StoredRiskEvent, risk_history

FLOAT_TOLERANCE = 1e-12
COUNT_UNITS = frozenset({"count", "days", "fills", "buckets"})
# Evidence refs a record cites that are not evidence files: the report itself, and the stored
# risk history (a hash over the events the store kept, checked on its own).
REPORT_KIND = "eligibility_report"
RISK_HISTORY_KIND = "risk_history"
TOLERANCE_TEXT = (
    f"counts ({', '.join(sorted(COUNT_UNITS))}) exactly; other values within "
    f"{FLOAT_TOLERANCE:g} x max(1, |recorded|)"
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileStatus(StrEnum):
    VERIFIED = "verified"  # present, and its content hashes to what the record cites
    MISSING = "missing"
    ALTERED = "altered"
    UNVERIFIED = "unverified"  # present, but no stored digest of its content to check against


class CitedFile(_Model):
    """One piece of evidence the record cites, and what was found under its id and hash."""

    kind: str
    id: str
    sha256: str
    status: FileStatus
    reason: str = ""

    @property
    def usable(self) -> bool:
        return self.status in (FileStatus.VERIFIED, FileStatus.UNVERIFIED)


class CriterionReplay(_Model):
    name: str
    unit: str
    recorded: float | None
    recomputed: float | None
    equal: bool
    recorded_threshold: float | None = None
    recomputed_threshold: float | None = None
    recorded_status: CriterionStatus | None = None
    recomputed_status: CriterionStatus | None = None

    # Without the stored report there is no recorded threshold or status to compare: the
    # metrics_hash (over the whole report) is then what shows they are the same.
    @property
    def threshold_equal(self) -> bool:
        recorded = self.recorded_threshold
        return recorded is None or recorded == self.recomputed_threshold

    @property
    def status_equal(self) -> bool:
        return self.recorded_status is None or self.recorded_status == self.recomputed_status


class Explanation(_Model):
    """A decision replayed, or why it needs none (a demotion, freeze or breaker record)."""

    tenant_id: str
    record_id: str
    uid: str
    strategy_id: str
    decision: str
    from_stage: str
    to_stage: str
    reason_code: str
    evaluated: bool
    no_evaluation: str | None = None  # "no evaluation: decided by <reason_code>"
    policy_version: str | None = None
    policy_found: bool = False
    problems: list[str] = Field(default_factory=list)  # what kept the replay from being whole
    notes: list[str] = Field(default_factory=list)  # worth knowing, not a difference
    files: list[CitedFile] = Field(default_factory=list)
    criteria: list[CriterionReplay] = Field(default_factory=list)
    recorded_verdict: Verdict | None = None
    recomputed_verdict: Verdict | None = None
    metrics_hash: str | None = None
    recomputed_metrics_hash: str | None = None
    stored_report_intact: bool | None = None  # the ReportStore's copy hashes to metrics_hash
    tolerance: str = TOLERANCE_TEXT

    @computed_field  # type: ignore[prop-decorator]
    @property
    def metrics_hash_matches(self) -> bool:
        return self.metrics_hash is not None and self.metrics_hash == self.recomputed_metrics_hash

    @computed_field  # type: ignore[prop-decorator]
    @property
    def equal(self) -> bool:
        """Every criterion equal and the whole report's hash equal: the decision replays."""
        if not self.evaluated:
            return True
        return (
            not self.problems
            and all(c.equal and c.threshold_equal and c.status_equal for c in self.criteria)
            and self.metrics_hash_matches
        )


def needs_evaluation(record: PromotionRecord) -> bool:
    """Whether the record was decided on an eligibility report it cites."""
    cited = any(r.kind == REPORT_KIND for r in record.evidence_refs)
    return cited and record.metrics_snapshot.metrics_hash is not None


def replay_window(
    record: PromotionRecord, recorded: EligibilityReport | None
) -> tuple[datetime | None, datetime]:
    """The stage entry and evaluation time that give the recorded window again.

    The window starts at the stage entry, or just after the last critical risk event since
    then; from any entry before that event the last one is the same, so a day before it
    serves where the window was restarted. Without the stored report, the snapshot's start.
    """
    snapshot = record.metrics_snapshot
    end = recorded.window.end if recorded else snapshot.window_end
    start = recorded.window.start if recorded else snapshot.window_start
    if end is None:
        raise ValueError("the record has no evaluation window")
    if recorded is not None and recorded.window.restarted_at is not None:
        return recorded.window.restarted_at - timedelta(days=1), end
    return start, end


def cited_risk_events(
    events: list[StoredRiskEvent], refs: list[EvidenceRef], until: datetime
) -> tuple[list[StoredRiskEvent], str | None]:
    """The stored risk events the record's `risk_history` ref cites, or why none can be.

    The ref names how many events there were and the hash over them in (ts, event_id) order:
    the first that many events, or those received by the evaluation, must hash to it."""
    ref = next((r for r in refs if r.kind == RISK_HISTORY_KIND), None)
    if ref is None:
        return [], None
    count = int(ref.id.split("-", 1)[0]) if ref.id.split("-", 1)[0].isdigit() else -1
    ordered = sorted(events, key=lambda e: (e.ts, e.event_id))
    received = [e for e in ordered if e.received_at <= until]
    for candidate in (ordered[:count], received[:count], received):
        if candidate and risk_history(candidate)[1].sha256 == ref.sha256:
            return candidate, None
    return received, (
        f"risk_history {ref.id}: the stored risk events no longer hash to the cited "
        f"{ref.sha256[:16]}… (an event was removed or changed); the {len(received)} events "
        "received by the evaluation were used"
    )


def values_equal(unit: str, recorded: float | None, recomputed: float | None) -> bool:
    if recorded is None or recomputed is None:
        return recorded is None and recomputed is None
    if unit in COUNT_UNITS:
        return recorded == recomputed
    return abs(recorded - recomputed) <= FLOAT_TOLERANCE * max(1.0, abs(recorded))


def not_evaluated(record: PromotionRecord) -> Explanation:
    return Explanation(
        **_identity(record),
        evaluated=False,
        no_evaluation=f"no evaluation: decided by {record.reason_code}",
    )


def unreplayable(
    record: PromotionRecord, files: list[CitedFile], problems: list[str], policy_found: bool
) -> Explanation:
    """A record whose report could not be recomputed at all (no policy under its version)."""
    snapshot = record.metrics_snapshot
    return Explanation(
        **_identity(record),
        evaluated=True,
        policy_found=policy_found,
        problems=problems,
        files=files,
        criteria=[
            CriterionReplay(name=n, unit="", recorded=v, recomputed=None, equal=False)
            for n, v in snapshot.metrics.items()
        ],
        metrics_hash=snapshot.metrics_hash,
    )


def compare(
    record: PromotionRecord,
    *,
    recorded: EligibilityReport | None,
    recomputed: EligibilityReport,
    files: list[CitedFile],
    problems: list[str],
) -> Explanation:
    """Criterion by criterion: the record's snapshot (and the stored report, when the store
    still holds it: thresholds and statuses) against the recomputed report."""
    snapshot = record.metrics_snapshot
    mine = {c.name: c for c in recomputed.criteria}
    theirs = {c.name: c for c in recorded.criteria} if recorded is not None else {}
    names = list(snapshot.metrics) + [n for n in mine if n not in snapshot.metrics]
    rows = []
    for name in names:
        again, then = mine.get(name), theirs.get(name)
        unit = (again or then).unit if (again or then) is not None else ""  # type: ignore[union-attr]
        value = snapshot.metrics.get(name)
        rows.append(
            CriterionReplay(
                name=name,
                unit=unit,
                recorded=value,
                recomputed=again.value if again else None,
                equal=again is not None
                and name in snapshot.metrics
                and values_equal(unit, value, again.value),
                recorded_threshold=then.threshold if then else None,
                recomputed_threshold=again.threshold if again else None,
                recorded_status=then.status if then else None,
                recomputed_status=again.status if again else None,
            )
        )
    intact = None if recorded is None else report_hash(recorded) == snapshot.metrics_hash
    found, notes = list(problems), []
    if recorded is None:
        notes.append(
            f"the report {snapshot.metrics_hash} is not in the report store: thresholds and "
            "statuses are compared through metrics_hash only"
        )
    elif not intact:
        found.append("the stored report no longer hashes to the record's metrics_hash")
    return Explanation(
        **_identity(record),
        evaluated=True,
        policy_found=True,
        problems=found,
        notes=notes,
        files=files,
        criteria=rows,
        recorded_verdict=recorded.verdict if recorded is not None else None,
        recomputed_verdict=recomputed.verdict,
        metrics_hash=snapshot.metrics_hash,
        recomputed_metrics_hash=recomputed.metrics_hash,
        stored_report_intact=intact,
    )


def _identity(record: PromotionRecord) -> dict[str, str | None]:
    return {
        "tenant_id": record.tenant_id,
        "record_id": record.record_id,
        "uid": record.uid,
        "strategy_id": record.strategy_id,
        "decision": str(record.decision),
        "from_stage": str(record.from_stage),
        "to_stage": str(record.to_stage),
        "reason_code": record.reason_code,
        "policy_version": record.policy_version,
    }
