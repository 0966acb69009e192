"""Accounts and service tokens: create, disable, issue, revoke — each authorized and audited.

GraphQL callers act through their PERMISSION_ADMIN grants; the operator's CLI runs with
`Context.operator` (no principal), which is the only way to act without a grant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import col

from authz.catalogue import Role
from authz.delegation import check_delegation
from authz.enforcer import GrantRef
from authz.errors import Forbidden
from authz.passwords import MIN_PASSWORD_LENGTH, hash_password
from authz.principal import Principal
from authz.tokens import new_service_token
from models.account import Account, ApiToken
from models.base import utcnow
from models.repos import accounts as account_repo
from models.repos import grants as grant_repo
from models.repos import jurisdictions
from models.repos.paging import Page

from ..audit import record_change
from ..context import Context
from ..errors import BadInput
from ..live.events import announce_access_lost
from ..paging import decode_cursor, page_size

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


def viewer(ctx: Context) -> Principal:
    return ctx.signed_in()


def viewer_grants(ctx: Context) -> list[GrantRef]:
    """The caller's live grants, as the enforcer holds them."""
    access = ctx.access()
    return sorted(access.authorizer.grants_of(access.username, access.now), key=lambda g: (g.scope_path, g.role))


def viewer_permissions(ctx: Context) -> list[tuple[str, str]]:
    """(OBJECT:ACTION:LINE, jurisdiction path) pairs the caller holds now."""
    access = ctx.access()
    pairs = {
        (perm, g.scope_path)
        for g in viewer_grants(ctx)
        for perm, roles in access.authorizer.roles_with.items()
        if g.role in roles
    }
    return sorted(pairs)


def _authorize(ctx: Context, act: str, path: str) -> bool:
    """May the caller act on accounts at `path`? Operators (CLI) may; GraphQL callers need a grant."""
    if ctx.operator:
        return True
    return ctx.access().allows("ACCOUNT", act, {"PLACE": [path]}) is not None


def require_admin(ctx: Context) -> None:
    """Callers with no account-administration grant at all are refused outright (FORBIDDEN)."""
    if not ctx.operator and not ctx.access().holds_anywhere("ACCOUNT", "WRITE"):
        raise Forbidden()


async def visible_account(ctx: Context, username: str, act: str = "READ") -> Account:
    """The account, if the caller may act on it; otherwise it answers like a missing one."""
    account = await account_repo.get_account_by_username(ctx.session, username)
    if account is None or not _authorize(ctx, act, account.home_path):
        raise BadInput("username", "NOT_FOUND", "没有这个账号", "no such account")
    return account


async def usernames(ctx: Context, account_ids: list[int]) -> dict[int, str]:
    return await account_repo.usernames_of(ctx.session, account_ids)


async def list_accounts(
    ctx: Context,
    *,
    username_contains: str | None = None,
    include_disabled: bool = False,
    first: int | None = None,
    after: str | None = None,
) -> Page[Account]:
    scope = ctx.access().list_scope("ACCOUNT", "READ", {"PLACE": [col(Account.home_path)]})
    return await account_repo.list_accounts(
        ctx.session,
        scope=scope,
        username_contains=username_contains,
        include_disabled=include_disabled,
        after=decode_cursor(after),
        limit=page_size(first),
    )


async def create_account(
    ctx: Context,
    *,
    username: str,
    display_name: str,
    password: str | None,
    is_service: bool = False,
    jurisdiction_code: str | None = None,
) -> Account:
    require_admin(ctx)
    if not USERNAME.match(username):
        raise BadInput(
            "username",
            "INVALID_USERNAME",
            "用户名须为 3–64 位小写字母、数字或 . _ -",
            "username must be 3–64 lowercase letters, digits or . _ -",
        )
    if not display_name.strip():
        raise BadInput("displayName", "REQUIRED", "显示名称不能为空", "display name is required")
    if is_service and password:
        raise BadInput(
            "password", "SERVICE_NO_PASSWORD", "服务账号不能设置密码", "service accounts sign in with tokens only"
        )
    if not is_service and (password is None or len(password) < MIN_PASSWORD_LENGTH):
        raise BadInput(
            "password",
            "PASSWORD_TOO_SHORT",
            f"密码至少 {MIN_PASSWORD_LENGTH} 位",
            f"password must have at least {MIN_PASSWORD_LENGTH} characters",
        )
    home = "" if jurisdiction_code is None else await jurisdictions.path_of(ctx.session, jurisdiction_code)
    if home is None:
        raise BadInput("jurisdictionCode", "NOT_FOUND", "没有这个辖区", "no such jurisdiction")
    if not _authorize(ctx, "WRITE", home):
        raise BadInput("jurisdictionCode", "OUT_OF_SCOPE", "超出您的管辖范围", "outside your jurisdiction")
    if await account_repo.get_account_by_username(ctx.session, username) is not None:
        raise BadInput("username", "DUPLICATE_USERNAME", "用户名已存在", "username already taken")
    account = await account_repo.add_account(
        ctx.session,
        Account(
            username=username,
            display_name=display_name.strip(),
            password_hash=hash_password(password) if password else None,
            is_service=is_service,
            home_path=home,
        ),
    )
    await record_change(
        ctx,
        action="account.create",
        target_type="Account",
        target_id=username,
        scope_path=home,
        summary={"after": {"displayName": account.display_name, "isService": is_service, "home": home}},
    )
    return account


