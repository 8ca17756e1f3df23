"""firestore.rules on the official Firestore emulator, which evaluates security rules.

The Node emulator the suite starts does not evaluate rules, and the official one needs Java and
firebase-tools, which this project does not download. Run these with
`FIRESTORE_RULES_EMULATOR_HOST=127.0.0.1:8080` pointing at `firebase emulators:start --only
firestore` (see docs/firestore.md); without it they are skipped, saying why.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from pathlib import Path

import httpx
import pytest

HOST = os.environ.get("FIRESTORE_RULES_EMULATOR_HOST")
pytestmark = pytest.mark.skipif(
    not HOST,
    reason="needs the official Firestore emulator (rules evaluation); the Node emulator has none: "
    "set FIRESTORE_RULES_EMULATOR_HOST (docs/firestore.md)",
)
RULES = Path(__file__).resolve().parents[2] / "firestore.rules"


def token(**claims: object) -> str:
    """An unsigned ID token, which the emulator accepts."""

    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    body = {
        "sub": "x",
        "iat": 0,
        "exp": 2**31,
        "aud": "p",
        "iss": "https://securetoken.google.com/p",
        **claims,
    }
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(body)}."


@pytest.fixture(scope="module")
def project() -> str:
    name = f"rules-{uuid.uuid4().hex[:8]}"
    source = {"files": [{"name": "firestore.rules", "content": RULES.read_text()}]}
    httpx.put(
        f"http://{HOST}/emulator/v1/projects/{name}:securityRules", json={"rules": source}
    ).raise_for_status()
    return name


def call(project: str, method: str, path: str, who: str | None, body: dict | None = None) -> int:
    url = f"http://{HOST}/v1/projects/{project}/databases/(default)/documents/{path}"
    headers = {"authorization": f"Bearer {who}"} if who else {}
    return httpx.request(method, url, json=body, headers=headers).status_code


def test_records_are_create_only_for_the_service(project: str) -> None:
    service = token(tenant_id="t1", stratgate_service=True)
    person = token(tenant_id="t1")
    stranger = token(tenant_id="t2")
    doc = "tenants/t1/governance/promotion_records/records/r1"
    fields = {"fields": {"record_id": {"stringValue": "r1"}}}
    assert (
        call(
            project,
            "POST",
            "tenants/t1/governance/promotion_records/records?documentId=r0",
            person,
            fields,
        )
        == 403
    )
    assert (
        call(
            project,
            "POST",
            "tenants/t1/governance/promotion_records/records?documentId=r1",
            service,
            fields,
        )
        == 200
    )
    assert call(project, "PATCH", doc, service, fields) == 403  # no update, even by the service
    assert call(project, "DELETE", doc, service) == 403
    assert call(project, "GET", doc, person) == 200
    assert call(project, "GET", doc, stranger) == 403  # tenants are isolated
