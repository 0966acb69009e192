"""Queries over role grants."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, or_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ..account import Account
from ..grant import RoleGrant
from .paging import Page, fetch_page
from .paths import within_path


def live(now: datetime) -> ColumnElement[bool]:
    """Not revoked and not expired."""
    return col(RoleGrant.revoked_at).is_(None) & or_(
        col(RoleGrant.expires_at).is_(None), col(RoleGrant.expires_at) > now
    )


async def live_grants_with_usernames(session: AsyncSession, now: datetime) -> list[tuple[RoleGrant, str]]:
    """Every live grant of every active account: what the enforcer loads."""
    stmt = (
        select(RoleGrant, Account.username)
        .join(Account, col(Account.id) == col(RoleGrant.account_id))
        .where(live(now), col(Account.active).is_(True))
    )
    return [(grant, username) for grant, username in (await session.execute(stmt)).all()]


async def live_grants_of(session: AsyncSession, account_id: int, now: datetime) -> list[RoleGrant]:
    stmt = select(RoleGrant).where(col(RoleGrant.account_id) == account_id, live(now))
    return list((await session.scalars(stmt)).all())


async def get_grant(session: AsyncSession, grant_id: int) -> RoleGrant | None:
    return await session.get(RoleGrant, grant_id)


async def insert_unless_live(session: AsyncSession, values: dict[str, object]) -> RoleGrant | None:
    """The new grant, or None where the account already holds the role there unrevoked: ON CONFLICT
    against `ux_role_grant_live`, so of two grants at once the second waits and inserts nothing."""
    stmt = (
        insert(RoleGrant)
        .values(values)
        .on_conflict_do_nothing(
            index_elements=["account_id", "role", "scope_path"], index_where=col(RoleGrant.revoked_at).is_(None)
        )
        .returning(RoleGrant)
    )
    return (await session.scalars(stmt)).first()


async def end_expired(
    session: AsyncSession, account_id: int, role: str, scope_path: str, *, now: datetime, by: str, reason: str
) -> list[RoleGrant]:
    """Mark the expired grants of this role and place that nobody revoked as revoked (conditionally, so
    two callers end each once): they would otherwise hold the unique index against a new grant."""
    stmt = (
        update(RoleGrant)
        .where(
            col(RoleGrant.account_id) == account_id,
            col(RoleGrant.role) == role,
            col(RoleGrant.scope_path) == scope_path,
            col(RoleGrant.revoked_at).is_(None),
            col(RoleGrant.expires_at) <= now,
        )
        .values(revoked_at=now, revoked_by=by, revoke_reason=reason)
        .returning(RoleGrant)
        .execution_options(synchronize_session=False)
    )
    return list((await session.scalars(stmt)).all())


async def lock_grant(session: AsyncSession, grant_id: int) -> RoleGrant | None:
    """The grant read afresh and locked: of two revocations at once, the second sees the first's."""
    stmt = (
        select(RoleGrant)
        .where(col(RoleGrant.id) == grant_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).first()


async def list_grants(
    session: AsyncSession,
    *,
    scope: ColumnElement[bool],
    account_id: int | None,
    role: str | None,
    subtree: str | None,
    include_expired: bool,
    include_revoked: bool,
    now: datetime,
    after: str | None,
    limit: int,
) -> Page[RoleGrant]:
    where = [scope]
    if account_id is not None:
        where.append(col(RoleGrant.account_id) == account_id)
    if role is not None:
        where.append(col(RoleGrant.role) == role)
    if subtree is not None:
        where.append(within_path(col(RoleGrant.scope_path), subtree))
    if not include_revoked:
        where.append(col(RoleGrant.revoked_at).is_(None))
    if not include_expired:
        where.append(or_(col(RoleGrant.expires_at).is_(None), col(RoleGrant.expires_at) > now))
    return await fetch_page(session, RoleGrant, col(RoleGrant.id), where, after=after, limit=limit, key_type=int)
