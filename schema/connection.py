"""Relay cursor connections with `totalCount`, built from a repository page."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from strawberry import relay

from models.repos.paging import Page
from resolvers.paging import encode_cursor

C = TypeVar("C")


def to_connection(
    connection_cls: type[C],
    page: Page[Any],
    *,
    node: Callable[[Any], Any],
    key: Callable[[Any], str],
    after: str | None,
) -> C:
    edges = [relay.Edge(cursor=encode_cursor(key(row)), node=node(row)) for row in page.rows]
    return connection_cls(  # type: ignore[call-arg]
        edges=edges, page_info=page_info(page, edges, after), total_count=page.total
    )


def page_info(page: Page[Any], edges: Sequence[Any], after: str | None) -> relay.PageInfo:
    return relay.PageInfo(
        has_next_page=page.has_next,
        has_previous_page=after is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
