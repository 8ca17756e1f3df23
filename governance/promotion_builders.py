"""Builders for what a promotion request writes: its request doc and its stage change."""

from __future__ import annotations

from datetime import datetime

from governance.limits import LimitEnvelope
from governance.live import enablement_until
from governance.policy import PromotionPolicy
from governance.promotion import PromotionInput, approved_by, is_live_renewal, needs_live_token
from governance.records import (
    Approval,
    EvidenceRef,
    MetricsSnapshot,
    PromotionRequest,
    RequestStatus,
    RuntimeFingerprint,
)
from governance.report import EligibilityReport
from governance.stage_change import StageChange
from governance.stages import Decision, LifecycleStage


def metrics_snapshot(report: EligibilityReport | None) -> MetricsSnapshot:
    if report is None:
        return MetricsSnapshot()
    return MetricsSnapshot(
        window_start=report.window_start,
        window_end=report.window_end,
        metrics={c.name: c.value for c in report.criteria},
        metrics_hash=report.metrics_hash,
        waivers=report.waivers,
    )


def evidence_refs(report: EligibilityReport | None) -> list[EvidenceRef]:
    if report is None:
        return []
    # The report by its hash, and the evidence it was computed from by theirs: a decision can
    # be recomputed later from what the record cites.
    return [
        EvidenceRef(kind="eligibility_report", id=report.metrics_hash, sha256=report.metrics_hash),
        *report.evidence,
    ]


def promotion_change(
    *,
    request: PromotionInput,
    from_stage: LifecycleStage,
    expected_last_record_id: str | None,
    record_id: str,
    audit_event_id: str,
    policy_version: str,
    approvals: list[Approval],
    report: EligibilityReport | None,
    now: datetime,
    live_enabled_until: datetime | None = None,
    fingerprint: RuntimeFingerprint | None = None,
    policy: PromotionPolicy | None = None,
    policy_hash: str | None = None,
) -> StageChange:
    """With `policy` (the one the request was decided under), a promotion to LIVE gets its
    enablement period and a promotion into PAPER or LIVE its limit envelope from it."""
    unfreeze = request.decision == Decision.UNFREEZE
    limit_envelope = None
    if policy is not None:
        limit_envelope = limit_snapshot(request, policy)
        if needs_live_token(request):
            live_enabled_until = enablement_until(now, policy.live_controls.enablement_seconds)
    return StageChange(
        tenant_id=request.tenant_id,
        uid=request.uid,
        strategy_id=request.strategy_id,
        record_id=record_id,
        audit_event_id=audit_event_id,
        decision=request.decision,
        expected_from_stage=from_stage,
        expected_last_record_id=expected_last_record_id,
        to_stage=request.to_stage,
        reason_code=_reason_code(request, from_stage),
        policy_version=policy_version,
        requested_by=request.requested_by,
        requested_at=request.requested_at,
        effective_at=now,
        approved_by=approved_by(approvals),
        metrics_snapshot=metrics_snapshot(report),
        evidence_refs=evidence_refs(report),
        runtime_fingerprint=fingerprint or RuntimeFingerprint(),
        set_freeze=False if unfreeze else None,
        live_enabled_until=live_enabled_until,
        request_id=request.request_id,
        request_status=RequestStatus.APPROVED,
        correlation_id=request.correlation_id or request.request_id,
        audit_details={"request_id": request.request_id, "reason": request.reason},
        limit_envelope=limit_envelope,
        policy_hash=policy_hash,
    )


def limit_snapshot(request: PromotionInput, policy: PromotionPolicy) -> LimitEnvelope | None:
    """The envelope a promotion into PAPER or LIVE (a LIVE renewal too) puts on record."""
    if request.decision != Decision.PROMOTE:
        return None
    return policy.limit_envelope_for(request.to_stage)


def request_doc(
    request: PromotionInput,
    *,
    from_stage: LifecycleStage | None,
    status: RequestStatus,
    status_reason: str | None,
    approvals: list[Approval],
    report: EligibilityReport | None,
    workflow_id: str,
    record_id: str | None,
    now: datetime,
) -> PromotionRequest:
    return PromotionRequest(
        request_id=request.request_id,
        tenant_id=request.tenant_id,
        uid=request.uid,
        strategy_id=request.strategy_id,
        decision=request.decision,
        from_stage=from_stage or request.to_stage,
        to_stage=request.to_stage,
        requested_at=request.requested_at,
        requested_by=request.requested_by,
        reason=request.reason,
        status=status,
        status_reason=status_reason,
        approvals=approvals,
        evidence_refs=evidence_refs(report),
        workflow_id=workflow_id,
        record_id=record_id,
        updated_at=now,
    )


def _reason_code(request: PromotionInput, from_stage: LifecycleStage) -> str:
    if request.decision == Decision.UNFREEZE:
        return "unfreeze_approved"
    if is_live_renewal(request, from_stage):
        return "live_enablement_renewed"
    return "promotion_ready"
