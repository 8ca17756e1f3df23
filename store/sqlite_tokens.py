"""Bearer tokens and LIVE confirmation tokens in the embedded store (hashes only)."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from governance.errors import RecordConflict
from governance.identity import ApiToken
from governance.live import ConfirmationToken, redeem
from governance.records import AuditEvent
from store import paths
from store.sqlite_audit import SqliteAudit


class SqliteTokens(SqliteAudit):
    # -- LIVE confirmation tokens ---------------------------------------------------------
    async def put_confirmation_token(self, token: ConfirmationToken) -> None:
        path = paths.confirmation_token(token.tenant_id, token.token_hash)

        def write(conn: sqlite3.Connection) -> None:
            if self._get(conn, path) is not None:
                raise RecordConflict("confirmation token already issued", field="token")
            self._set(conn, path, token.model_dump(mode="json"))

        await self._run(write, write=True)

    async def redeem_confirmation_token(
        self, tenant_id: str, token_hash: str, request_id: str, user: str, now: datetime
    ) -> ConfirmationToken:
        path = paths.confirmation_token(tenant_id, token_hash)

        def write(conn: sqlite3.Connection) -> ConfirmationToken:
            data = self._get(conn, path)
            stored = ConfirmationToken.model_validate(data) if data else None
            redeemed = redeem(stored, request_id=request_id, user=user, now=now)
            if redeemed != stored:
                self._set(conn, path, redeemed.model_dump(mode="json"))
            return redeemed

        return await self._run(write, write=True)

    # -- API tokens -------------------------------------------------------------------------
    async def put_api_token(self, token: ApiToken, event: AuditEvent | None = None) -> None:
        path = paths.api_token(token.token_hash)

        def write(conn: sqlite3.Connection) -> None:
            if self._get(conn, path) is not None:
                raise RecordConflict("token already exists", field="token")
            self._set(conn, path, token.model_dump(mode="json"))
            if event is not None:
                self._insert_audit(conn, event)

        await self._run(write, write=True)

    async def get_api_token(self, token_hash: str) -> ApiToken | None:
        data = await self._run(lambda c: self._get(c, paths.api_token(token_hash)))
        return ApiToken.model_validate(data) if data else None

    async def revoke_api_token(
        self, token_hash: str, now: datetime, event: AuditEvent | None = None
    ) -> ApiToken | None:
        path = paths.api_token(token_hash)

        def write(conn: sqlite3.Connection) -> ApiToken | None:
            data = self._get(conn, path)
            if data is None:
                return None
            token = ApiToken.model_validate(data)
            if token.revoked_at is None:
                token = token.model_copy(update={"revoked_at": now})
                self._set(conn, path, token.model_dump(mode="json"))
                if event is not None:
                    self._insert_audit(conn, event)
            return token

        return await self._run(write, write=True)
