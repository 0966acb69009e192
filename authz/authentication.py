"""Establishing who the caller is: password login (throttled) and bearer-credential checks."""

from __future__ import annotations

import asyncio
import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from models.account import Account
from models.base import utcnow
from models.repos import accounts, throttle

from .passwords import hash_password, needs_rehash, verify_password
from .principal import CredentialKind, Principal
from .tokens import (
    InvalidToken,
    TokenConfig,
    decode_access_token,
    hashes_match,
    issue_access_token,
    service_token_prefix,
)


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures_per_user: int
    max_failures_per_client: int
    window: timedelta


@dataclass(frozen=True)
class LoginResult:
    """Exactly one of: a token, a refusal (bad credentials), or `retry_after` seconds."""

    access_token: str | None = None
    expires_in: int = 0
    retry_after: int | None = None


USERNAME_MAX: int = Account.__table__.c.username.type.length  # type: ignore[attr-defined]


def possible_username(username: str) -> bool:
    """Could an account have this name? Longer than the column, or holding a NUL, none can: such a
    login is refused like any wrong one (same 401, same hashing cost), never sent to the database."""
    return 0 < len(username) <= USERNAME_MAX and "\x00" not in username


def _throttle_keys(username: str, client: str) -> tuple[str, str]:
    name = username.strip().lower()
    if not possible_username(name):  # counted under a key that fits the throttle's column
        name = "#" + hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()
    return f"user:{name}", f"client:{client[:150]}"


async def login(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    client: str,
    tokens: TokenConfig,
    policy: ThrottlePolicy,
) -> LoginResult:
    """May this username/password pair have a token? Same answer and cost for unknown users."""
    now = utcnow()
    user_key, client_key = _throttle_keys(username, client)
    limits = {user_key: policy.max_failures_per_user, client_key: policy.max_failures_per_client}
    blocked: list[datetime] = []
    for key, limit in limits.items():
        attempts, started = await throttle.count_attempt(session, key, now, policy.window)
        if attempts > limit:
            blocked.append(started)
    if blocked:
        until = max(blocked) + policy.window
        return LoginResult(retry_after=max(1, math.ceil((until - now).total_seconds())))

    account = await accounts.get_account_by_username(session, username) if possible_username(username) else None
    # argon2 takes tens of milliseconds: keep it off the event loop.
    password_ok = await asyncio.to_thread(verify_password, account.password_hash if account else None, password)
    if account is None or not password_ok or not account.active:
        return LoginResult()  # the attempt is already counted
    await throttle.clear(session, user_key)
    await throttle.forgive(session, client_key)
    if account.password_hash is not None and needs_rehash(account.password_hash):
        account.password_hash = await asyncio.to_thread(hash_password, password)
    assert account.id is not None
    token = issue_access_token(tokens, username=account.username, account_id=account.id, now=now)
    return LoginResult(access_token=token, expires_in=int(tokens.ttl.total_seconds()))


@dataclass(frozen=True)
class Authentication:
    """The outcome of reading a request's credential: a principal, or why there is none."""

    principal: Principal | None
    error: str | None = None


class AccountFacts(Protocol):
    """What a principal is made of: an `Account`, or the row `accounts.sign_in_facts` reads."""

    @property
    def id(self) -> int | None: ...
    @property
    def username(self) -> str: ...
    @property
    def display_name(self) -> str: ...
    @property
    def is_service(self) -> bool: ...


def principal_of(account: AccountFacts, credential: CredentialKind) -> Principal:
    """The principal an active account acts as, with the kind of credential it showed."""
    assert account.id is not None
    return Principal(
        account_id=account.id,
        username=account.username,
        display_name=account.display_name,
        is_service=account.is_service,
        credential=credential,
    )


async def authenticate(session: AsyncSession, authorization: str | None, tokens: TokenConfig) -> Authentication:
    """Who is calling? Reads `Authorization: Bearer …` (a JWT or a service token)."""
    if not authorization:
        return Authentication(None, "sign-in required")
    scheme, _, credential = authorization.partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        return Authentication(None, "expected a Bearer token")
    if (prefix := service_token_prefix(credential)) is not None:
        return await _authenticate_service_token(session, prefix, credential)
    try:
        username, external = decode_access_token(tokens, credential)
    except InvalidToken as exc:
        return Authentication(None, str(exc))
    account = await accounts.sign_in_facts(session, username) if possible_username(username) else None
    if account is None or not account.active:
        return Authentication(None, "account unknown or disabled")
    if external and account.is_service:
        return Authentication(None, "service accounts sign in with their own tokens")
    kind = CredentialKind.EXTERNAL_JWT if external else CredentialKind.PASSWORD_JWT
    return Authentication(principal_of(account, kind))


async def _authenticate_service_token(session: AsyncSession, prefix: str, secret: str) -> Authentication:
    now = utcnow()
    token = await accounts.get_token_by_prefix(session, prefix)
    if token is None or not hashes_match(token.token_hash, secret):
        return Authentication(None, "invalid token")
    if token.revoked_at is not None:
        return Authentication(None, "token revoked")
    if token.expires_at <= now:
        return Authentication(None, "token expired")
    account = await accounts.get_account(session, token.account_id)
    if account is None or not account.active:
        return Authentication(None, "account unknown or disabled")
    assert token.id is not None
    await accounts.touch_token(session, token.id, now)
    return Authentication(principal_of(account, CredentialKind.SERVICE_TOKEN))
