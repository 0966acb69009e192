"""Keyset paging over a stable, unique sort key: one statement for the page, one for the count."""

from __future__ import annotations

import dataclasses
import operator
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import reduce, wraps
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    Text,
    and_,
    bindparam,
    cast,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from .paths import SchoolPaths, within_path

T = TypeVar("T", bound=SQLModel)
R = TypeVar("R")
Build = TypeVar("Build", bound=Callable[..., "PageQuery"])


@dataclass(frozen=True)
class Page(Generic[R]):
    rows: list[R]
    has_next: bool
    total: int
    cursors: list[str] | None = None  # each row's cursor text, where it is not the row's key


async def fetch_page(
    session: AsyncSession,
    model: type[T],
    key: Any,
    where: list[ColumnElement[bool]],
    *,
    after: str | None,
    limit: int,
    key_type: type = str,
) -> Page[T]:
    """Rows of `model` matching `where`, ordered by the unique `key`, strictly after `after`: the lists
    that are not scoped by a path (accounts, grants, batches…). The scoped lists read in index order
    through `keyset_page_query` below."""
    stmt = select(model).where(*where).order_by(key).limit(limit + 1)
    if after is not None:
        try:
            stmt = stmt.where(key > key_type(after))
        except ValueError:
            return Page(rows=[], has_next=False, total=0)
    rows = list((await session.scalars(stmt)).all())
    total = await session.scalar(select(func.count()).select_from(model).where(*where))
    return Page(rows=rows[:limit], has_next=len(rows) > limit, total=int(total or 0))


# Index-ordered scoped lists (issue 18 §1) -------------------------------------------------------------


@dataclass(frozen=True)
class PathRange:
    """One index range of a scope or a filter: the rows whose `column` lies in `path` (ARCHITECTURE §3)."""

    column: Any  # a path column, or SchoolPaths
    path: str


@dataclass(frozen=True)
class Keyset:
    """Where a scoped list's page starts: after the row (branch, path, id), or after `id` alone for a list
    over everything (one branch ordered by id)."""

    id: int
    branch: int | None = None
    path: str | None = None

    def text(self) -> str:
        return str(self.id) if self.branch is None else f"{self.branch}:{self.path}:{self.id}"

    @staticmethod
    def parse(text: str) -> Keyset | None:
        """The keyset of a cursor's text, or None when it is not one (the caller refuses the cursor)."""
        if _digits(text, 18):
            return Keyset(id=int(text))
        branch, _, rest = text.partition(":")
        path, _, key = rest.rpartition(":")
        if not (_digits(branch, 4) and _digits(key, 18) and 0 < len(path) <= 200 and set(path) <= _PATH_CHARS):
            return None
        return Keyset(id=int(key), branch=int(branch), path=path)


_PATH_CHARS = set("0123456789/")


def _digits(text: str, most: int) -> bool:
    return 0 < len(text) <= most and text.isascii() and text.isdigit()


# The cursor's values are bound when a page runs, never built into its statements: the statements of one
# list, scope and filter are then the same for every page, and built once (`page_queries`).
AFTER_ID = "after_id"
AFTER_PATH = "after_path"


@dataclass(frozen=True)
class PageQuery:
    """A page of a scoped list as statements, before running them: the compiled path (issue 18 §2) builds
    its JSON over `keys`, the normal path loads the rows (`run_page`), so both read the same rows.

    `keys` returns `id`, `cursor` (the cursor's text before encoding) and `position` (1, 2, …) in list
    order, at most `limit` + 1 rows; `count` is the total. `params` are the cursor's values, bound at each
    run (`keys` refuses to run without them); `shape` is equal for two queries whose statements are the same.
    """

    keys: Select[Any]
    count: Select[Any]
    limit: int
    params: Mapping[str, Any] = field(default_factory=dict)
    shape: Hashable = None


def after_params(after: Keyset | None) -> dict[str, Any]:
    if after is None:
        return {}
    return {AFTER_ID: after.id} if after.branch is None else {AFTER_ID: after.id, AFTER_PATH: after.path}


def _frozen(value: Any) -> Hashable:
    """A hashable stand-in for an argument of a page query: equal arguments, equal stand-ins."""
    if isinstance(value, PathRange):
        return ("range", str(sort_column(value.column)), isinstance(value.column, SchoolPaths), value.path)
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, *(_frozen(getattr(value, f.name)) for f in dataclasses.fields(value)))
    hash(value)  # anything else must be hashable already (text, numbers, dates, enums, None)
    return value  # type: ignore[no-any-return]


PAGE_QUERIES_KEPT = 1024  # per list: a few kilobytes each


def page_queries(build: Build) -> Build:
    """Build a list's page statements once per scope, filters and cursor branch, and reuse them for every
    page: building them and their cache key costs more CPU than running the page (issue 18 §2). The
    wrapped function takes keyword arguments only (`after` among them) and depends on nothing else."""
    known: OrderedDict[Hashable, PageQuery] = OrderedDict()

    @wraps(build)
    def cached(*args: Any, **kwargs: Any) -> PageQuery:
        assert not args, "page queries take keyword arguments"
        after = kwargs.get("after")
        assert after is None or isinstance(after, Keyset)
        shape = (
            build.__qualname__,
            tuple(sorted((name, _frozen(v)) for name, v in kwargs.items() if name != "after")),
            None if after is None else ("after", after.branch),
        )
        query = known.get(shape)
        if query is None:
            query = known[shape] = dataclasses.replace(build(**kwargs), params={}, shape=shape)
            if len(known) > PAGE_QUERIES_KEPT:
                known.popitem(last=False)
        else:
            known.move_to_end(shape)
        return dataclasses.replace(query, params=after_params(after))

    return cached  # type: ignore[return-value]


