"""Accounts (people and services): the list, and creating and disabling them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import relay

from models.account import Account as AccountRow
from models.audit import AuditLog as AuditRow
from resolvers.admin import accounts as account_resolvers
from resolvers.errors import BadInput

from ..connection import Connection, to_connection
from ..context import Info
from ..errors import AdminError
from ..inputs import stored_in, text
from ..mutations import run_mutation


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


@strawberry.input(description="账号筛选 / account filter.")
class AccountFilter:
    username_contains: str | None = strawberry.field(default=None, description="用户名包含 / username contains.")
    include_disabled: bool = strawberry.field(default=False, description="含已停用 / include disabled accounts.")


async def accounts(
    info: Info, filter: AccountFilter | None = None, first: int | None = None, after: str | None = None
) -> Connection[Account]:
    f = filter or AccountFilter()
    page = await account_resolvers.list_accounts(
        info.context,
        username_contains=f.username_contains,
        include_disabled=f.include_disabled,
        first=first,
        after=after,
    )
    return to_connection(page, node=Account.from_row, key=lambda r: r.username, after=after)


@strawberry.input(description="新建账号 / create an account.")
class CreateAccountInput:
    username: str = strawberry.field(
        metadata=stored_in(AccountRow, "username"), description="用户名 / username (3–64 of a-z 0-9 . _ -)."
    )
    display_name: str = strawberry.field(
        metadata=stored_in(AccountRow, "display_name"), description="显示名称 / display name."
    )
    jurisdiction_code: str = strawberry.field(description="所属辖区代码 / the jurisdiction it belongs to.")
    password: str | None = strawberry.field(
        metadata=text(256), default=None, description="密码（服务账号不填）/ password."
    )
    is_service: bool = strawberry.field(default=False, description="服务账号 / service account.")


@strawberry.type(description="新建账号结果 / result of createAccount.")
class CreateAccountPayload:
    account: Account | None = strawberry.field(default=None, description="新账号 / the new account.")
    errors: list[AdminError] = strawberry.field(
        default_factory=list, description="错误 / typed errors (empty on success)."
    )


@strawberry.input(description="停用账号 / disable an account.")
class DisableAccountInput:
    username: str = strawberry.field(metadata=stored_in(AccountRow, "username"), description="用户名 / username.")
    reason: str = strawberry.field(metadata=stored_in(AuditRow, "reason"), description="原因 / why.")


@strawberry.type(description="停用账号结果 / result of disableAccount.")
class DisableAccountPayload:
    account: Account | None = strawberry.field(default=None, description="账号 / the account.")
    errors: list[AdminError] = strawberry.field(default_factory=list, description="错误 / typed errors.")


async def create_account(info: Info, input: CreateAccountInput) -> CreateAccountPayload:
    return await run_mutation(
        info,
        CreateAccountPayload,
        lambda: account_resolvers.create_account(
            info.context,
            username=input.username,
            display_name=input.display_name,
            password=input.password,
            is_service=input.is_service,
            jurisdiction_code=input.jurisdiction_code,
        ),
        lambda row: CreateAccountPayload(account=Account.from_row(row)),
    )


async def disable_account(info: Info, input: DisableAccountInput) -> DisableAccountPayload:
    return await run_mutation(
        info,
        DisableAccountPayload,
        lambda: account_resolvers.disable_account(info.context, username=input.username, reason=input.reason),
        lambda row: DisableAccountPayload(account=Account.from_row(row)),
    )
