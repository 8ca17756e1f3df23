"""Random payloads never get a 500 and never write; the authorization matrix holds."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import create_app
from api.deps import ApiDeps
from api.oidc import OidcVerifier
from governance.approvals import check_approval
from governance.errors import ApprovalRefused
from governance.identity import TokenKind
from governance.policy import default_policy
from governance.roles import Role
from governance.stages import Transition
from tests.api.conftest import Api, sign
from tests.workflows.harness import SIGNER

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(
        [
            "SHADOW",
            "PAPER",
            "risk_approver",
            "quant",
            "momo",
            "daily_loss_limit_breached",
            "LIVE",
            "",
            "../../x",
        ]
    ),
)
payloads = st.recursive(
    json_leaf,
    lambda kids: st.one_of(
        st.lists(kids, max_size=3),
        st.dictionaries(
            st.sampled_from(
                [
                    "uid",
                    "strategy_id",
                    "to_stage",
                    "role",
                    "kind",
                    "event_id",
                    "reason",
                    "comment",
                    "metrics_hash",
                    "approver",
                    "severity",
                    "details",
                    "x",
                ]
            ),
            kids,
            max_size=6,
        ),
    ),
    max_leaves=12,
)
ENDPOINTS = [
    "/promotion-requests",
    "/strategies/quant/momo/promotion/approve",
    "/strategies/quant/momo/promotion/reject",
    "/strategies/quant/momo/promotion/cancel",
    "/strategies/quant/momo/unfreeze-requests",
    "/strategies/quant/momo/freeze",
    "/risk-events",
]


async def test_fuzzed_payloads_get_4xx_json_and_write_nothing(api: Api) -> None:
    base = f"/v1/tenants/{api.stack.tenant}"
    quant = await api.token("quant")
    before = await api.counts()
    samples: list[tuple[str, Any]] = []

    @settings(max_examples=120, suppress_health_check=list(HealthCheck), deadline=None)
    @given(st.sampled_from(ENDPOINTS), payloads)
    def collect(endpoint: str, body: Any) -> None:
        samples.append((endpoint, body))

    collect()
    for endpoint, body in samples:
        response = await api.http.post(base + endpoint, json=body, headers=quant)
        assert 400 <= response.status_code < 500, (
            endpoint,
            body,
            response.status_code,
            response.text,
        )
        problem = response.json()
        assert {"code", "field", "message"} <= set(problem), problem
    assert await api.counts() == before


ROLES = list(Role)


@pytest.mark.parametrize("transition", [*Transition, "unfreeze"])
@pytest.mark.parametrize("role", ROLES)
def test_authorization_matrix(transition: Transition | str, role: Role) -> None:
    """Each role against each transition: only the roles the matrix lists may sign."""
    requirement = default_policy().approvals_for(transition)
    first_needed = requirement.roles[0]
    try:
        check_approval(
            requirement=requirement,
            approvals=[],
            requested_by="quant",
            approver="p",
            role=role,
            directory_roles=[role],
        )
        allowed = True
    except ApprovalRefused as exc:
        allowed = False
        assert exc.field == "role"
    # Ordered transitions only take their first step first.
    expected = role in requirement.roles and (not requirement.ordered or role == first_needed)
    assert allowed == expected
    with pytest.raises(ApprovalRefused):  # self-approval is refused for every role
        check_approval(
            requirement=requirement,
            approvals=[],
            requested_by="p",
            approver="p",
            role=first_needed,
            directory_roles=[first_needed],
        )


async def test_people_and_services_per_endpoint(api: Api) -> None:
    base = f"/v1/tenants/{api.stack.tenant}"
    svc = await api.token("risk-engine", kind=TokenKind.SERVICE)
    foreign = await api.token("bob", tenant="elsewhere")
    for path in ("/strategies", "/audit-events", "/strategies/quant/momo/records"):
        assert (await api.http.get(base + path, headers=svc)).status_code == 403
        assert (await api.http.get(base + path, headers=foreign)).status_code == 403
    body = {"uid": "quant", "strategy_id": "momo", "to_stage": "SHADOW"}
    refused = await api.http.post(base + "/promotion-requests", json=body, headers=svc)
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    carol = await api.token("carol")
    event = {"event_id": "p1", "uid": "quant", "strategy_id": "momo", "kind": "clock_skew"}
    no_role = await api.http.post(base + "/risk-events", json=event, headers=carol)
    assert no_role.status_code == 403  # a person posts risk events only as a risk approver


ABSENT = object()
NOT_BOOLEANS: list[Any] = ["true", "false", 1, 0, "yes", None, [], {"a": True}]
# stratgate_service claim -> (GET strategies, POST risk-events) for carol, an ops approver.
SERVICE_CLAIM_MATRIX: list[tuple[Any, int, int]] = [
    (ABSENT, 200, 403),  # a person, who may not post risk events without risk_approver
    (False, 200, 403),
    (True, 403, 202),  # a risk system: risk events only
    *[(bad, 401, 401) for bad in NOT_BOOLEANS],
]


@pytest.mark.parametrize(("claim", "read", "post"), SERVICE_CLAIM_MATRIX)
async def test_oidc_service_claim_per_endpoint(
    api: Api,
    keys: tuple[rsa.RSAPrivateKey, OidcVerifier],
    claim: Any,
    read: int,
    post: int,
) -> None:
    key, verifier = keys
    stack = api.stack
    app = create_app(
        ApiDeps(stack.store, stack.client, stack.task_queue, oidc=verifier, signer=SIGNER)
    )
    claims: dict[str, Any] = {"sub": "carol", "tenant_id": stack.tenant}
    if claim is not ABSENT:
        claims["stratgate_service"] = claim
    who = {"authorization": f"Bearer {sign(key, **claims)}"}
    event = {
        "event_id": uuid.uuid4().hex,
        "uid": "quant",
        "strategy_id": "calm",
        "kind": "circuit_breaker_warning",
    }
    base = f"/v1/tenants/{stack.tenant}"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://stratgate.test") as http:
        answers = [
            await http.get(base + "/strategies", headers=who),
            await http.post(base + "/risk-events", json=event, headers=who),
        ]
    assert [r.status_code for r in answers] == [read, post], [r.text for r in answers]
    for r in answers:
        if r.status_code == 401:
            assert r.json()["code"] == "unauthenticated"
            assert r.json()["field"] == "stratgate_service"
            assert "stratgate_service must be true or false" in r.json()["message"]
