"""Accounts and service tokens: creating, disabling, issuing and revoking, each audited.

Role administration (who may do this over GraphQL) arrives with the authorization issue;
today these run from the operator's CLI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from authz.passwords import MIN_PASSWORD_LENGTH, hash_password
from authz.principal import Principal
from authz.tokens import new_service_token
from models.account import Account, ApiToken
from models.base import utcnow
from models.repos import accounts as account_repo
from models.repos import audit

from .context import Context
from .errors import BadInput

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


def viewer(ctx: Context) -> Principal:
    return ctx.signed_in()


async def _existing(ctx: Context, username: str) -> Account:
    account = await account_repo.get_account_by_username(ctx.session, username)
    if account is None:
        raise BadInput("username", "UNKNOWN_ACCOUNT", "没有这个账号", "no such account")
    return account


async def create_account(
    ctx: Context, *, username: str, display_name: str, password: str | None, is_service: bool = False
) -> Account:
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
    if await account_repo.get_account_by_username(ctx.session, username) is not None:
        raise BadInput("username", "DUPLICATE_USERNAME", "用户名已存在", "username already taken")
    account = await account_repo.add_account(
        ctx.session,
        Account(
            username=username,
            display_name=display_name.strip(),
            password_hash=hash_password(password) if password else None,
            is_service=is_service,
        ),
    )
    await audit.record(
        ctx.session,
        actor=ctx.actor,
        action="account.create",
        object_type="Account",
        object_id=username,
        summary={"after": {"displayName": account.display_name, "isService": is_service}},
        request_id=ctx.request_id,
    )
    return account


async def disable_account(ctx: Context, *, username: str, reason: str) -> Account:
    account = await _existing(ctx, username)
    if not reason.strip():
        raise BadInput("reason", "REQUIRED", "停用原因不能为空", "a reason is required")
    if account.active:
        account.active = False
        account.disabled_at = utcnow()
        account.version += 1
        await ctx.session.flush()
        await audit.record(
            ctx.session,
            actor=ctx.actor,
            action="account.disable",
            object_type="Account",
            object_id=username,
            summary={"before": {"active": True}, "after": {"active": False}, "reason": reason},
            request_id=ctx.request_id,
        )
    return account


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str


async def create_token(ctx: Context, *, username: str, name: str, valid_days: int) -> IssuedToken:
    """Issue a service-account token; the secret is returned this once only."""
    account = await _existing(ctx, username)
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
    await audit.record(
        ctx.session,
        actor=ctx.actor,
        action="token.create",
        object_type="ApiToken",
        object_id=new.prefix,
        summary={"after": {"account": username, "name": name, "expiresAt": token.expires_at.isoformat()}},
        request_id=ctx.request_id,
    )
    return IssuedToken(token=token, secret=new.secret)


async def revoke_token(ctx: Context, *, prefix: str, reason: str) -> ApiToken:
    token = await account_repo.get_token_by_prefix(ctx.session, prefix)
    if token is None:
        raise BadInput("prefix", "UNKNOWN_TOKEN", "没有这个令牌", "no such token")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        await ctx.session.flush()
        await audit.record(
            ctx.session,
            actor=ctx.actor,
            action="token.revoke",
            object_type="ApiToken",
            object_id=prefix,
            summary={"reason": reason},
            request_id=ctx.request_id,
        )
    return token
