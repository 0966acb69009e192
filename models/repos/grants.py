"""Queries over role grants."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ..account import Account
from ..grant import RoleGrant
from .paging import Page, fetch_page
from .regions import within_path


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


async def add_grant(session: AsyncSession, grant: RoleGrant) -> RoleGrant:
    session.add(grant)
    await session.flush()
    return grant


async def has_live_duplicate(session: AsyncSession, account_id: int, role: str, scope_path: str, now: datetime) -> bool:
    stmt = select(RoleGrant.id).where(
        col(RoleGrant.account_id) == account_id,
        col(RoleGrant.role) == role,
        col(RoleGrant.scope_path) == scope_path,
        live(now),
    )
    return (await session.scalars(stmt)).first() is not None


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
