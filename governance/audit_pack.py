"""The evidence pack: a period's ledger facts mapped to what the rules on algorithmic trading ask.

Pure assembly: the application layer reads records, audit events, policy versions and the
eligibility reports the records cite; this module selects the period's facts and shapes them
into sections, each citing the articles it answers (`ARTICLES`). The figures of the annual
self-assessment draft are computed in `governance/audit_figures.py` from these sections.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from governance.audit_lines import (
    ApprovalLine,
    Deployment,
    Halt,
    Incident,
    LimitsInForce,
    PolicyChange,
    PolicyEvent,
    StageChangeLine,
    TestLine,
)
from governance.envelope import envelope_in_force
from governance.errors import GovernanceError
from governance.policy import PromotionPolicy
from governance.records import AuditEvent, PromotionRecord, StrategyDoc
from governance.report import EligibilityReport
from governance.stages import Decision, LifecycleStage

# Section -> the provisions it maps to (docs/audit-pack.md has the same table, with why).
ARTICLES: dict[str, list[str]] = {
    "deployments": ["RTS 6 Art. 5", "RTS 6 Art. 8", "MiFID II Art. 17(2)"],
    "designated_persons": ["RTS 6 Art. 5"],
    "limits": ["RTS 6 Art. 8", "RTS 6 Art. 15", "SEC 15c3-5(c)(1)"],
    "halts": ["RTS 6 Art. 12", "SEC 15c3-5(c)(1)"],
    "demotions": ["RTS 6 Art. 16", "RTS 6 Art. 17"],
    "incidents": ["RTS 6 Art. 16", "RTS 6 Art. 9"],
    "policy_changes": ["RTS 6 Art. 1", "RTS 6 Art. 11", "MiFID II Art. 17(2)"],
    "self_assessment": ["RTS 6 Art. 9", "SEC 15c3-5(e)"],
}
EXECUTING = (LifecycleStage.PAPER, LifecycleStage.LIVE)
HALT_EVENTS = ("tenant.halted", "tenant.halt_completed", "tenant.resumed")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Period(_Model):
    """Whole UTC days, both ends included."""

    start: date
    end: date

    def contains(self, ts: datetime) -> bool:
        return self.start <= ts.astimezone(UTC).date() <= self.end

    def end_instant(self) -> datetime:
        return datetime.combine(self.end, datetime.min.time(), UTC) + timedelta(days=1)


def parse_period(start: str, end: str) -> Period:
    """`--from` and `--to` as ISO dates (YYYY-MM-DD, UTC); a bad one is refused by name."""
    days = []
    for flag, text in (("--from", start), ("--to", end)):
        try:
            days.append(date.fromisoformat(text.strip()))
        except ValueError:
            raise GovernanceError(
                f"{flag}: {text!r} is not a date (YYYY-MM-DD, UTC)",
                field=flag,
                code="invalid_request",
            ) from None
    if days[1] < days[0]:
        raise GovernanceError(
            f"--to: {days[1]} is before --from {days[0]}", field="--to", code="invalid_request"
        )
    return Period(start=days[0], end=days[1])


class PackSections(_Model):
    deployments: list[Deployment]
    limits: list[LimitsInForce]
    halts: list[Halt]
    demotions: list[StageChangeLine]
    incidents: list[Incident]
    policy_changes: list[PolicyChange]
    # `policy.*` events of the period that name no published version (e.g. a refused proposal).
    policy_events: list[PolicyEvent]


def assemble_sections(
    period: Period,
    *,
    records: Iterable[PromotionRecord],
    events: Iterable[AuditEvent],
    policies: Iterable[PromotionPolicy],
    reports: dict[str, EligibilityReport],
    strategies: Iterable[StrategyDoc],
) -> PackSections:
    records = sorted(records, key=lambda r: (r.effective_at, r.sequence))
    events = sorted(events, key=lambda e: e.ts)
    in_period = [r for r in records if period.contains(r.effective_at)]
    policy_changes, loose = _policy_changes(period, policies, events)
    return PackSections(
        deployments=[
            _deployment(r, reports.get(r.metrics_snapshot.metrics_hash or ""))
            for r in in_period
            if r.decision == Decision.PROMOTE and r.to_stage in EXECUTING
        ],
        limits=_limits_at_end(period, records, strategies),
        halts=_halts(period, events),
        demotions=[_stage_change(r) for r in in_period if r.decision == Decision.DEMOTE],
        incidents=[_incident(e) for e in events if period.contains(e.ts) and _is_incident(e)],
        policy_changes=policy_changes,
        policy_events=loose,
    )


def _name(uid: str | None, strategy_id: str | None) -> str | None:
    return f"{uid}/{strategy_id}" if uid and strategy_id else None


def _deployment(record: PromotionRecord, report: EligibilityReport | None) -> Deployment:
    snap = record.metrics_snapshot
    criteria = {c.name: c for c in report.criteria} if report else {}
    tests = []
    for name, value in snap.metrics.items():
        c = criteria.get(name)
        tests.append(
            TestLine(
                name=name,
                value=value,
                comparator=c.comparator.value if c else None,
                threshold=c.threshold if c else None,
                unit=c.unit if c else None,
                status=c.status.value if c else None,
            )
        )
    approvals = [
        ApprovalLine(
            role=a.role.value,
            person=a.uid,
            approved_at=a.approved_at,
            designated_person=bool(a.designated_person),
            comment=a.comment,
        )
        for a in record.approved_by
    ]
    last = max((a.approved_at for a in record.approved_by), default=None)
    return Deployment(
        strategy=f"{record.uid}/{record.strategy_id}",
        record_id=record.record_id,
        record_hash=record.record_hash,
        from_stage=record.from_stage,
        to_stage=record.to_stage,
        reason_code=record.reason_code,
        requested_by=record.requested_by,
        requested_at=record.requested_at,
        effective_at=record.effective_at,
        policy_version=record.policy_version,
        metrics_hash=snap.metrics_hash,
        window_start=snap.window_start,
        window_end=snap.window_end,
        verdict=report.verdict.value if report else None,
        tests=tests,
        waivers=[f"{w.criterion}: {w.reason}" for w in snap.waivers],
        approvals=approvals,
        designated_person=next((a.person for a in approvals if a.designated_person), None),
        limit_envelope=record.limit_envelope,
        approve_seconds=(last - record.requested_at).total_seconds() if last else None,
    )


def _stage_change(record: PromotionRecord) -> StageChangeLine:
    cause = "risk_event"
    if record.requested_by == "platform:circuit_breaker":
        cause = "circuit_breaker"
    elif record.reason_code == "tenant_halt":
        cause = "tenant_halt"
    return StageChangeLine(
        strategy=f"{record.uid}/{record.strategy_id}",
        record_id=record.record_id,
        effective_at=record.effective_at,
        from_stage=record.from_stage,
        to_stage=record.to_stage,
        decision=record.decision,
        reason_code=record.reason_code,
        requested_by=record.requested_by,
        freeze=record.freeze,
        cause=cause,
    )


def _is_incident(event: AuditEvent) -> bool:
    """A risk system's or the platform's report (risk.*, ops.*), or any other event that is not
    routine; stage changes, halts and policy events have sections of their own."""
    if event.event_type.startswith(("risk.", "ops.")):
        return True
    own = event.event_type.startswith(("strategy.", "tenant.", "policy."))
    return not own and event.severity.value != "info"


def _policy_actor(details: dict[str, Any]) -> str | None:
    """Who acted in a policy event: the approver (all of them on publication), else the
    proposer (governance/policy_change.py names them so)."""
    for key in ("by", "approved_by", "proposed_by"):
        value = details.get(key)
        if isinstance(value, list) and value:
            return ", ".join(str(v) for v in value)
        if value:
            return str(value)
    return None


def _text(details: dict[str, Any], key: str) -> str | None:
    value = details.get(key)
    return None if value is None else str(value)


def _incident(event: AuditEvent) -> Incident:
    d = event.details
    return Incident(
        event_id=event.event_id,
        ts=event.ts,
        event_type=event.event_type,
        severity=event.severity.value,
        strategy=_name(event.uid, event.strategy_id),
        kind=_text(d, "kind"),
        action=_text(d, "action") or _text(d, "decision"),
        explanation=_text(d, "explanation") or _text(d, "reason_code"),
        record_id=_text(d, "promotion_record_id"),
    )


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _count(value: Any) -> int | None:
    if isinstance(value, list):
        return len(value)
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _halts(period: Period, events: list[AuditEvent]) -> list[Halt]:
    """Each `tenant.halted` of the period with its completion and resumption (contract C2),
    wherever those fall: a halt's timings belong to it."""
    later: dict[tuple[str, str], AuditEvent] = {}
    for e in events:
        halt_id = _text(e.details, "halt_id")
        if e.event_type in HALT_EVENTS[1:] and halt_id:
            later.setdefault((e.event_type, halt_id), e)
    halts = []
    for e in events:
        d = e.details
        if e.event_type != "tenant.halted" or not period.contains(e.ts):
            continue
        halt_id = _text(d, "halt_id") or e.event_id
        done = later.get(("tenant.halt_completed", halt_id))
        resumed = later.get(("tenant.resumed", halt_id))
        dd = done.details if done else {}
        halts.append(
            Halt(
                halt_id=halt_id,
                halted_at=e.ts,
                reason=_text(d, "reason") or "",
                halted_by=_text(d, "halted_by") or "unknown",
                scope=_text(d, "scope") or "tenant",
                drill=d.get("drill") is True,
                completed_at=done.ts if done else None,
                gate_closed_ms=_number(dd.get("gate_closed_ms")),
                last_record_ms=_number(dd.get("last_record_ms")),
                strategies=_count(dd.get("strategies")),
                records=_count(dd.get("records")),
                preempted=_count(dd.get("preempted")),
                resumed_at=resumed.ts if resumed else None,
                resumed_by=_text(resumed.details, "by") if resumed else None,
                halted_seconds=(resumed.ts - e.ts).total_seconds() if resumed else None,
            )
        )
    return halts


