"""What every part of FirestoreStore reads and writes through: the client and a few plain
document operations on it (a path is `tenants/t/...`, see store/paths.py)."""

from __future__ import annotations

from typing import Any

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from store.firestore_commit import CREATE_RACE


class FirestoreBase:
    def __init__(self, client: firestore.AsyncClient):
        self.client = client

    async def _get(self, path: str) -> dict[str, Any] | None:
        snap = await self.client.document(path).get()
        return snap.to_dict() if snap.exists else None

    async def _set(self, path: str, data: dict[str, Any], merge: bool = False) -> None:
        await self.client.document(path).set(data, merge=merge)

    async def _create(self, path: str, data: dict[str, Any]) -> bool:
        """Create-only; False when the document already exists."""
        try:
            await self.client.document(path).create(data)
        except CREATE_RACE:
            return False
        return True

    async def _get_all(self, *paths_: str) -> list[dict[str, Any] | None]:
        """Several documents in one round trip, in the order asked."""
        refs = [self.client.document(p) for p in paths_]
        found = {snap.reference.path: snap async for snap in self.client.get_all(refs)}
        return [
            (found[r.path].to_dict() if r.path in found and found[r.path].exists else None)
            for r in refs
        ]

    async def _list(self, collection: str, **equal: Any) -> list[dict[str, Any]]:
        query: Any = self.client.collection(collection)
        for field, value in equal.items():
            if value is not None:
                query = query.where(filter=FieldFilter(field, "==", value))
        return [snap.to_dict() async for snap in query.stream()]
