"""Custom search attributes, so operators can filter workflows in the Web UI and the CLI."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

TENANT = SearchAttributeKey.for_keyword("StratgateTenant")
UID = SearchAttributeKey.for_keyword("StratgateUid")
STRATEGY = SearchAttributeKey.for_keyword("StratgateStrategy")
FROM_STAGE = SearchAttributeKey.for_keyword("StratgateFromStage")
TO_STAGE = SearchAttributeKey.for_keyword("StratgateToStage")
PHASE = SearchAttributeKey.for_keyword("StratgatePhase")

ALL = (TENANT, UID, STRATEGY, FROM_STAGE, TO_STAGE, PHASE)


def for_strategy(tenant_id: str, uid: str, strategy_id: str, **extra: str) -> TypedSearchAttributes:
    pairs = [
        SearchAttributePair(TENANT, tenant_id),
        SearchAttributePair(UID, uid),
        SearchAttributePair(STRATEGY, strategy_id),
    ]
    keys = {"to_stage": TO_STAGE, "from_stage": FROM_STAGE, "phase": PHASE}
    pairs += [SearchAttributePair(keys[name], value) for name, value in extra.items()]
    return TypedSearchAttributes(pairs)


def for_tenant(tenant_id: str) -> TypedSearchAttributes:
    return TypedSearchAttributes([SearchAttributePair(TENANT, tenant_id)])


def dev_server_args() -> list[str]:
    """`temporal server start-dev` arguments that register every attribute."""
    args: list[str] = []
    for key in ALL:
        args += ["--search-attribute", f"{key.name}=Keyword"]
    return args
