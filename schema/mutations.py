"""How every mutation runs: in a savepoint, turning typed refusals into payload errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any, TypeVar

from resolvers.errors import BadInput

from .context import Info

T = TypeVar("T")
E = TypeVar("E")


async def run_mutation(
    info: Info, work: Callable[[], Awaitable[T]], error_type: Callable[..., E], codes: type[Enum]
) -> tuple[T | None, list[E]]:
    """Run a use case in a savepoint: on a typed refusal nothing it wrote is kept (no partial writes)."""
    session = info.context.session
    try:
        async with session.begin_nested():
            return await work(), []
    except BadInput as exc:
        e = exc.error
        code: Any = codes(e.code)
        return None, [error_type(field=e.field, code=code, message=e.message)]
