"""Every refusal is a 4xx with a JSON body {code, field, message}; nothing is ever a 500 for
bad input."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError, RPCStatusCode

from governance.errors import GovernanceError
from governance.refusals import RefusalCode

R = RefusalCode
# Every refusal code, once, with its HTTP status (a test checks that none is missing).
STATUS_BY_CODE: dict[RefusalCode, int] = {
    R.UNAUTHENTICATED: 401,
    R.FORBIDDEN: 403,
    R.ASSERTION_REFUSED: 403,
    R.APPROVAL_REFUSED: 403,
    R.CANCEL_REFUSED: 403,
    R.NOT_FOUND: 404,
    R.UNKNOWN_STRATEGY: 404,
    R.REQUEST_IN_FLIGHT: 409,
    R.PRECONDITION_FAILED: 409,
    R.RECORD_CONFLICT: 409,
    R.WRONG_PHASE: 409,
    R.REPORT_CHANGED: 409,
    R.REQUEST_ENDED: 409,
    R.PAYLOAD_TOO_LARGE: 413,
    R.INVALID_REQUEST: 422,
    R.INVALID_POLICY: 422,
    R.INVALID_TRANSITION: 422,
    R.EVIDENCE_SCHEMA: 422,
    R.EVIDENCE_DOCUMENT: 422,
    R.MISSING_POLICY: 409,
    R.CONFIRMATION_TOKEN_REQUIRED: 422,
    R.CONFIRMATION_TOKEN_REFUSED: 403,
    # Stored state that cannot be trusted, a service that is not there: not the caller's fault.
    R.RECORD_CORRUPT: 503,
    R.MIGRATION_FAILED: 503,
    R.UNAVAILABLE: 503,
    R.GOVERNANCE_ERROR: 400,
    R.UNKNOWN_TENANT: 404,
    R.POLICY_SELF_APPROVAL: 403,
    R.POLICY_ROLE_REQUIRED: 403,
    R.POLICY_DUPLICATE_APPROVAL: 409,
    R.POLICY_PROPOSAL_CLOSED: 409,
    R.POLICY_VERSION_EXISTS: 409,
    R.POLICY_PROPOSAL_STALE: 409,
    R.POLICY_APPROVAL_REQUIRED: 409,
    R.TENANT_HALTED: 409,
    R.ALREADY_HALTED: 409,
    R.NOT_HALTED: 409,
    R.RESUME_REFUSED: 403,
}


def status_for(code: str) -> int:
    try:
        return STATUS_BY_CODE[RefusalCode(code)]
    except ValueError:
        return 400  # a code outside the vocabulary (tests/test_refusal_codes.py stops new ones)


def body(code: str, message: str, field: str | None = None) -> dict[str, str | None]:
    return {"code": code, "field": field, "message": message}


def _field(loc: Sequence[object]) -> str:
    """The offending field's path, without the request part or union branch names."""
    parts = [
        str(p)
        for p in loc
        if p not in ("body", "query", "path", "header")
        and not (isinstance(p, str) and (p[:1].isupper() or "[" in p))
    ]
    return ".".join(parts)


def install(app: FastAPI) -> None:
    @app.exception_handler(GovernanceError)
    async def governance_error(request: Request, exc: GovernanceError) -> JSONResponse:
        status = status_for(exc.code)
        return JSONResponse(body(exc.code, exc.message, exc.field), status_code=status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        # The deepest error names the field: for a body that is one event or a batch, the
        # other branch of the union only says "not a list" (or "not an object").
        first = (
            max(errors, key=lambda e: len(e["loc"]))
            if errors
            else {"loc": (), "msg": "invalid request"}
        )
        field = _field(first["loc"])
        details = [{"field": _field(e["loc"]), "message": e["msg"]} for e in errors]
        payload = body("invalid_request", str(first["msg"]), field or None)
        return JSONResponse({**payload, "errors": details}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(body(code, str(exc.detail)), status_code=exc.status_code)

    @app.exception_handler(RPCError)
    async def temporal_error(request: Request, exc: RPCError) -> JSONResponse:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return JSONResponse(body("not_found", "no request in flight"), status_code=404)
        return JSONResponse(body("unavailable", "workflow service unavailable"), status_code=503)
