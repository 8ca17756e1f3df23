"""A stage change's two RPCs (`BatchGetDocuments`, `Commit`) as raw protobufs on the client's
own channel.

The library's `get_all` and `batch.commit` wrap each message in proto-plus, copy every
snapshot's data (`to_dict` deep-copies it) and convert every timestamp to a datetime: measured at
~1 ms of client CPU per stage change, a bare write's whole cost. Here the same requests go out on
the client's own gRPC channel (its credentials, its interceptors), with its metadata and routing
header, the library's retry policies for these two methods, and its mapping of gRPC errors to
`google.api_core.exceptions` (so CREATE_RACE still catches a lost create). Fields are decoded by
the library's own `decode_dict`, on the raw message; tests/store/test_firestore_rpc.py checks
what is read equals `get_all`'s, and that a failing create raises what the library raises.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from google.api_core import exceptions as gexc
from google.api_core import gapic_v1
from google.api_core.retry import AsyncRetry, if_exception_type
from google.cloud import firestore
from google.cloud.firestore_v1 import _helpers
from google.cloud.firestore_v1.services.firestore.transports.base import DEFAULT_CLIENT_INFO
from google.cloud.firestore_v1.types import firestore as fs
from google.protobuf.timestamp_pb2 import Timestamp

_SERVICE = "/google.firestore.v1.Firestore/"
_GetRequest: Any = fs.BatchGetDocumentsRequest.pb()
_GetResponse: Any = fs.BatchGetDocumentsResponse.pb()
_CommitRequest: Any = fs.CommitRequest.pb()
_CommitResponse: Any = fs.CommitResponse.pb()

# The library's defaults for these two methods (transports/base.py `_prep_wrapped_messages`).
_READ_RETRY = AsyncRetry(
    initial=0.1,
    maximum=60.0,
    multiplier=1.3,
    predicate=if_exception_type(
        gexc.DeadlineExceeded, gexc.InternalServerError, gexc.ServiceUnavailable
    ),
    timeout=300.0,
)
_COMMIT_RETRY = AsyncRetry(
    initial=0.1,
    maximum=60.0,
    multiplier=1.3,
    predicate=if_exception_type(gexc.ResourceExhausted, gexc.ServiceUnavailable),
    timeout=60.0,
)


@dataclass(frozen=True, slots=True)
class Found:
    """A document as read: its fields (decoded as the library decodes them) and update time."""

    data: dict[str, Any]
    update_time: Timestamp


class Rpc:
    """The raw calls of one client; `rpc_for(client)` keeps one per client."""

    def __init__(self, client: firestore.AsyncClient) -> None:
        self.client = client
        channel = client._firestore_api.transport.grpc_channel
        self.database: str = client._database_string
        self.prefix = f"{self.database}/documents/"
        self.metadata = (
            *client._rpc_metadata,
            gapic_v1.routing_header.to_grpc_metadata((("database", self.database),)),
            DEFAULT_CLIENT_INFO.to_grpc_metadata(),
        )
        self._get = channel.unary_stream(
            _SERVICE + "BatchGetDocuments",
            request_serializer=_GetRequest.SerializeToString,
            response_deserializer=_GetResponse.FromString,
        )
        self._commit = channel.unary_unary(
            _SERVICE + "Commit",
            request_serializer=_CommitRequest.SerializeToString,
            response_deserializer=_CommitResponse.FromString,
        )

    def name(self, path: str) -> str:
        """The full resource name of a document path (`tenants/t/...`)."""
        return self.prefix + path

    async def read(self, paths: Sequence[str]) -> dict[str, Found | None]:
        """Every document of `paths` in one `BatchGetDocuments`, by path (None: missing)."""
        return await _READ_RETRY(self._read_once)(paths)

    async def _read_once(self, paths: Sequence[str]) -> dict[str, Found | None]:
        request = _GetRequest(database=self.database, documents=[self.prefix + p for p in paths])
        cut = len(self.prefix)
        out: dict[str, Found | None] = {}
        try:
            async for response in self._get(request, metadata=self.metadata, timeout=300.0):
                which = response.WhichOneof("result")
                if which == "found":
                    doc = response.found
                    data = _helpers.decode_dict(doc.fields, self.client)
                    if not isinstance(data, dict):  # a whole document never decodes to a vector
                        raise TypeError(f"{doc.name} does not decode to a document")
                    out[doc.name[cut:]] = Found(data=data, update_time=doc.update_time)
                elif which == "missing":
                    out[response.missing[cut:]] = None
        except grpc.RpcError as exc:
            raise gexc.from_grpc_error(exc) from exc
        return {p: out.get(p) for p in paths}

    async def commit(self, writes: Sequence[Any]) -> None:
        """`writes` (raw `Write` messages) in one atomic `Commit`."""
        request = _CommitRequest(database=self.database, writes=writes)
        await _COMMIT_RETRY(self._commit_once)(request)

    async def _commit_once(self, request: Any) -> None:
        try:
            await self._commit(request, metadata=self.metadata, timeout=60.0)
        except grpc.RpcError as exc:
            raise gexc.from_grpc_error(exc) from exc


_RPCS: weakref.WeakKeyDictionary[firestore.AsyncClient, Rpc] = weakref.WeakKeyDictionary()


def rpc_for(client: firestore.AsyncClient) -> Rpc:
    rpc = _RPCS.get(client)
    if rpc is None:
        rpc = _RPCS[client] = Rpc(client)
    return rpc
