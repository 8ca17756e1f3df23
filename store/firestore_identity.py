"""Who may act, on Firestore (IdentityStore): the approver directory, LIVE confirmation tokens
(single use under races: only one create of the redemption marker succeeds) and API bearer
tokens, stored as hashes only. A directory change or a token's issue or revocation is written in
one batch with its audit event (firestore_audit.write_with_audit)."""

from __future__ import annotations

from datetime import datetime

from governance.errors import RecordConflict
from governance.identity import ApiToken
from governance.live import ConfirmationToken, TokenRefused, redeem
from governance.records import AuditEvent
from governance.roles import Role
from store import paths
from store.firestore_audit import write_with_audit
from store.firestore_base import FirestoreBase


class FirestoreIdentity(FirestoreBase):
    # -- approver directory ---------------------------------------------------------------
    async def put_approver(
        self, tenant_id: str, user: str, roles: list[Role], event: AuditEvent | None = None
    ) -> None:
        data = {"user": user, "roles": sorted({Role(r).value for r in roles})}
        if event is None:
            await self._set(paths.approver(tenant_id, user), data)
        else:
            await write_with_audit(self.client, event, sets={paths.approver(tenant_id, user): data})

    async def get_approver_roles(self, tenant_id: str, user: str) -> list[Role] | None:
        data = await self._get(paths.approver(tenant_id, user))
        return [Role(r) for r in data["roles"]] if data else None

    async def list_approvers(self, tenant_id: str) -> dict[str, list[Role]]:
        docs = sorted(await self._list(paths.approvers(tenant_id)), key=lambda d: d["user"])
        return {d["user"]: [Role(r) for r in d["roles"]] for d in docs}

    # -- tokens ---------------------------------------------------------------------------
    async def put_confirmation_token(self, token: ConfirmationToken) -> None:
        path = paths.confirmation_token(token.tenant_id, token.token_hash)
        if not await self._create(path, token.model_dump(mode="json")):
            raise RecordConflict("confirmation token already issued", field="token")

    async def redeem_confirmation_token(
        self, tenant_id: str, token_hash: str, request_id: str, user: str, now: datetime
    ) -> ConfirmationToken:
        path = paths.confirmation_token(tenant_id, token_hash)
        data = await self._get(path)
        stored = ConfirmationToken.model_validate(data) if data else None
        redeemed = redeem(stored, request_id=request_id, user=user, now=now)
        if redeemed == stored:
            return redeemed  # a retry of this very redemption
        # Single use under races: only one create of the marker can succeed.
        marker = paths.confirmation_redemption(tenant_id, token_hash)
        mine = {"redeemed_at": now.isoformat(), "user": user, "request_id": request_id}
        if not await self._create(marker, mine) and await self._get(marker) != mine:
            raise TokenRefused("confirmation token already used", field="confirmation_token")
        await self._set(path, redeemed.model_dump(mode="json"))
        return redeemed

    async def put_api_token(self, token: ApiToken, event: AuditEvent | None = None) -> None:
        path, data = paths.api_token(token.token_hash), token.model_dump(mode="json")
        if event is None:
            if not await self._create(path, data):
                raise RecordConflict("token already exists", field="token")
            return
        taken = RecordConflict("token already exists", field="token")
        await write_with_audit(self.client, event, creates={path: data}, taken=taken)

    async def get_api_token(self, token_hash: str) -> ApiToken | None:
        data = await self._get(paths.api_token(token_hash))
        return ApiToken.model_validate(data) if data else None

    async def revoke_api_token(
        self, token_hash: str, now: datetime, event: AuditEvent | None = None
    ) -> ApiToken | None:
        token = await self.get_api_token(token_hash)
        if token is None:
            return None
        if token.revoked_at is None:
            token = token.model_copy(update={"revoked_at": now})
            path, data = paths.api_token(token_hash), token.model_dump(mode="json")
            if event is None:
                await self._set(path, data)
            else:
                await write_with_audit(self.client, event, sets={path: data})
        return token