async def disable_account(ctx: Context, *, username: str, reason: str) -> Account:
    require_admin(ctx)
    account = await visible_account(ctx, username, "WRITE")
    if ctx.principal is not None and account.username == ctx.principal.username:
        raise BadInput("username", "SELF_GRANT", "不能停用自己的账号", "you cannot disable your own account")
    if not reason.strip():
        raise BadInput("reason", "REQUIRED", "停用原因不能为空", "a reason is required")
    if not ctx.operator:
        # Disabling silences every grant the account holds: only for an admin who could revoke them all.
        assert account.id is not None
        for grant in await grant_repo.live_grants_of(ctx.session, account.id, utcnow()):
            refusal = check_delegation(
                ctx.access(), grantee=username, role=Role(grant.role), jurisdiction_path=grant.scope_path
            )
            if refusal is not None:
                raise BadInput(
                    "username",
                    "ESCALATION",
                    "该账号持有您无权撤销的授权",
                    "the account holds grants you could not revoke",
                )
    if account.active:
        account.active = False
        account.disabled_at = utcnow()
        account.version += 1
        await ctx.session.flush()
        await record_change(
            ctx,
            action="account.disable",
            target_type="Account",
            target_id=username,
            scope_path=account.home_path,
            summary={"before": {"active": True}, "after": {"active": False}},
            reason=reason,
        )
    return account


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str


async def create_token(ctx: Context, *, username: str, name: str, valid_days: int) -> IssuedToken:
    """Issue a service-account token; the secret is returned this once only."""
    require_admin(ctx)
    account = await visible_account(ctx, username, "WRITE")
    if not account.is_service:
        raise BadInput(
            "username", "NOT_A_SERVICE_ACCOUNT", "只能为服务账号签发令牌", "tokens are for service accounts only"
        )
    if not 1 <= valid_days <= 366:
        raise BadInput("validDays", "OUT_OF_RANGE", "有效期须为 1–366 天", "validity must be 1–366 days")
    assert account.id is not None
    new = new_service_token()
    token = await account_repo.add_token(
        ctx.session,
        ApiToken(
            account_id=account.id,
            name=name,
            prefix=new.prefix,
            token_hash=new.token_hash,
            created_by=ctx.actor,
            expires_at=utcnow() + timedelta(days=valid_days),
        ),
    )
    await record_change(
        ctx,
        action="token.create",
        target_type="ApiToken",
        target_id=new.prefix,
        scope_path=account.home_path,
        summary={"after": {"account": username, "name": name, "expiresAt": token.expires_at.isoformat()}},
    )
    return IssuedToken(token=token, secret=new.secret)


async def revoke_token(ctx: Context, *, prefix: str, reason: str) -> ApiToken:
    require_admin(ctx)
    token = await account_repo.get_token_by_prefix(ctx.session, prefix)
    owner = await account_repo.get_account(ctx.session, token.account_id) if token else None
    if token is None or owner is None or not _authorize(ctx, "WRITE", owner.home_path):
        raise BadInput("prefix", "NOT_FOUND", "没有这个令牌", "no such token")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        await ctx.session.flush()
        await record_change(
            ctx,
            action="token.revoke",
            target_type="ApiToken",
            target_id=prefix,
            scope_path=owner.home_path,
            reason=reason,
        )
        await announce_access_lost(ctx.session, owner.username)  # its live connections close (README)
    return token
