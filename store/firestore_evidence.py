"""The platform's evidence documents read from Firestore (see evidence/platform.py).

Synchronous on purpose: the evaluation runs on a worker thread (asyncio.to_thread), so it
reads with the synchronous client there rather than hopping back onto the event loop. Each
document is handed on as JSON-able data, the form its hash is taken of: timestamps as RFC 3339
UTC strings (nanoseconds kept), references as their paths, bytes as base64, geo points as
{latitude, longitude}, non-finite numbers as the strings "NaN", "Infinity", "-Infinity".
"""

from __future__ import annotations

import base64
import math
import os
from datetime import UTC, datetime
from typing import Any

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from evidence.platform import Document
from settings import Settings
from store import paths
from store.firestore_project import firestore_project


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        rfc3339 = getattr(value, "rfc3339", None)  # DatetimeWithNanoseconds keeps nanoseconds
        if callable(rfc3339):
            return str(rfc3339())
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if hasattr(value, "latitude") and hasattr(value, "longitude"):
        return {"latitude": value.latitude, "longitude": value.longitude}
    if hasattr(value, "path") and hasattr(value, "id"):  # a DocumentReference
        return str(value.path)
    return value


class FirestoreDocuments:
    """evidence.platform.PlatformDocuments on a Firestore database."""

    def __init__(self, client: firestore.Client):
        self.client = client

    @classmethod
    def from_settings(cls, settings: Settings) -> FirestoreDocuments:
        if settings.firestore_emulator_host:
            os.environ["FIRESTORE_EMULATOR_HOST"] = settings.firestore_emulator_host
        return cls(firestore.Client(project=firestore_project(settings)))

    def _read(self, collection: str, **equal: str) -> list[Document]:
        query: Any = self.client.collection(collection)
        for field, value in equal.items():
            query = query.where(filter=FieldFilter(field, "==", value))
        return [
            (f"{collection}/{snap.id}", jsonable(snap.to_dict() or {})) for snap in query.stream()
        ]

    def shadow_trades(self, tenant_id: str, uid: str, strategy_id: str) -> list[Document]:
        # Shadow trades live under the user, across tenants: the document says which.
        docs = self._read(paths.shadow_trades(uid), strategy_id=strategy_id)
        return [d for d in docs if d[1].get("tenant_id") in (None, tenant_id)]

    def paper_orders(self, tenant_id: str, uid: str, strategy_id: str) -> list[Document]:
        return self._read(paths.paper_orders(tenant_id), uid=uid, strategy_id=strategy_id)

    def close(self) -> None:
        self.client.close()