def sort_column(column: Any) -> Any:
    return column.column if isinstance(column, SchoolPaths) else column


def within_any(ranges: Sequence[PathRange] | None) -> ColumnElement[bool]:
    """The rows inside any of these ranges; None is everything, no range is nothing."""
    if ranges is None:
        return true()
    return or_(*(within_path(r.column, r.path) for r in ranges)) if ranges else false()


def _outside(earlier: PathRange, branch: PathRange) -> ColumnElement[bool]:
    """Not a row of an earlier branch, so each row is listed once. On the same path the two columns must
    then differ, which is implied, but stated so PostgreSQL can use a partial index over the rows whose
    columns differ (a child living outside its household's region: the government line's second range)."""
    column, own = sort_column(earlier.column), sort_column(branch.column)
    outside = or_(column.is_(None), not_(within_path(earlier.column, earlier.path)))
    if earlier.path == branch.path and str(column) != str(own):
        return and_(own.is_distinct_from(column), outside)  # as the partial index states it
    return outside


def branch_conditions(drive: Sequence[PathRange], k: int) -> list[ColumnElement[bool]]:
    """The rows of branch `k`: inside its range and in no earlier one (each row belongs to one branch)."""
    branch = drive[k]
    return [within_path(branch.column, branch.path), *(_outside(e, branch) for e in drive[:k])]


def keyset_page_query(
    id_column: Any,
    drive: Sequence[PathRange] | None,
    where: Sequence[ColumnElement[bool]],
    *,
    after: Keyset | None,
    limit: int,
) -> PageQuery:
    """A page read in index order, so the scan stops after the page (bench/RESULTS.md §a2).

    The rows are those inside the `drive` ranges (None: every row) that match `where`. Each range is a
    branch ordered by (its path column, id), reading an index on that pair; a row belongs to the first
    branch that holds it. The list's order is (branch, path, id): stable for cursors while the ranges are
    (the caller's grants and filters).
    """
    count = select(func.count()).select_from(id_column.class_).where(within_any(drive), *where)
    if drive is None:
        stmt = select(id_column.label("id"), cast(id_column, Text).label("cursor")).where(*where)
        if after is not None:
            stmt = stmt.where(id_column > _after_id())
        page = stmt.order_by(id_column).limit(limit + 1).subquery()
        keys = select(page.c.id, page.c.cursor, func.row_number().over(order_by=page.c.id).label("position"))
        return PageQuery(keys=keys.order_by(page.c.id), count=count, limit=limit, params=after_params(after))
    branches: list[Any] = []
    for k, branch in enumerate(drive):
        if after is not None and k < (after.branch if after.branch is not None else len(drive)):
            continue
        column = sort_column(branch.column)
        conds = [*branch_conditions(drive, k), *where]
        if after is not None and k == after.branch:
            after_path = bindparam(AFTER_PATH, type_=column.type, required=True)
            conds.append(tuple_(column, id_column) > tuple_(after_path, _after_id()))
        if branches:  # read only if the ranges before it leave the page short: a one-time filter
            before = [select(func.count()).select_from(b).scalar_subquery() for b in branches]
            conds.append(reduce(operator.add, before) <= limit)
        stmt = select(id_column.label("id"), literal(k).label("branch"), column.label("sort_path")).where(*conds)
        branches.append(stmt.order_by(column, id_column).limit(limit + 1).cte(f"range_{k}"))
    if not branches:
        empty = select(id_column.label("id"), literal("").label("cursor"), literal(0).label("position"))
        return PageQuery(keys=empty.where(false()), count=count, limit=limit)  # no cursor value in it
    union = union_all(*(select(b) for b in branches)).subquery()
    order = (union.c.branch, union.c.sort_path, union.c.id)
    cursor = cast(union.c.branch, Text) + ":" + union.c.sort_path + ":" + cast(union.c.id, Text)
    keys = select(
        union.c.id, cursor.label("cursor"), func.row_number().over(order_by=order).label("position")
    ).order_by(*order)
    return PageQuery(keys=keys.limit(limit + 1), count=count, limit=limit, params=after_params(after))


def _after_id() -> Any:
    return bindparam(AFTER_ID, type_=BigInteger, required=True)


async def run_page(session: AsyncSession, model: type[T], query: PageQuery, *, count: bool = True) -> Page[T]:
    """The page's rows in list order, with their cursors, and the total (0 unless `count`: a total nobody
    asked for is not worth a statement that reads the whole scope)."""
    keys = query.keys.subquery()
    stmt = select(model, keys.c.cursor).join(keys, keys.c.id == model.id).order_by(keys.c.position)  # type: ignore[attr-defined]
    found = (await session.execute(stmt, dict(query.params))).all()
    total = await session.scalar(query.count) if count else 0
    page = found[: query.limit]
    return Page(
        rows=[row[0] for row in page],
        has_next=len(found) > query.limit,
        total=int(total or 0),
        cursors=[row[1] for row in page],
    )
