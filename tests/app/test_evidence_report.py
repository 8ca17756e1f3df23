"""The eligibility report use case (`stratgate evidence report`): the workflow's evaluation of
the strategy's current evidence under the tenant policy with the strategy's stage overrides,
and refusals in the domain's words for what it cannot report on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.evidence_report import eligibility_report
from app.ports import Ports
from governance.errors import InvalidTransition, UnknownStrategy, UnknownTenant
from governance.identity import Forbidden, Principal, TokenKind
from governance.records import StrategyDoc
from governance.report import CriterionStatus, EligibilityReport, Verdict
from governance.stages import LifecycleStage as S
from store.sqlite import SqliteStore
from tests.workflows.evidence_fixtures import seed_evidence
from tests.workflows.harness import fast_policy

TENANT = "desk"
# A threshold no generated strategy meets: only the override can make the IC criterion fail.
STRICT = {"signal_quality_thresholds": {"observe_to_shadow": {"ic_mean_min": 0.99}}}


@pytest.fixture
async def ports(tmp_path: Path) -> AsyncIterator[Ports]:
    store = SqliteStore(tmp_path / "stratgate.db")
    await store.put_policy(TENANT, fast_policy())
    for sid, overrides in (("edge", None), ("strict", STRICT)):
        await store.register_strategy(
            StrategyDoc(
                tenant_id=TENANT,
                uid="quant",
                strategy_id=sid,
                stage_overrides=overrides,
                # In OBSERVE since before the generated sessions: the window holds them all.
                last_stage_change_at=datetime.now(UTC) - timedelta(days=60),
            )
        )
    evaluator = seed_evidence(tmp_path / "evidence", TENANT, {"edge": 0.6, "strict": 0.6})
    try:
        yield Ports(store=store, client=None, task_queue="unused", evaluations=evaluator)
    finally:
        await store.close()


def person(tenant: str = TENANT) -> Principal:
    return Principal(tenant_id=tenant, subject="alice", kind=TokenKind.PERSONAL)


async def report(
    ports: Ports,
    strategy_id: str,
    *,
    tenant_id: str = TENANT,
    to: S = S.SHADOW,
    who: Principal | None = None,
) -> EligibilityReport:
    return await eligibility_report(
        ports, who or person(), tenant_id=tenant_id, uid="quant", strategy_id=strategy_id, to=to
    )


def ic(r: EligibilityReport) -> tuple[float, CriterionStatus]:
    (c,) = [c for c in r.criteria if c.name == "ic_mean"]
    return c.threshold, c.status


async def test_the_report_is_the_tenant_policy_with_the_strategy_overrides(ports: Ports) -> None:
    plain, strict = await report(ports, "edge"), await report(ports, "strict")
    assert plain.verdict == Verdict.ELIGIBLE, plain.reasons
    assert ic(plain) == (0.02, CriterionStatus.PASS)
    # The same evidence generator and edge, judged under the strategy's own override.
    assert strict.verdict == Verdict.INELIGIBLE
    assert ic(strict) == (0.99, CriterionStatus.FAIL)
    assert plain.policy_version == strict.policy_version == fast_policy().policy_version


async def test_what_it_cannot_report_on_is_refused_naming_the_field(ports: Ports) -> None:
    with pytest.raises(UnknownTenant) as tenant:
        await report(ports, "edge", tenant_id="dsk", who=person("dsk"))
    assert tenant.value.field == "tenant_id"
    with pytest.raises(UnknownStrategy) as strategy:
        await report(ports, "ghost")
    assert strategy.value.field == "strategy_id"
    with pytest.raises(InvalidTransition) as first:
        await report(ports, "edge", to=S.OBSERVE)
    assert first.value.field == "to"
    with pytest.raises(Forbidden):  # a principal of another tenant reads nothing here
        await report(ports, "edge", who=person("other"))
