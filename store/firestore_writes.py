"""The writes of a batch as raw protobufs, built straight from JSON-shaped documents.

google-cloud-firestore builds each write through proto-plus wrappers and a field extractor
(server timestamps, sentinels, dotted paths): measured at ~1.3 ms for one record or audit event,
about half the client's CPU for a whole stage change. Our documents are `model_dump(mode="json")`
output (null, bool, int, float, str, list, dict with plain keys), so the same `Write` messages
are built here directly; tests/store/test_firestore_writes.py checks each equals the library's.

The builders return messages for `Writes.commit`, which sends them as one raw `Commit` RPC on the
client's own channel (store/firestore_rpc.py: the library's retry, routing header and error
mapping).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from google.cloud import firestore
from google.cloud.firestore_v1.types import write
from google.protobuf.timestamp_pb2 import Timestamp

from store.firestore_rpc import rpc_for

_Write: Any = write.Write.pb()
# A field name Firestore takes as it is in a mask; any other is quoted (FieldPath.to_api_repr).
_SIMPLE = re.compile(r"^[_a-zA-Z][_a-zA-Z0-9]*$")


def _fill(pb: Any, value: Any) -> None:
    """Set `pb` (a Value) to `value`, as the library's `encode_value` would."""
    if value is None:
        pb.null_value = 0
    elif value is True or value is False:
        pb.boolean_value = value
    elif isinstance(value, int):
        pb.integer_value = value
    elif isinstance(value, float):
        pb.double_value = value
    elif isinstance(value, str):
        pb.string_value = value
    elif isinstance(value, Mapping):
        fields = pb.map_value.fields
        pb.map_value.SetInParent()  # an empty map is still a map
        for key, item in value.items():
            _fill(fields[key], item)
    elif isinstance(value, list | tuple):
        values = pb.array_value.values
        pb.array_value.SetInParent()
        for item in value:
            _fill(values.add(), item)
    else:
        raise TypeError(f"not a JSON value for a Firestore document: {type(value).__name__}")


def _update(path: str, data: Mapping[str, Any]) -> Any:
    pb = _Write()
    pb.update.name = path
    fields = pb.update.fields
    for key, item in data.items():
        _fill(fields[key], item)
    return pb


def _mask(keys: Any) -> list[str]:
    return [k if _SIMPLE.match(k) else _quoted(k) for k in keys]


def _quoted(key: str) -> str:
    return "`" + key.replace("\\", "\\\\").replace("`", "\\`") + "`"


def _timestamp(when: Any) -> Timestamp:
    if isinstance(when, Timestamp):  # as a raw read returned it (store/firestore_rpc.py)
        return when
    if hasattr(when, "timestamp_pb"):  # a snapshot's DatetimeWithNanoseconds, nanos and all
        return when.timestamp_pb()
    stamp = Timestamp()
    stamp.FromDatetime(when)
    return stamp


class Writes:
    """One batch's writes, in order, sent as one `Commit`. A document is a reference or a path
    (`tenants/t/...`)."""

    def __init__(self, client: firestore.AsyncClient) -> None:
        self.client = client
        self.pbs: list[Any] = []

    def _path(self, ref: Any) -> str:
        if isinstance(ref, str):
            return rpc_for(self.client).name(ref)
        return str(ref._document_path)

    def create(self, ref: Any, data: Mapping[str, Any]) -> None:
        """Create-only: the whole commit fails if the document exists."""
        pb = _update(self._path(ref), data)
        pb.current_document.exists = False
        self.pbs.append(pb)

    def set(self, ref: Any, data: Mapping[str, Any]) -> None:
        """Replace the document (create it if absent)."""
        self.pbs.append(_update(self._path(ref), data))

    def merge(self, ref: Any, data: Mapping[str, Any]) -> None:
        """Set only these top-level fields (their values are scalars), creating if absent."""
        pb = _update(self._path(ref), data)
        pb.update_mask.field_paths.extend(_mask(sorted(data)))
        self.pbs.append(pb)

    def update(self, ref: Any, data: Mapping[str, Any], last_update_time: Any) -> None:
        """Set these top-level fields of a document, as it was at `last_update_time`."""
        pb = _update(self._path(ref), data)
        pb.update_mask.field_paths.extend(_mask(sorted(data)))
        pb.current_document.update_time.CopyFrom(_timestamp(last_update_time))
        self.pbs.append(pb)

    async def commit(self) -> None:
        await rpc_for(self.client).commit(self.pbs)
