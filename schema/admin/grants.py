"""Grants: roles held within a jurisdiction, and granting and revoking them inside the admin's own."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TypeVar

import strawberry
from strawberry import relay

from authz.catalogue import ROLES, Role
from models.account import Account as AccountRow
from models.base import utcnow
from models.grant import GrantStatus, grant_status
from models.grant import RoleGrant as GrantRow
from resolvers.admin import accounts as account_resolvers
from resolvers.admin import grants as grant_resolvers
from resolvers.errors import BadInput

from ..connection import Connection, to_connection
from ..context import Info
from ..enums import described
from ..errors import AdminError
from ..inputs import stored_in
from ..mutations import run_mutation
from ..nodes import node_id_of

described(Role, {r: spec.label for r, spec in ROLES.items()}, "角色 / role in the catalogue (README: roles)")
described(
    GrantStatus,
    {
        GrantStatus.ACTIVE: "有效 / in force",
        GrantStatus.EXPIRED: "已过期 / expired",
        GrantStatus.REVOKED: "已撤销 / revoked",
    },
    "授权状态 / grant status",
)


@strawberry.type(description="授权 / a role held by an account within a jurisdiction.")
class Grant(relay.Node):
    grant_id: strawberry.Private[int]
    username: str = strawberry.field(description="被授权账号 / the account holding the role.")
    role: Role = strawberry.field(description="角色 / role.")
    jurisdiction_code: str = strawberry.field(description="辖区代码（区划、学校或 CN）/ region, school or CN.")
    jurisdiction_path: str = strawberry.field(description="辖区路径 / jurisdiction path.")
    expires_at: datetime | None = strawberry.field(description="到期时间 / expires at (null: no expiry).")
    granted_by: str = strawberry.field(description="授权人 / granted by.")
    reason: str = strawberry.field(description="授权原因 / why.")
    granted_at: datetime = strawberry.field(description="授权时间 / granted at.")
    revoked_at: datetime | None = strawberry.field(description="撤销时间 / revoked at.")
    revoked_by: str | None = strawberry.field(description="撤销人 / revoked by.")
    revoke_reason: str | None = strawberry.field(description="撤销原因 / why revoked.")
    status: GrantStatus = strawberry.field(description="状态 / status now.")

    @classmethod
    def resolve_id(cls, root: Grant, *, info: Info) -> str:
        return str(root.grant_id)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Grant | None]:
        out: list[Grant | None] = []
        for grant_id in node_ids:
            try:
                row = await grant_resolvers.visible_grant(info.context, grant_id)
            except BadInput:
                out.append(None)
                continue
            out.append(await grant_from_row(info, row))
        return out


async def grant_from_row(info: Info, row: GrantRow, username: str | None = None) -> Grant:
    if username is None:
        username = (await account_resolvers.usernames(info.context, [row.account_id]))[row.account_id]
    return Grant(
        grant_id=row.id or 0,
        username=username,
        role=Role(row.role),
        jurisdiction_code=row.jurisdiction_code,
        jurisdiction_path=row.scope_path,
        expires_at=row.expires_at,
        granted_by=row.granted_by,
        reason=row.reason,
        granted_at=row.granted_at,
        revoked_at=row.revoked_at,
        revoked_by=row.revoked_by,
        revoke_reason=row.revoke_reason,
        status=grant_status(row, utcnow()),
    )


@strawberry.input(description="授权筛选 / grant filter.")
class GrantFilter:
    username: str | None = strawberry.field(default=None, description="账号 / account.")
    role: Role | None = strawberry.field(default=None, description="角色 / role.")
    jurisdiction_code: str | None = strawberry.field(default=None, description="辖区（含下级）/ within this subtree.")
    include_expired: bool = strawberry.field(default=False, description="含已过期 / include expired.")
    include_revoked: bool = strawberry.field(default=False, description="含已撤销 / include revoked.")


async def grants(
    info: Info, filter: GrantFilter | None = None, first: int | None = None, after: str | None = None
) -> Connection[Grant]:
    f = filter or GrantFilter()
    page = await grant_resolvers.list_grants(
        info.context,
        username=f.username,
        role=f.role,
        jurisdiction_code=f.jurisdiction_code,
        include_expired=f.include_expired,
        include_revoked=f.include_revoked,
        first=first,
        after=after,
    )
    names = await account_resolvers.usernames(info.context, [g.account_id for g in page.rows])
    nodes = {g.id: await grant_from_row(info, g, names[g.account_id]) for g in page.rows}
    return to_connection(page, node=lambda r: nodes[r.id], key=lambda r: str(r.id), after=after)


@strawberry.input(description="授予角色 / grant a role.")
class GrantRoleInput:
    username: str = strawberry.field(metadata=stored_in(AccountRow, "username"), description="账号 / account.")
    role: Role = strawberry.field(description="角色 / role.")
    jurisdiction_code: str = strawberry.field(
        metadata=stored_in(GrantRow, "jurisdiction_code"),
        description="辖区代码：区划、10 位学校标识码或 CN / jurisdiction.",
    )
    reason: str = strawberry.field(metadata=stored_in(GrantRow, "reason"), description="原因 / why.")
    expires_at: datetime | None = strawberry.field(default=None, description="到期时间 / expiry (optional).")


@strawberry.type(description="授予角色结果 / result of grantRole.")
class GrantRolePayload:
    grant: Grant | None = strawberry.field(default=None, description="授权 / the grant.")
    errors: list[AdminError] = strawberry.field(default_factory=list, description="错误 / typed errors.")


@strawberry.input(description="撤销授权 / revoke a grant.")
class RevokeGrantInput:
    grant_id: relay.GlobalID = strawberry.field(description="授权 ID / the grant's global ID.")
    reason: str = strawberry.field(metadata=stored_in(GrantRow, "revoke_reason"), description="原因 / why.")


@strawberry.type(description="撤销授权结果 / result of revokeGrant.")
class RevokeGrantPayload:
    grant: Grant | None = strawberry.field(default=None, description="授权 / the grant.")
    errors: list[AdminError] = strawberry.field(default_factory=list, description="错误 / typed errors.")


async def grant_role(info: Info, input: GrantRoleInput) -> GrantRolePayload:
    return await run_mutation(
        info,
        GrantRolePayload,
        lambda: grant_resolvers.grant_role(
            info.context,
            username=input.username,
            role=input.role,
            jurisdiction_code=input.jurisdiction_code,
            expires_at=input.expires_at,
            reason=input.reason,
        ),
        lambda row: _grant_payload(info, GrantRolePayload, row, input.username),
    )


async def revoke_grant(info: Info, input: RevokeGrantInput) -> RevokeGrantPayload:
    grant_id = node_id_of(input.grant_id, "Grant")
    return await run_mutation(
        info,
        RevokeGrantPayload,
        lambda: grant_resolvers.revoke_grant(info.context, grant_id=grant_id, reason=input.reason),
        lambda row: _grant_payload(info, RevokeGrantPayload, row),
    )


GrantPayload = TypeVar("GrantPayload", GrantRolePayload, RevokeGrantPayload)


async def _grant_payload(
    info: Info, payload: type[GrantPayload], row: GrantRow, username: str | None = None
) -> GrantPayload:
    return payload(grant=await grant_from_row(info, row, username))
