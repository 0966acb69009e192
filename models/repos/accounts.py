"""Queries over accounts and service-account API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ..account import Account, ApiToken


async def get_account_by_username(session: AsyncSession, username: str) -> Account | None:
    return (await session.scalars(select(Account).where(col(Account.username) == username))).first()


async def get_account(session: AsyncSession, account_id: int) -> Account | None:
    return await session.get(Account, account_id)


async def add_account(session: AsyncSession, account: Account) -> Account:
    session.add(account)
    await session.flush()
    return account


async def count_accounts(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Account)) or 0)


async def existing_usernames(session: AsyncSession, usernames: list[str]) -> set[str]:
    rows = await session.scalars(select(Account.username).where(col(Account.username).in_(usernames)))
    return set(rows)


async def add_token(session: AsyncSession, token: ApiToken) -> ApiToken:
    session.add(token)
    await session.flush()
    return token


async def get_token_by_prefix(session: AsyncSession, prefix: str) -> ApiToken | None:
    return (await session.scalars(select(ApiToken).where(col(ApiToken.prefix) == prefix))).first()


async def touch_token(session: AsyncSession, token_id: int, when: datetime) -> None:
    """Record last use; cheap and harmless to repeat."""
    await session.execute(update(ApiToken).where(col(ApiToken.id) == token_id).values(last_used_at=when))
