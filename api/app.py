"""The HTTP front door: REST API under /v1 (OpenAPI at /docs), the approver web UI, health."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

import cpu_tuning  # noqa: F401  (first: NumPy reads its CPU switch when first imported)
import malloc_tuning  # noqa: F401  (before NumPy allocates: glibc keeps freed arrays)
import tracing_setup
from api import errors, observability, ui
from api.body_guard import BodyGuard
from api.deps import ApiDeps
from api.routes_explain import install as install_explain
from api.routes_fleet import router as fleet_router
from api.routes_policy import router as policy_router
from api.routes_registry import STRATEGY_BATCH
from api.routes_registry import router as registry_router
from api.routes_requests import router as requests_router
from governance.onboarding import FILE_MAX_BYTES


def create_app(deps: ApiDeps) -> FastAPI:
    app = FastAPI(
        title="stratgate",
        version="1.0",
        description="Risk-governed promotion and demotion of trading strategies.",
        telemetry=tracing_setup.fastapi_telemetry(),
    )
    app.state.deps = deps
    errors.install(app)
    # Inside the access log and metrics, so oversized and too-deep bodies are counted too.
    # A fleet's registration file is one body: bounded by the file's own limit.
    app.add_middleware(BodyGuard, wider=[("POST", STRATEGY_BATCH, FILE_MAX_BYTES)])
    observability.install(app)
    app.include_router(requests_router)
    app.include_router(registry_router)
    app.include_router(policy_router)
    app.include_router(fleet_router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Any:
        problems = []
        try:
            await deps.store.get_system_status()
        except Exception as exc:
            problems.append(f"store: {exc}")
        if deps.client is None:
            problems.append("temporal: not connected")
        else:
            try:
                await deps.client.service_client.check_health()
            except Exception as exc:
                problems.append(f"temporal: {exc}")
        status = 200 if not problems else 503
        return JSONResponse({"ready": not problems, "problems": problems}, status_code=status)

    ui.install(app)
    install_explain(app)
    return app
