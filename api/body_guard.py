"""Request bodies are bounded before anything parses them.

A body over the size limit is refused with 413, whether it declares its length or streams it;
a JSON body nested deeper than the limit is refused with 422 before `json.loads`, whose
recursion would otherwise end in a RecursionError (a 400 at best, a crash at worst). Both
answers are the API's usual JSON refusal.
"""

from __future__ import annotations

import email.message
import re
from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import body as refusal
from governance.bounds import BODY_MAX_BYTES, BODY_MAX_DEPTH, text_too_deep

# How much of an oversized body is read and dropped before answering: a client still writing
# when the server closes gets a reset instead of the 413. Past this, the connection is closed.
DRAIN_MAX_BYTES = 8 * 1024 * 1024


class BodyGuard:
    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int = BODY_MAX_BYTES,
        max_depth: int = BODY_MAX_DEPTH,
        wider: Sequence[tuple[str, re.Pattern[str], int]] = (),
    ):
        """`wider`: (method, path pattern, limit) of the few routes that take a larger body
        (a fleet's registration file); every other route keeps `max_bytes`."""
        self.app = app
        self.max_bytes = max_bytes
        self.max_depth = max_depth
        self.wider = tuple(wider)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit_for(scope)
        headers = Headers(scope=scope)
        declared = _declared_length(headers.get("content-length"))
        if declared is not None and declared > limit:
            if declared <= DRAIN_MAX_BYTES:
                await _drain(receive, 0)
            await self._too_large(scope, receive, send, f"{declared} bytes", limit)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left: there is no one to answer
            body += message.get("body", b"")
            if len(body) > limit:
                if message.get("more_body", False):
                    await _drain(receive, len(body))
                await self._too_large(scope, receive, send, f"more than {limit} bytes", limit)
                return
            if not message.get("more_body", False):
                break
        if _parsed_as_json(headers.get("content-type")):
            problem = text_too_deep(bytes(body), "body", self.max_depth)
            if problem is not None:
                answer = JSONResponse(
                    refusal("invalid_request", problem.reason, problem.field), status_code=422
                )
                await answer(scope, receive, send)
                return
        await self.app(scope, _replay(bytes(body), receive), send)

    def _limit_for(self, scope: Scope) -> int:
        for method, pattern, limit in self.wider:
            if scope.get("method") == method and pattern.fullmatch(scope.get("path", "")):
                return limit
        return self.max_bytes

    async def _too_large(
        self, scope: Scope, receive: Receive, send: Send, size: str, limit: int
    ) -> None:
        message = f"request body of {size} exceeds the limit of {limit} bytes"
        answer = JSONResponse(refusal("payload_too_large", message, "body"), status_code=413)
        await answer(scope, receive, send)


def _declared_length(value: str | None) -> int | None:
    # A server (h11) refuses a malformed Content-Length before we see it; under other
    # transports a bad one is just not trusted, and the streamed bytes are counted instead.
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


def _parsed_as_json(content_type: str | None) -> bool:
    """Whether FastAPI may `json.loads` this body: fastapi.routing's test, where a body
    without a content type counts as JSON (it does unless `strict_content_type`)."""
    if not content_type:
        return True
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


async def _drain(receive: Receive, already: int) -> None:
    read = already
    while read <= DRAIN_MAX_BYTES:
        message = await receive()
        if message["type"] != "http.request":
            return
        read += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the app the body already read, then the client's own messages."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
