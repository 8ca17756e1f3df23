"""The evidence pack of a period: every fact the ledger holds that a regulator's rules ask for."""

from __future__ import annotations

from app.ports import Ports
from governance.audit_assessment import AuditPack, build_audit_pack
from governance.audit_pack import cited_reports, parse_period
from governance.identity import Principal, require_person, require_tenant
from governance.report import EligibilityReport


async def audit_pack(
    ports: Ports, who: Principal, *, tenant_id: str, date_from: str, date_to: str
) -> AuditPack:
    """Read-only. `date_from`/`date_to` are UTC dates, both included; a bad one is refused
    naming `--from` or `--to` before anything is read."""
    require_tenant(who, tenant_id)
    require_person(who)
    period = parse_period(date_from, date_to)
    store = ports.store
    records = await store.list_records(tenant_id)
    reports: dict[str, EligibilityReport] = {}
    for metrics_hash in cited_reports(period, records):
        report = await store.get_evaluation_report(tenant_id, metrics_hash)
        if report is not None:
            reports[metrics_hash] = report
    return build_audit_pack(
        tenant_id=tenant_id,
        period=period,
        generated_at=ports.now(),
        generated_by=who.subject,
        records=records,
        events=await store.list_audit_events(tenant_id),
        policies=await store.list_policy_versions(tenant_id),
        reports=reports,
        strategies=await store.list_strategies(tenant_id),
    )
