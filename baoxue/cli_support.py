"""What the `baoxue` commands share: a one-line failure, the database they work on, the operator's transaction."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import async_sessionmaker

from resolvers.context import Context
from resolvers.errors import BadInput

from .database import (
    DatabaseUnreachableError,
    NotMigratedError,
    check_migrated,
    current_revision,
    head_revision,
    make_engine,
    migrate,
    ping,
    resolve_url,
)
from .settings import Settings

T = TypeVar("T")


def setting_problem(error: Any) -> str:
    """One refused setting (a pydantic error of `Settings`) as an operator reads it: the variable, the rule."""
    field = str(error["loc"][0]) if error.get("loc") else ""
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info is not None else None
    variable = alias if isinstance(alias, str) else f"BAOXUE_{field.upper()}"
    return f"{variable}: 设置无效 / invalid setting: {error['msg']} (given {error.get('input')!r})"


def fail(message: str, code: int = 2) -> None:
    print(message, file=sys.stderr)
    raise SystemExit(code)


def reachable_url(settings: Settings) -> str:
    """The database's URL (starting the embedded one), once a connection to it succeeds; else one line, exit 2."""
    try:
        url = resolve_url(settings)
        ping(url)
    except (DatabaseUnreachableError, ValueError) as exc:
        fail(str(exc))
        raise  # unreachable: _fail exits
    return url


def migrated_url(settings: Settings, *, migrate_if_embedded: bool = False) -> str:
    url = reachable_url(settings)
    if settings.embedded and migrate_if_embedded and current_revision(url) != head_revision():
        migrate(url)  # only then is alembic imported (`head_revision`)
    try:
        check_migrated(url)
    except NotMigratedError as exc:
        fail(str(exc))
    return url


def run_in_transaction(url: str, work: Callable[[Context], Awaitable[T]]) -> T:
    """Run one use case as the operator (`cli`) in one transaction, committed only on success."""

    async def go() -> T:
        engine = make_engine(url)
        try:
            async with async_sessionmaker(engine, expire_on_commit=False)() as session:
                result = await work(Context(session=session, principal=None, system_actor="cli", operator=True))
                await session.commit()
                return result
        finally:
            await engine.dispose()

    try:
        return asyncio.run(go())
    except BadInput as exc:
        fail(f"{exc.error.field}: {exc.error.message}")
        raise  # unreachable: _fail exits
