"""The GraphQL Info type and per-request DataLoaders over the resolvers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeAlias

import strawberry
from strawberry.dataloader import DataLoader

from resolvers.context import Context

Info: TypeAlias = strawberry.Info[Context, None]


def loader(
    info: Info, name: str, fetch: Callable[[Context, list[str]], Awaitable[dict[str, Any]]]
) -> DataLoader[str, Any]:
    """One DataLoader per request and name: batches `fetch` over the keys a response needs."""
    ctx = info.context
    key = f"loader:{name}"
    if key not in ctx.cache:

        async def load(keys: Iterable[str]) -> list[Any]:
            wanted = list(keys)
            found = await fetch(ctx, wanted)
            return [found.get(k) for k in wanted]

        ctx.cache[key] = DataLoader(load_fn=load)
    return ctx.cache[key]  # type: ignore[no-any-return]
