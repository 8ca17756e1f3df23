"""Strategies, their records and audit trail, the operator's view, and policy versions."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from api.ui_common import page, problem, signed_in, to_login
from app import records as records_uc
from app import registry, requests
from app.policy_view import policy_version
from governance.audit_actor import audit_actor
from governance.chain import ChainVerification
from governance.errors import NotFound, RecordCorrupt, UnknownStrategy
from governance.promotion import demotion_workflow_id, promotion_workflow_id
from governance.records import RequestStatus


def install(app: FastAPI) -> None:
    @app.get("/ui/strategies", response_class=HTMLResponse, include_in_schema=False)
    async def strategies_page(request: Request) -> Response:
        who, d = await signed_in(request)
        if who is None:
            return to_login(request)
        ports = d.ports()
        strategies = await registry.list_strategies(ports, who, tenant_id=who.tenant_id)
        pending = {
            (r.uid, r.strategy_id): r
            for r in await requests.list_requests(
                ports, who, tenant_id=who.tenant_id, uid=None, strategy_id=None
            )
            if r.status == RequestStatus.PENDING
        }
        roles = await registry.my_roles(ports, who)
        return page(request, "strategies.html", who, roles, strategies=strategies, pending=pending)

    @app.get(
        "/ui/strategies/{uid}/{strategy_id}", response_class=HTMLResponse, include_in_schema=False
    )
    async def strategy_page(request: Request, uid: str, strategy_id: str) -> Response:
        who, d = await signed_in(request)
        if who is None:
            return to_login(request)
        ports, where = (
            d.ports(),
            {"tenant_id": who.tenant_id, "uid": uid, "strategy_id": strategy_id},
        )
        try:
            doc = await registry.show_strategy(ports, who, **where)
        except UnknownStrategy:
            return problem(
                request,
                who,
                "Unknown strategy",
                f"There is no strategy {uid}/{strategy_id} in tenant {who.tenant_id}.",
                404,
                strategies="/ui/strategies",
            )
        chain: ChainVerification | None = None
        broken: str | None = None
        try:
            records = await records_uc.list_records(ports, who, **where)
        except RecordCorrupt as exc:
            records, broken = [], exc.message
        else:
            found = await records_uc.verify_records(ports, who, **where)
            chain = found.get((uid, strategy_id))
            if chain is not None and not chain.ok:
                broken = f"{chain.first_broken_record_id}: {chain.reason}"
        events = await records_uc.audit_trail(ports, who, **where)
        reqs = await requests.list_requests(ports, who, **where)
        record_actors = {r.record_id: r.requested_by for r in records}
        request_actors = {r.request_id: r.requested_by for r in reqs}
        trail = [(e, audit_actor(e, record_actors, request_actors)) for e in reversed(events)][:50]
        return page(
            request,
            "strategy.html",
            who,
            [],
            doc=doc,
            records=list(reversed(records)),
            chain=chain,
            broken=broken,
            events=trail,
            requests=sorted(reqs, key=lambda r: r.requested_at, reverse=True),
            promotion_wf=promotion_workflow_id(who.tenant_id, uid, strategy_id),
            demotion_wf=demotion_workflow_id(who.tenant_id, uid, strategy_id),
            version=f"{doc.chain_length}:{doc.lifecycle_stage}:{doc.freeze}",
        )

    @app.get("/ui/strategies/{uid}/{strategy_id}/version", include_in_schema=False)
    async def strategy_version(request: Request, uid: str, strategy_id: str) -> dict[str, str]:
        who, d = await signed_in(request)
        doc = None
        if who is not None:
            try:
                doc = await registry.show_strategy(
                    d.ports(), who, tenant_id=who.tenant_id, uid=uid, strategy_id=strategy_id
                )
            except UnknownStrategy:
                doc = None
        return {
            "version": f"{doc.chain_length}:{doc.lifecycle_stage}:{doc.freeze}" if doc else "none"
        }

    @app.get("/ui/operator", response_class=HTMLResponse, include_in_schema=False)
    async def operator_page(request: Request) -> Response:
        who, d = await signed_in(request)
        if who is None:
            return to_login(request)
        strategies = await registry.list_strategies(d.ports(), who, tenant_id=who.tenant_id)
        records = await records_uc.list_records(
            d.ports(), who, tenant_id=who.tenant_id, uid=None, strategy_id=None
        )
        demotions = sorted(
            (r for r in records if r.decision in ("demote", "freeze")),
            key=lambda r: r.effective_at,
            reverse=True,
        )
        return page(
            request,
            "operator.html",
            who,
            [],
            frozen=[s for s in strategies if s.freeze],
            strategies=strategies,
            demotions=demotions[:100],
            version=str(len(records)),
        )

    @app.get("/ui/operator/version", include_in_schema=False)
    async def operator_version(request: Request) -> dict[str, str]:
        who, d = await signed_in(request)
        if who is None:
            return {"version": "none"}
        found = await records_uc.list_records(
            d.ports(), who, tenant_id=who.tenant_id, uid=None, strategy_id=None
        )
        return {"version": str(len(found))}

    @app.get("/ui/policy/{version}", response_class=HTMLResponse, include_in_schema=False)
    async def policy_page(request: Request, version: str) -> Response:
        who, d = await signed_in(request)
        if who is None:
            return to_login(request)
        try:
            view = await policy_version(
                d.ports(), who, tenant_id=who.tenant_id, policy_version=version
            )
        except NotFound as exc:
            return problem(request, who, "Unknown policy version", exc.message + ".", 404)
        return page(request, "policy.html", who, [], v=view)
