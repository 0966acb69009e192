"""Queries over accounts and service-account API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, func, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ..account import Account, ApiToken
from .driver import fetch_one
from .paging import Page, fetch_page


class SignInFacts(NamedTuple):
    """What sign-in reads of an account on every request (`authz.authentication.principal_of`)."""

    id: int
    username: str
    display_name: str
    is_service: bool
    active: bool


async def sign_in_facts(session: AsyncSession, username: str) -> SignInFacts | None:
    """The account's sign-in facts, through the driver (models/repos/driver.py: every request asks)."""
    row = await fetch_one(
        session,
        "SELECT id, username, display_name, is_service, active FROM account WHERE username = %s",
        (username,),
    )
    return SignInFacts(*row) if row is not None else None


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


async def list_accounts(
    session: AsyncSession,
    *,
    scope: ColumnElement[bool],
    username_contains: str | None,
    include_disabled: bool,
    after: str | None,
    limit: int,
) -> Page[Account]:
    where = [scope]
    if username_contains:
        where.append(col(Account.username).contains(username_contains, autoescape=True))
    if not include_disabled:
        where.append(col(Account.active).is_(True))
    return await fetch_page(session, Account, col(Account.username), where, after=after, limit=limit)


async def get_accounts_by_usernames(session: AsyncSession, usernames: list[str]) -> dict[str, Account]:
    rows = await session.scalars(select(Account).where(col(Account.username).in_(usernames)))
    return {row.username: row for row in rows}


async def usernames_of(session: AsyncSession, account_ids: list[int]) -> dict[int, str]:
    rows = await session.execute(select(Account.id, Account.username).where(col(Account.id).in_(account_ids)))
    return {account_id: username for account_id, username in rows.all() if account_id is not None}


async def add_token(session: AsyncSession, token: ApiToken) -> ApiToken:
    session.add(token)
    await session.flush()
    return token


async def get_token_by_prefix(session: AsyncSession, prefix: str) -> ApiToken | None:
    return (await session.scalars(select(ApiToken).where(col(ApiToken.prefix) == prefix))).first()


async def touch_token(session: AsyncSession, token_id: int, when: datetime) -> None:
    """Record last use; cheap and harmless to repeat."""
    await session.execute(update(ApiToken).where(col(ApiToken.id) == token_id).values(last_used_at=when))
