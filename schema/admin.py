"""Role administration: accounts, grants, the audit log and explainAccess, for permission admins."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from enum import Enum
from typing import TypeVar

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from authz.catalogue import ROLES, Role
from models.account import Account as AccountRow
from models.audit import AuditLog as AuditRow
from models.base import utcnow
from models.grant import GrantStatus, grant_status
from models.grant import RoleGrant as GrantRow
from resolvers.admin import accounts as account_resolvers
from resolvers.admin import audit_log as audit_resolvers
from resolvers.admin import explain as explain_resolvers
from resolvers.admin import grants as grant_resolvers
from resolvers.errors import BadInput

from .connection import to_connection
from .context import Info
from .enums import described
from .mutations import run_mutation
from .nodes import node_id_of

described(Role, {r: spec.label for r, spec in ROLES.items()}, "角色 / role in the catalogue (README: roles)")

T = TypeVar("T")


@strawberry.enum(description="管理操作的错误代码 / error codes of administration mutations")
class AdminErrorCode(Enum):
    REQUIRED = strawberry.enum_value("REQUIRED", description="必填 / a required value is missing")
    NOT_FOUND = strawberry.enum_value("NOT_FOUND", description="不存在或不在辖区内 / missing or outside your view")
    OUT_OF_SCOPE = strawberry.enum_value("OUT_OF_SCOPE", description="超出管辖范围 / outside your jurisdiction")
    ESCALATION = strawberry.enum_value("ESCALATION", description="越权授予 / you may not delegate this role")
    SELF_GRANT = strawberry.enum_value("SELF_GRANT", description="不能对自己操作 / not on yourself")
    LEVEL_MISMATCH = strawberry.enum_value("LEVEL_MISMATCH", description="角色与辖区级别不符 / wrong level")
    DUPLICATE = strawberry.enum_value("DUPLICATE", description="已存在 / already exists")
    DUPLICATE_USERNAME = strawberry.enum_value("DUPLICATE_USERNAME", description="用户名已存在 / username taken")
    ALREADY_REVOKED = strawberry.enum_value("ALREADY_REVOKED", description="已撤销 / already revoked")
    INVALID_EXPIRY = strawberry.enum_value("INVALID_EXPIRY", description="到期时间无效 / expiry not in the future")
    INVALID_USERNAME = strawberry.enum_value("INVALID_USERNAME", description="用户名格式不对 / bad username")
    PASSWORD_TOO_SHORT = strawberry.enum_value("PASSWORD_TOO_SHORT", description="密码太短 / password too short")
    SERVICE_NO_PASSWORD = strawberry.enum_value("SERVICE_NO_PASSWORD", description="服务账号无密码 / no password")


@strawberry.type(description="用户错误 / a typed, bilingual error naming the input field and the rule.")
class AdminError:
    field: str = strawberry.field(description="出错的输入字段 / the input field.")
    code: AdminErrorCode = strawberry.field(description="错误代码 / the rule broken.")
    message: str = strawberry.field(description="中英文说明 / message in Chinese and English.")


async def admin_mutation(info: Info, work: Callable[[], Awaitable[T]]) -> tuple[T | None, list[AdminError]]:
    return await run_mutation(info, work, AdminError, AdminErrorCode)


described(
    GrantStatus,
    {
        GrantStatus.ACTIVE: "有效 / in force",
        GrantStatus.EXPIRED: "已过期 / expired",
        GrantStatus.REVOKED: "已撤销 / revoked",
    },
    "授权状态 / grant status",
)


@strawberry.type(description="账号 / an account (person or service).")
class Account(relay.Node):
    username: str = strawberry.field(description="用户名 / username.")
    display_name: str = strawberry.field(description="显示名称 / display name.")
    is_service: bool = strawberry.field(description="服务账号 / service account (token sign-in only).")
    active: bool = strawberry.field(description="是否启用 / active (disabled accounts are kept, never deleted).")
    home_path: str = strawberry.field(description="所属辖区路径 / the jurisdiction the account belongs to.")
    created_at: datetime = strawberry.field(description="创建时间 / created at.")
    disabled_at: datetime | None = strawberry.field(description="停用时间 / disabled at.")

    @classmethod
    def resolve_id(cls, root: Account, *, info: Info) -> str:
        return root.username

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Account | None]:
        out: list[Account | None] = []
        for username in node_ids:
            try:
                out.append(cls.from_row(await account_resolvers.visible_account(info.context, username)))
            except BadInput:
                out.append(None)
        return out

    @classmethod
    def from_row(cls, row: AccountRow) -> Account:
        return cls(
            username=row.username,
            display_name=row.display_name,
            is_service=row.is_service,
            active=row.active,
            home_path=row.home_path,
            created_at=row.created_at,
            disabled_at=row.disabled_at,
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


@strawberry.type(description="审计记录 / an audit-log entry.")
class AuditEntry(relay.Node):
    entry_id: strawberry.Private[int]
    at: datetime = strawberry.field(description="时间 / when.")
    actor: str = strawberry.field(description="操作人 / who.")
    action: str = strawberry.field(description="操作 / what, e.g. grant.create.")
    target_type: str = strawberry.field(description="对象类型 / target type.")
    target_id: str = strawberry.field(description="对象 / target id.")
    scope_path: str = strawberry.field(description="对象所属辖区 / the target's jurisdiction.")
    reason: str | None = strawberry.field(description="原因 / why.")
    summary: JSON = strawberry.field(description="变更前后摘要 / before/after summary.")
    request_id: str | None = strawberry.field(description="请求 ID / request id.")

    @classmethod
    def resolve_id(cls, root: AuditEntry, *, info: Info) -> str:
        return str(root.entry_id)

    @classmethod
    def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[AuditEntry | None]:
        return [None for _ in node_ids]  # read the log through `auditLog`

    @classmethod
    def from_row(cls, row: AuditRow) -> AuditEntry:
        return cls(
            entry_id=row.id or 0,
            at=row.at,
            actor=row.actor,
            action=row.action,
            target_type=row.target_type,
            target_id=row.target_id,
            scope_path=row.scope_path,
            reason=row.reason,
            summary=JSON(row.summary),
            request_id=row.request_id,
        )


@strawberry.type(description="账号列表 / a page of accounts.")
class AccountConnection(relay.Connection[Account]):
    total_count: int = strawberry.field(description="总数 / how many match.")


@strawberry.type(description="授权列表 / a page of grants.")
class GrantConnection(relay.Connection[Grant]):
    total_count: int = strawberry.field(description="总数 / how many match.")


@strawberry.type(description="审计日志 / a page of audit entries.")
class AuditConnection(relay.Connection[AuditEntry]):
    total_count: int = strawberry.field(description="总数 / how many match.")


@strawberry.input(description="账号筛选 / account filter.")
class AccountFilter:
    username_contains: str | None = strawberry.field(default=None, description="用户名包含 / username contains.")
    include_disabled: bool = strawberry.field(default=False, description="含已停用 / include disabled accounts.")


@strawberry.input(description="授权筛选 / grant filter.")
class GrantFilter:
    username: str | None = strawberry.field(default=None, description="账号 / account.")
    role: Role | None = strawberry.field(default=None, description="角色 / role.")
    jurisdiction_code: str | None = strawberry.field(default=None, description="辖区（含下级）/ within this subtree.")
    include_expired: bool = strawberry.field(default=False, description="含已过期 / include expired.")
    include_revoked: bool = strawberry.field(default=False, description="含已撤销 / include revoked.")


@strawberry.input(description="审计筛选 / audit filter.")
class AuditFilter:
    action: str | None = strawberry.field(default=None, description="操作 / action, e.g. grant.revoke.")
    actor: str | None = strawberry.field(default=None, description="操作人 / actor.")
    target_type: str | None = strawberry.field(default=None, description="对象类型 / target type.")


async def accounts(
    info: Info, filter: AccountFilter | None = None, first: int | None = None, after: str | None = None
) -> AccountConnection:
    f = filter or AccountFilter()
    page = await account_resolvers.list_accounts(
        info.context,
        username_contains=f.username_contains,
        include_disabled=f.include_disabled,
        first=first,
        after=after,
    )
    return to_connection(AccountConnection, page, node=Account.from_row, key=lambda r: r.username, after=after)


async def grants(
    info: Info, filter: GrantFilter | None = None, first: int | None = None, after: str | None = None
) -> GrantConnection:
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
    return to_connection(GrantConnection, page, node=lambda r: nodes[r.id], key=lambda r: str(r.id), after=after)


async def audit_log(
    info: Info, filter: AuditFilter | None = None, first: int | None = None, after: str | None = None
) -> AuditConnection:
    f = filter or AuditFilter()
    page = await audit_resolvers.list_audit_log(
        info.context, action=f.action, actor=f.actor, target_type=f.target_type, first=first, after=after
    )
    return to_connection(AuditConnection, page, node=AuditEntry.from_row, key=lambda r: str(r.id), after=after)


@strawberry.type(description="访问判定的一步 / one step of an access explanation.")
class AccessStep:
    kind: str = strawberry.field(description="GRANT | ROLE | POLICY | SCOPE | REFUSAL")
    detail: str = strawberry.field(description="说明 / what this step found.")


@strawberry.type(description="访问判定 / whether an account may act on an object, and why.")
class AccessExplanation:
    allowed: bool = strawberry.field(description="是否允许 / allowed or not.")
    steps: list[AccessStep] = strawberry.field(
        description="允许时：授权→角色→策略→范围；拒绝时：第一条拒绝的规则 / the chain, or the first refusal."
    )


async def explain_access(info: Info, username: str, action: str, object_id: relay.GlobalID) -> AccessExplanation:
    result = await explain_resolvers.explain_access(
        info.context, username=username, action=action, type_name=object_id.type_name, object_id=object_id.node_id
    )
    return AccessExplanation(
        allowed=result.allowed, steps=[AccessStep(kind=s.kind, detail=s.detail) for s in result.steps]
    )


# -- mutations --------------------------------------------------------------------------------


@strawberry.input(description="新建账号 / create an account.")
class CreateAccountInput:
    username: str = strawberry.field(description="用户名 / username (3–64 of a-z 0-9 . _ -).")
    display_name: str = strawberry.field(description="显示名称 / display name.")
    jurisdiction_code: str = strawberry.field(description="所属辖区代码 / the jurisdiction it belongs to.")
    password: str | None = strawberry.field(default=None, description="密码（服务账号不填）/ password.")
    is_service: bool = strawberry.field(default=False, description="服务账号 / service account.")


@strawberry.type(description="新建账号结果 / result of createAccount.")
class CreateAccountPayload:
    account: Account | None = strawberry.field(description="新账号 / the new account.")
    errors: list[AdminError] = strawberry.field(description="错误 / typed errors (empty on success).")


@strawberry.input(description="停用账号 / disable an account.")
class DisableAccountInput:
    username: str = strawberry.field(description="用户名 / username.")
    reason: str = strawberry.field(description="原因 / why.")


@strawberry.type(description="停用账号结果 / result of disableAccount.")
class DisableAccountPayload:
    account: Account | None = strawberry.field(description="账号 / the account.")
    errors: list[AdminError] = strawberry.field(description="错误 / typed errors.")


@strawberry.input(description="授予角色 / grant a role.")
class GrantRoleInput:
    username: str = strawberry.field(description="账号 / account.")
    role: Role = strawberry.field(description="角色 / role.")
    jurisdiction_code: str = strawberry.field(description="辖区代码：区划、10 位学校标识码或 CN / jurisdiction.")
    reason: str = strawberry.field(description="原因 / why.")
    expires_at: datetime | None = strawberry.field(default=None, description="到期时间 / expiry (optional).")


@strawberry.type(description="授予角色结果 / result of grantRole.")
class GrantRolePayload:
    grant: Grant | None = strawberry.field(description="授权 / the grant.")
    errors: list[AdminError] = strawberry.field(description="错误 / typed errors.")


@strawberry.input(description="撤销授权 / revoke a grant.")
class RevokeGrantInput:
    grant_id: relay.GlobalID = strawberry.field(description="授权 ID / the grant's global ID.")
    reason: str = strawberry.field(description="原因 / why.")


@strawberry.type(description="撤销授权结果 / result of revokeGrant.")
class RevokeGrantPayload:
    grant: Grant | None = strawberry.field(description="授权 / the grant.")
    errors: list[AdminError] = strawberry.field(description="错误 / typed errors.")


async def create_account(info: Info, input: CreateAccountInput) -> CreateAccountPayload:
    row, errors = await admin_mutation(
        info,
        lambda: account_resolvers.create_account(
            info.context,
            username=input.username,
            display_name=input.display_name,
            password=input.password,
            is_service=input.is_service,
            jurisdiction_code=input.jurisdiction_code,
        ),
    )
    return CreateAccountPayload(account=Account.from_row(row) if row else None, errors=errors)


async def disable_account(info: Info, input: DisableAccountInput) -> DisableAccountPayload:
    row, errors = await admin_mutation(
        info, lambda: account_resolvers.disable_account(info.context, username=input.username, reason=input.reason)
    )
    return DisableAccountPayload(account=Account.from_row(row) if row else None, errors=errors)


async def grant_role(info: Info, input: GrantRoleInput) -> GrantRolePayload:
    row, errors = await admin_mutation(
        info,
        lambda: grant_resolvers.grant_role(
            info.context,
            username=input.username,
            role=input.role,
            jurisdiction_code=input.jurisdiction_code,
            expires_at=input.expires_at,
            reason=input.reason,
        ),
    )
    return GrantRolePayload(grant=await grant_from_row(info, row, input.username) if row else None, errors=errors)


async def revoke_grant(info: Info, input: RevokeGrantInput) -> RevokeGrantPayload:
    grant_id = node_id_of(input.grant_id, "Grant")
    row, errors = await admin_mutation(
        info, lambda: grant_resolvers.revoke_grant(info.context, grant_id=grant_id, reason=input.reason)
    )
    return RevokeGrantPayload(grant=await grant_from_row(info, row) if row else None, errors=errors)
