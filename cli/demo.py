"""The demo tenant: a fixture the README's tour and the tests rely on.

Tenant `demo` (production: approvals are required), requester `quant`, approvers alice
(strategy_reviewer), bob (risk_approver), carol (ops_approver), dave and erin
(final_authorizer), frank and grace (policy_approver: two, so a change that weakens LIVE
controls can be shown being approved); strategies quant/momo-edge (a real edge) and quant/noise
(none). Seeding is idempotent: a second `stratgate up --demo` finds what is there and keeps it.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import replace
from datetime import UTC, datetime

from temporalio.client import Client

from app.directory import set_approver_roles
from app.ports import Ports
from evidence.files import FileEvidenceSource
from evidence.synthetic import Spec, generate
from governance.errors import GovernanceError
from governance.identity import Principal, TokenKind, new_token_record
from governance.policy import PromotionPolicy, default_policy
from governance.policy_change import bootstrap_event, bootstrap_version
from governance.registration import strategy_registration
from governance.roles import Role
from governance.stages import LifecycleStage
from governance.token_events import token_issued
from settings import Settings
from store.port import GovernanceStore
from workflows import client as wf

TENANT = "demo"
PEOPLE = {
    "quant": [],
    "alice": [Role.STRATEGY_REVIEWER],
    "bob": [Role.RISK_APPROVER],
    "carol": [Role.OPS_APPROVER],
    "dave": [Role.FINAL_AUTHORIZER],
    "erin": [Role.FINAL_AUTHORIZER, Role.DESIGNATED_PERSON],
    "root": [Role.ADMIN],
    "frank": [Role.POLICY_APPROVER],
    "grace": [Role.POLICY_APPROVER],
}
STRATEGIES = {"momo-edge": 0.15, "noise": 0.0}


def demo_policy() -> PromotionPolicy:
    """The spec's thresholds, with waits short enough for a live demo."""
    data = default_policy("demo.v1").model_dump(mode="json")
    data["evaluation_interval_seconds"] = 30
    data["approval_ttl_seconds"] = 86_400
    data["request_deadline_seconds"] = 7 * 86_400
    data["updated_by"] = "stratgate up --demo"
    data["updated_at"] = datetime.now(UTC).isoformat()
    return PromotionPolicy.model_validate(data)


# Who the demo's directory changes and tokens are recorded as made by.
SEEDER = Principal.local_operator(TENANT, "stratgate-up-demo")


async def seed_demo(store: GovernanceStore, client: Client, settings: Settings) -> str:
    if await store.get_policy(TENANT) is None:
        # The tenant's first policy, recorded as a bootstrap; every later one is proposed.
        by, now = "stratgate up --demo", datetime.now(UTC)
        version = bootstrap_version(demo_policy(), by=by, at=now)
        event = bootstrap_event(
            event_id=str(uuid.uuid4()), tenant_id=TENANT, version=version, by=by, at=now
        )
        await store.bootstrap_policy(TENANT, version, event)
    # The directory through its use case, so the demo's people are on the record as any are
    # (a second `make up` sets the same roles: nothing new is written).
    ports = Ports(store=store, client=client, task_queue=settings.task_queue)
    for user, roles in PEOPLE.items():
        await set_approver_roles(ports, SEEDER, tenant_id=TENANT, user=user, roles=roles)
    source = FileEvidenceSource(settings.evidence_dir)
    for strategy_id, edge in STRATEGIES.items():
        if await store.get_strategy(TENANT, "quant", strategy_id) is not None:
            continue
        entered, _ = generate(source, TENANT, "quant", strategy_id, replace(Spec(), edge=edge))
        await store.register_strategy(
            *strategy_registration(
                TENANT,
                "quant",
                strategy_id,
                LifecycleStage.OBSERVE,
                entered.to_pydatetime(),
                datetime.now(UTC),
                policy_version="demo.v1",
            )
        )
    tokens = await _tokens(store, settings)
    lines = [
        "demo tenant `demo` is ready; tokens (also in "
        + str(settings.home / "demo-tokens.json")
        + "):"
    ]
    lines += [f"  {user:12} {token}" for user, token in tokens.items()]
    try:
        await wf.request_promotion(
            client,
            store,
            settings.task_queue,
            tenant_id=TENANT,
            uid="quant",
            strategy_id="momo-edge",
            to_stage=LifecycleStage.SHADOW,
            requested_by="quant",
            reason="demo: a strategy with a real edge",
        )
        lines.append("requested quant/momo-edge OBSERVE -> SHADOW; it awaits alice's approval")
    except GovernanceError as exc:
        lines.append(f"quant/momo-edge: {exc.message}")
    return "\n".join(lines)


async def _tokens(store: GovernanceStore, settings: Settings) -> dict[str, str]:
    path = settings.home / "demo-tokens.json"
    if path.exists():
        kept: dict[str, str] = json.loads(path.read_text())
        return kept
    tokens: dict[str, str] = {}
    now = datetime.now(UTC)
    for user, kind in [
        *((u, TokenKind.PERSONAL) for u in PEOPLE),
        ("risk-engine", TokenKind.SERVICE),
    ]:
        token = f"sg_demo_{user}_{secrets.token_urlsafe(12)}"
        record = new_token_record(
            token=token,
            kind=kind,
            tenant_id=TENANT,
            subject=user,
            now=now,
            ttl_seconds=30 * 86_400,
        )
        event = token_issued(record, by=SEEDER.subject, event_id=str(uuid.uuid4()))
        await store.put_api_token(record, event)
        tokens[user] = token
    path.write_text(json.dumps(tokens, indent=2))
    path.chmod(0o600)
    return tokens
