"""Role administration: granting and revoking roles inside the admin's own jurisdiction."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col

from authz.catalogue import Role, level_of_path, role_fits_level
from authz.delegation import DelegationRefusal, check_delegation
from authz.errors import Forbidden
from authz.state import GrantChange, publish
from models.base import utcnow
from models.grant import RoleGrant
from models.repos import accounts as account_repo
from models.repos import grants as grant_repo
from models.repos import jurisdictions
from models.repos.paging import Page

from ..audit import record_change
from ..context import Context
from ..errors import BadInput
from ..paging import INT4_MAX, decode_id_cursor, page_size, parse_id
from .accounts import visible_account
from .errors import AdminErrorCode

REPLACED_ON_EXPIRY = "已到期，由新授权接替 / expired; replaced by a new grant of the role"


def _refuse(field: str, refusal: DelegationRefusal) -> BadInput:
    return BadInput(field, AdminErrorCode[refusal])


def _require_grant_admin(ctx: Context) -> None:
    if not ctx.operator and not ctx.access().holds_anywhere("GRANT", "WRITE"):
        raise Forbidden()


def _delegation_refusal(ctx: Context, grantee: str, role: Role, path: str) -> DelegationRefusal | None:
    """The operator (CLI) may grant anything that fits its level; admins follow the delegation rules."""
    if ctx.operator:
        return None if role_fits_level(role, level_of_path(path)) else "LEVEL_MISMATCH"
    return check_delegation(ctx.access(), grantee=grantee, role=role, jurisdiction_path=path)


def _change(op: str, grant: RoleGrant, username: str) -> GrantChange:
    expires = grant.expires_at.isoformat() if grant.expires_at else None
    return GrantChange(op, grant.id or 0, username, grant.role, grant.scope_path, expires)


async def _announce(ctx: Context, change: GrantChange) -> None:
    """Every process learns of the change once it commits; this one applies it right after."""
    await publish(ctx.session, change)
    if ctx.apply_grant_change is not None:
        apply = ctx.apply_grant_change
        ctx.on_commit.append(lambda: apply(change))


async def grant_role(
    ctx: Context,
    *,
    username: str,
    role: Role,
    jurisdiction_code: str,
    expires_at: datetime | None,
    reason: str,
) -> RoleGrant:
    _require_grant_admin(ctx)
    if not reason.strip():
        raise BadInput("reason", "REQUIRED", "授权原因不能为空", "a reason is required")
    account = await visible_account(ctx, username)
    path = await jurisdictions.path_of(ctx.session, jurisdiction_code)
    if path is None:
        raise BadInput("jurisdictionCode", "NOT_FOUND", "没有这个辖区", "no such jurisdiction")
    if expires_at is not None and expires_at <= utcnow():
        raise BadInput("expiresAt", "INVALID_EXPIRY", "到期时间须在将来", "the expiry must be in the future")
    refusal = _delegation_refusal(ctx, account.username, role, path)
    if refusal is not None:
        raise _refuse("username" if refusal == "SELF_GRANT" else "role", refusal)
    assert account.id is not None
    now = utcnow()
    # An expired grant nobody revoked still holds the unique index on live grants: the new one ends it.
    ended = await grant_repo.end_expired(
        ctx.session, account.id, role.value, path, now=now, by=ctx.actor, reason=REPLACED_ON_EXPIRY
    )
    grant = await grant_repo.insert_unless_live(
        ctx.session,
        {
            "account_id": account.id,
            "role": role.value,
            "jurisdiction_code": jurisdiction_code,
            "scope_path": path,
            "expires_at": expires_at,
            "granted_by": ctx.actor,
            "reason": reason.strip(),
            "granted_at": now,
        },
    )
    if grant is None:  # held already, or granted by another admin a moment ago (ARCHITECTURE §12)
        raise BadInput("role", "DUPLICATE", "该账号在此辖区已有这个角色", "the account already holds this role here")
    for old in ended:
        await record_change(
            ctx,
            action="grant.revoke",
            target_type="Grant",
            target_id=str(old.id),
            scope_path=old.scope_path,
            summary={"before": {"expired": True}, "after": {"revoked": True, "replacedBy": grant.id}},
            reason=REPLACED_ON_EXPIRY,
        )
        await _announce(ctx, _change("remove", old, account.username))
    await record_change(
        ctx,
        action="grant.create",
        target_type="Grant",
        target_id=str(grant.id),
        scope_path=path,
        summary={"after": {"account": username, "role": role.value, "jurisdiction": jurisdiction_code}},
        reason=reason,
    )
    await _announce(ctx, _change("add", grant, account.username))
    return grant


async def visible_grant(ctx: Context, grant_id: str, act: str = "READ", *, lock: bool = False) -> RoleGrant:
    number = parse_id(grant_id, limit=INT4_MAX)  # role_grant.id is an integer
    if number is None:
        grant = None
    else:
        grant = await (grant_repo.lock_grant if lock else grant_repo.get_grant)(ctx.session, number)
    visible = grant is not None and (ctx.operator or ctx.access().allows("GRANT", act, {"PLACE": [grant.scope_path]}))
    if grant is None or not visible:
        raise BadInput("grantId", "NOT_FOUND", "没有这条授权", "no such grant")
    return grant


async def revoke_grant(ctx: Context, *, grant_id: str, reason: str) -> RoleGrant:
    _require_grant_admin(ctx)
    if not reason.strip():
        raise BadInput("reason", "REQUIRED", "撤销原因不能为空", "a reason is required")
    # Locked and read afresh: of ten revocations at once one revokes, the rest find it revoked (§12).
    grant = await visible_grant(ctx, grant_id, lock=True)
    if grant.revoked_at is not None:
        raise BadInput("grantId", "ALREADY_REVOKED", "该授权已撤销", "the grant is already revoked")
    username = (await account_repo.usernames_of(ctx.session, [grant.account_id]))[grant.account_id]
    refusal = _delegation_refusal(ctx, username, Role(grant.role), grant.scope_path)
    if refusal is not None:
        raise _refuse("grantId", refusal)
    grant.revoked_at = utcnow()
    grant.revoked_by = ctx.actor
    grant.revoke_reason = reason.strip()
    await ctx.session.flush()
    await record_change(
        ctx,
        action="grant.revoke",
        target_type="Grant",
        target_id=str(grant.id),
        scope_path=grant.scope_path,
        summary={"before": {"revoked": False}, "after": {"revoked": True, "account": username, "role": grant.role}},
        reason=reason,
    )
    await _announce(ctx, _change("remove", grant, username))
    return grant


async def list_grants(
    ctx: Context,
    *,
    username: str | None = None,
    role: Role | None = None,
    jurisdiction_code: str | None = None,
    include_expired: bool = False,
    include_revoked: bool = False,
    first: int | None = None,
    after: str | None = None,
) -> Page[RoleGrant]:
    scope = ctx.access().list_scope("GRANT", "READ", {"PLACE": [col(RoleGrant.scope_path)]})
    account_id = None
    if username is not None:
        account = await account_repo.get_account_by_username(ctx.session, username)
        account_id = account.id if account else -1
    subtree = None
    if jurisdiction_code is not None:
        subtree = await jurisdictions.path_of(ctx.session, jurisdiction_code)
        if subtree is None:
            raise BadInput("filter.jurisdictionCode", "NOT_FOUND", "没有这个辖区", "no such jurisdiction")
    return await grant_repo.list_grants(
        ctx.session,
        scope=scope,
        account_id=account_id,
        role=role.value if role else None,
        subtree=subtree,
        include_expired=include_expired,
        include_revoked=include_revoked,
        now=utcnow(),
        after=decode_id_cursor(after),
        limit=page_size(first),
    )
