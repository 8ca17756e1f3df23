"""Everything an approver reads to decide on a request, in one read: the request's state, its
full report, window progress with expected completion, each approval's report and how it
differs from the one the decision is taken on, the policy it cites, and for an unfreeze what
froze the strategy."""

from __future__ import annotations

from pydantic import BaseModel

from app.ports import Ports
from app.requests import promotion_status
from governance.identity import Principal, require_person, require_tenant
from governance.policy import PromotionPolicy
from governance.progress import Counter, window_counters
from governance.records import Approval, AuditEvent, PromotionRecord, StrategyDoc
from governance.report import EligibilityReport
from governance.report_diff import ReportDiff, report_diff
from governance.roles import Role
from governance.stages import Decision
from workflows.promotion_state import PromotionStatus

DEFAULT_CALENDAR: str = PromotionPolicy.model_fields["calendar"].default


class ApprovalView(BaseModel):
    approval: Approval
    # How the report it was given on differs from the report the decision rests on (the
    # record's when committed, else the current one); None when it is the same report.
    diff: ReportDiff | None = None
    report_known: bool = True


class FreezeCause(BaseModel):
    reason: str | None
    record: PromotionRecord | None  # the stage change that froze the strategy
    event: AuditEvent | None  # the risk event's audit entry behind it


class RequestView(BaseModel):
    status: PromotionStatus
    strategy: StrategyDoc
    roles: list[Role]
    report: EligibilityReport | None  # with its chart series
    counters: list[Counter]
    calendar: str
    approvals: list[ApprovalView]
    decided_on: str | None  # the hash the decision rests on
    record: PromotionRecord | None
    policy: PromotionPolicy | None
    has_previous_policy: bool
    freeze: FreezeCause | None


async def request_view(
    ports: Ports, who: Principal, *, tenant_id: str, uid: str, strategy_id: str
) -> RequestView:
    require_tenant(who, tenant_id)
    require_person(who)
    store = ports.store
    strategy = await store.get_strategy(tenant_id, uid, strategy_id)
    status = await current_status(ports, who, tenant_id=tenant_id, uid=uid, strategy_id=strategy_id)
    assert strategy is not None  # promotion_status refused an unknown strategy
    roles = await store.get_approver_roles(tenant_id, who.subject) or []
    report = None
    if status.report:
        report = await store.get_evaluation_report(tenant_id, status.report.metrics_hash)
        report = report or status.report
    versions = await store.list_policy_versions(tenant_id)
    at = next((i for i, p in enumerate(versions) if p.policy_version == status.policy_version), -1)
    policy = versions[at] if at >= 0 else None
    # The calendar of the version the request cites; the current one before it has one.
    known = policy or (versions[-1] if versions else None)
    calendar = known.calendar if known else DEFAULT_CALENDAR
    record = await store.get_record(tenant_id, status.record_id) if status.record_id else None
    decided_on = record.metrics_snapshot.metrics_hash if record else None
    decided_on = decided_on or (status.report.metrics_hash if status.report else None)
    final = None
    if decided_on:
        final = await store.get_evaluation_report(tenant_id, decided_on)
    approvals = []
    cited = list(status.approvals)
    if record is not None and not cited:
        cited = [
            Approval(
                role=a.role,
                approved_by=a.uid,
                approved_at=a.approved_at,
                comment=a.comment,
                metrics_hash=a.metrics_hash,
            )
            for a in record.approved_by
        ]
    for approval in cited:
        view = ApprovalView(approval=approval)
        if approval.metrics_hash and final and approval.metrics_hash != decided_on:
            seen = await store.get_evaluation_report(tenant_id, approval.metrics_hash)
            if seen is None:
                view = ApprovalView(approval=approval, report_known=False)
            else:
                view = ApprovalView(approval=approval, diff=report_diff(seen, final))
        approvals.append(view)
    freeze = None
    if status.decision == Decision.UNFREEZE:
        freeze = await freeze_cause(ports, strategy)
    return RequestView(
        status=status,
        strategy=strategy,
        roles=roles,
        report=report,
        counters=window_counters(report.window, calendar) if report else [],
        calendar=calendar,
        approvals=approvals,
        decided_on=decided_on,
        record=record,
        policy=policy,
        has_previous_policy=at > 0,
        freeze=freeze,
    )


async def current_status(
    ports: Ports, who: Principal, *, tenant_id: str, uid: str, strategy_id: str
) -> PromotionStatus:
    """The strategy's latest request; NotFound when it never had one."""
    return await promotion_status(ports, who, tenant_id=tenant_id, uid=uid, strategy_id=strategy_id)


async def freeze_cause(ports: Ports, strategy: StrategyDoc) -> FreezeCause:
    """The last stage change that froze the strategy, and the audit entry of the risk event
    behind it (the event that froze it)."""
    store = ports.store
    records = await store.list_records(strategy.tenant_id, strategy.uid, strategy.strategy_id)
    froze = max((r for r in records if r.freeze), key=lambda r: r.sequence, default=None)
    event = None
    if froze is not None:
        events = await store.list_audit_events(
            strategy.tenant_id, strategy.uid, strategy.strategy_id
        )
        event = next(
            (
                e
                for e in reversed(events)
                if e.details.get("risk_event_id")
                and e.details.get("promotion_record_id") == froze.record_id
            ),
            None,
        )
    return FreezeCause(reason=strategy.freeze_reason, record=froze, event=event)


async def compare_reports(
    ports: Ports, who: Principal, *, tenant_id: str, before_hash: str, after_hash: str
) -> ReportDiff | None:
    """How report `after_hash` differs from `before_hash`; None if either is unknown."""
    require_tenant(who, tenant_id)
    require_person(who)
    before = await ports.store.get_evaluation_report(tenant_id, before_hash)
    after = await ports.store.get_evaluation_report(tenant_id, after_hash)
    if before is None or after is None:
        return None
    return report_diff(before, after)
