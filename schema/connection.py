"""One Relay connection type with `totalCount`, built from a repository page.

`Connection[Student]` is named `StudentConnection` in the schema (strawberry names a generic by its
argument), so every list shares one definition.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import strawberry
from strawberry import relay
from strawberry.relay.types import NodeType
from strawberry.types.nodes import SelectedField

from models.repos.paging import Page
from resolvers.paging import encode_cursor

SCOPED_ORDER = (
    " 顺序：按辖区路径、再按编号；翻页游标在权限与筛选不变时稳定 / Order: range by range (the school filter's, else "
    "the region filter's, else my jurisdictions', each line's paths in turn), by path, then by id, so a page is "
    "read from an index and stops after the page; a row caught by two ranges is listed once, in the first. "
    "Stable for cursors while my grants and the filter stay the same. totalCount is exact and counted only when "
    "asked for."
)


@strawberry.type(name="Connection", description="一页结果 / a page of a list, with the total that matches.")
class Connection(relay.Connection[NodeType]):
    total_count: int = strawberry.field(description="总数 / how many match.")


def to_connection(
    page: Page[Any], *, node: Callable[[Any], Any], key: Callable[[Any], str], after: str | None
) -> Connection[Any]:
    keys = page.cursors if page.cursors is not None else [key(row) for row in page.rows]
    edges = [relay.Edge(cursor=encode_cursor(k), node=node(row)) for k, row in zip(keys, page.rows, strict=True)]
    return Connection(edges=edges, page_info=page_info(page, edges, after), total_count=page.total)


def page_info(page: Page[Any], edges: Sequence[Any], after: str | None) -> relay.PageInfo:
    return relay.PageInfo(
        has_next_page=page.has_next,
        has_previous_page=after is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )


def selects(info: Any, name: str) -> bool:
    """Does the operation ask this field for `name` (directly or through fragments)? A connection's
    `totalCount` is then worth its statement (issue 18 §1)."""

    def within(selections: Sequence[Any]) -> bool:
        return any(
            (s.name == name) if isinstance(s, SelectedField) else within(s.selections)  # fragments: look inside
            for s in selections
        )

    return any(within(field.selections) for field in info.selected_fields)
