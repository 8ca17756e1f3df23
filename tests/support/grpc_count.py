"""Counting the RPCs a Firestore client sends, at its gRPC channel (on the emulator).

`counting_client(host, project)` is a real `firestore.AsyncClient` whose channel carries an
interceptor that records the method name of every call it starts, so a test can say exactly
which round trips an operation made (`BatchGetDocuments`, `Commit`, `RunQuery`, ...).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from typing import Any

import grpc
from google.cloud import firestore


def _name(details: grpc.aio.ClientCallDetails) -> str:
    method = details.method
    return (method.decode() if isinstance(method, bytes) else str(method)).rsplit("/", 1)[-1]


# grpc.aio files an interceptor under the first call kind it implements, so one class per kind,
# both writing to the same list.
class _UnaryUnary(grpc.aio.UnaryUnaryClientInterceptor):
    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    async def intercept_unary_unary(
        self, continuation: Callable[..., Any], details: Any, request: Any
    ) -> Any:
        self.calls.append(_name(details))
        return await continuation(details, request)


class _UnaryStream(grpc.aio.UnaryStreamClientInterceptor):
    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    async def intercept_unary_stream(
        self, continuation: Callable[..., Any], details: Any, request: Any
    ) -> Any:
        self.calls.append(_name(details))  # BatchGetDocuments, RunQuery
        return await continuation(details, request)


class CountingClient(firestore.AsyncClient):
    """An emulator client whose every RPC is recorded in `rpcs`."""

    rpcs: list[str]

    def _emulator_channel(self, transport: Any) -> grpc.aio.Channel:
        # The options the library uses for the emulator (its bearer token), plus the recorders.
        options = [("Authorization", "Bearer owner")]
        interceptors = [_UnaryUnary(self.rpcs), _UnaryStream(self.rpcs)]
        return grpc.aio.insecure_channel(
            self._emulator_host, options=options, interceptors=interceptors
        )

    def reset(self) -> None:
        self.rpcs.clear()

    def counts(self) -> Counter[str]:
        return Counter(self.rpcs)


def counting_client(host: str, project: str) -> CountingClient:
    os.environ["FIRESTORE_EMULATOR_HOST"] = host  # read by the Google client
    client = CountingClient(project=project)
    client.rpcs = []
    return client