def _policy_changes(
    period: Period, policies: Iterable[PromotionPolicy], events: list[AuditEvent]
) -> tuple[list[PolicyChange], list[PolicyEvent]]:
    governed = [
        PolicyEvent(
            event_type=e.event_type,
            ts=e.ts,
            by=_policy_actor(e.details) or e.correlation_id,
            details=e.details,
        )
        for e in events
        if e.event_type.startswith("policy.") and period.contains(e.ts)
    ]
    changes = []
    cited: set[int] = set()
    for policy in policies:
        mine = [
            i
            for i, ev in enumerate(governed)
            if ev.details.get("policy_version") == policy.policy_version
        ]
        published = policy.updated_at
        if not mine and (published is None or not period.contains(published)):
            continue
        cited.update(mine)
        changes.append(
            PolicyChange(
                policy_version=policy.policy_version,
                published_at=published,
                published_by=policy.updated_by,
                production=policy.production,
                designated_person_required=bool(
                    policy.approvals_for("paper_to_live").designated_person_required
                ),
                limit_envelopes={
                    "PAPER": policy.limit_envelopes.paper,
                    "LIVE": policy.limit_envelopes.live,
                },
                events=[governed[i] for i in mine],
            )
        )
    changes.sort(key=lambda c: c.published_at or datetime.min.replace(tzinfo=UTC))
    return changes, [ev for i, ev in enumerate(governed) if i not in cited]


def _limits_at_end(
    period: Period, records: list[PromotionRecord], strategies: Iterable[StrategyDoc]
) -> list[LimitsInForce]:
    """Per strategy in PAPER or LIVE when the period ends: the envelope on record for it."""
    until = [r for r in records if r.effective_at < period.end_instant()]
    by_strategy: dict[str, list[PromotionRecord]] = {}
    for r in until:
        by_strategy.setdefault(f"{r.uid}/{r.strategy_id}", []).append(r)
    docs = {f"{d.uid}/{d.strategy_id}": d for d in strategies}
    out = []
    for name in sorted(set(by_strategy) | set(docs)):
        chain = by_strategy.get(name, [])
        doc = docs.get(name)
        if chain:
            last = max(chain, key=lambda r: r.sequence)
            stage = last.to_stage
        elif doc is not None and doc.last_stage_change_record_id is None:
            stage = doc.lifecycle_stage  # registered in this stage, never changed
        else:
            continue
        if stage not in EXECUTING:
            continue
        uid, strategy_id = name.split("/", 1)
        as_of = StrategyDoc(tenant_id="-", uid=uid, strategy_id=strategy_id, lifecycle_stage=stage)
        envelope = envelope_in_force(as_of, chain)
        source = next(
            (
                r.record_id
                for r in sorted(chain, key=lambda r: -r.sequence)
                if r.limit_envelope is not None and r.limit_envelope == envelope
            ),
            None,
        )
        out.append(
            LimitsInForce(strategy=name, stage=stage, limit_envelope=envelope, record_id=source)
        )
    return out


def cited_reports(period: Period, records: Iterable[PromotionRecord]) -> list[str]:
    """The metrics hashes of the eligibility reports the period's deployments cite."""
    return sorted(
        {
            r.metrics_snapshot.metrics_hash
            for r in records
            if period.contains(r.effective_at)
            and r.decision == Decision.PROMOTE
            and r.to_stage in EXECUTING
            and r.metrics_snapshot.metrics_hash
        }
    )
