"""A list's connection compiled over its page query (`models/repos/paging.py::PageQuery`): the JSON of
`edges`, `pageInfo`, `totalCount` and any field of the connection itself (`cutoffDate`…), in one
statement with the page's keys and total as CTEs; and the children it read in full, audited."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import BigInteger, ColumnElement, Text, column, func, literal, literal_column, or_, select, table
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

from models.repos.driver import fetch_one
from models.repos.paging import AFTER_ID, AFTER_PATH, PageQuery

from ..context import Context
from ..students.reading import record_personal_data_read
from . import jsonsql
from .jsonsql import Builder, Expr, RawJSON, select_object, typename
from .selection import Selected, only

V = TypeVar("V")

CONNECTION_NAMES = frozenset({"__typename", "totalCount", "edges", "pageInfo"})
EDGE_NAMES = frozenset({"__typename", "cursor", "node"})
PAGE_INFO_NAMES = frozenset({"__typename", "hasNextPage", "hasPreviousPage", "startCursor", "endCursor"})


def check_connection(
    selection: tuple[Selected, ...],
    node_check: Callable[[tuple[Selected, ...], str], None],
    extra: frozenset[str] = frozenset(),
) -> None:
    """NotCompiled unless the connection's keys compile: its own (and `extra`, the connection's further
    fields), its edges' and its nodes' (`node_check`)."""
    only(selection, CONNECTION_NAMES | extra, "connection")
    for field in selection:
        if field.name == "edges":
            only(field.children, EDGE_NAMES, "edges")
            for edge_field in field.children:
                if edge_field.name == "node":
                    node_check(edge_field.children, "node")
        elif field.name == "pageInfo":
            only(field.children, PAGE_INFO_NAMES, "pageInfo")


def node_selections(selection: tuple[Selected, ...]) -> list[tuple[Selected, ...]]:
    """Every `edges { node { … } }` selection of a connection (aliases may ask for more than one)."""
    return [n.children for e in selection if e.name == "edges" for n in e.children if n.name == "node"]


@dataclass(frozen=True)
class CompiledAnswer:
    data: Any
    audited: list[list[Any]]


class NodeSql(Protocol):
    """The SQL of a list's node for one caller: its JSON, and the rows whose children it reads in full."""

    def object(self, selection: tuple[Selected, ...]) -> Expr: ...

    def audited(self, selection: tuple[Selected, ...]) -> ColumnElement[bool] | None: ...


# The page's rows and total as the statement's CTEs name them: the SQL built over these stand-ins is the
# same for every page of one selection and caller's grants, so it is built and rendered once (`PROJECTIONS`).
PAGE = table("page", column("id", BigInteger), column("cursor", Text), column("position", BigInteger))
TOTAL = table("total", column("n", BigInteger))
# Named parameters render a `%` once; the statement's own dialect escapes it where it embeds the text.
RENDERING = PGDialect_psycopg(paramstyle="named")  # type: ignore[no-untyped-call]


def rendered(expression: Any) -> str:
    """SQL text of an expression with its values inlined (paths, names, page sizes: never user text)."""
    return str(expression.compile(dialect=RENDERING, compile_kwargs={"literal_binds": True}))


@dataclass(frozen=True)
class Projection:
    """The SQL text of a connection's JSON (`data`) and of its rows read in full (`audit`), over the
    `page` and `total` CTEs; `counts`: whether it reads `total`."""

    data: str
    audit: str | None
    counts: bool


class Kept(Generic[V]):
    """What is built once and reused, by key, the least recently used dropped first: rendered projections
    by (selection, page size, has a previous page, the grants they inline), statements by projection and
    page shape."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self.known: OrderedDict[Hashable, V] = OrderedDict()

    def get(self, key: Hashable, build: Callable[[], V]) -> V:
        found = self.known.get(key)
        if found is not None:
            self.known.move_to_end(key)
            return found
        made = self.known[key] = build()
        if len(self.known) > self.size:
            self.known.popitem(last=False)
        return made


PROJECTIONS: Kept[Projection] = Kept()


def connection_projection(
    selection: tuple[Selected, ...],
    *,
    limit: int,
    type_name: str,
    table: Any,
    node_object: Callable[[tuple[Selected, ...]], Expr],
    has_previous: bool,
    extra: Mapping[str, Expr] | None = None,
    audited: ColumnElement[bool] | None = None,
    audit_columns: tuple[Any, ...] = (),
    audit_join: Callable[[Any], Any] | None = None,
) -> Projection:
    """The connection's JSON over the page's keys joined to `table` by id, in the page's order (`extra`:
    the connection's own further fields, each one SQL value); and, when `audited` is given, the JSON array
    of `audit_columns` of the page's rows it holds for (over the rows joined further by `audit_join`, when
    the audited columns are another table's)."""
    on_page = PAGE.c.position <= limit
    rows = PAGE.join(table, table.c.id == PAGE.c.id)
    counts = False

    def edges(s: Selected) -> Expr:
        def cursor(_s: Selected) -> Expr:
            return jsonsql.cursor(PAGE.c.cursor)

        def node(n: Selected) -> Expr:
            return node_object(n.children)

        edge = select_object(s.children, {"__typename": typename(f"{type_name}Edge"), "cursor": cursor, "node": node})
        agg = func.json_agg(aggregate_order_by(edge, PAGE.c.position))
        return (
            select(func.coalesce(agg, literal_column("'[]'::json"))).select_from(rows).where(on_page).scalar_subquery()
        )

    def page_info(s: Selected) -> Expr:
        fields: dict[str, Builder] = {
            "__typename": typename("PageInfo"),
            "hasNextPage": lambda _s: select(func.count()).select_from(PAGE).scalar_subquery() > limit,
            "hasPreviousPage": lambda _s: literal(has_previous),
            "startCursor": lambda _s: (
                select(jsonsql.cursor(PAGE.c.cursor)).where(PAGE.c.position == 1, on_page).scalar_subquery()
            ),
            "endCursor": lambda _s: (
                select(jsonsql.cursor(PAGE.c.cursor))
                .where(on_page)
                .order_by(PAGE.c.position.desc())
                .limit(1)
                .scalar_subquery()
            ),
        }
        return select_object(s.children, fields)

    def total(_s: Selected) -> Expr:
        nonlocal counts
        counts = True
        return select(TOTAL.c.n).scalar_subquery()

    connection: dict[str, Builder] = {
        "__typename": typename(f"{type_name}Connection"),
        "totalCount": total,
        "edges": edges,
        "pageInfo": page_info,
    }
    for name, value in (extra or {}).items():
        connection[name] = constant(value)
    data = rendered(select_object(selection, connection))
    audit = None
    if audited is not None:
        agg = func.json_agg(aggregate_order_by(func.json_build_array(*audit_columns), PAGE.c.position))
        audited_rows = audit_join(rows) if audit_join is not None else rows
        audit = rendered(select(agg).select_from(audited_rows).where(on_page, audited).scalar_subquery())
    return Projection(data, audit, counts)


def constant(value: Expr) -> Builder:
    return lambda _s: value


@dataclass(frozen=True)
class Statement:
    """A page's whole statement as the driver runs it: its SQL text and its parameters but the cursor's."""

    sql: str
    params: dict[str, Any]


STATEMENTS: Kept[Statement] = Kept()  # by projection and page shape: the same text for every page of a list


def statement(ctx: Context, page: PageQuery, projection: Projection) -> Statement:
    """One statement: the page's keys (and total, if asked) as CTEs, the projection's JSON over them as
    text (the response carries it as it is: `RawJSON`)."""
    columns: list[Any] = [literal_column(f"({projection.data})::text").label("data")]
    if projection.audit is not None:
        columns.append(literal_column(projection.audit).label("audit"))
    stmt = select(*columns).add_cte(page.keys.cte("page"))
    if projection.counts:
        stmt = stmt.add_cte(select(page.count.scalar_subquery().label("n")).cte("total"))
    compiled = stmt.compile(dialect=ctx.session.get_bind().dialect)
    expanded = compiled.construct_expanded_state(dict(page.params))  # IN lists as one parameter a value
    processors = expanded.processors  # what SQLAlchemy applies to each value it binds (enums, arrays…)
    params = {
        name: processors[name](value) if name in processors else value
        for name, value in expanded.parameters.items()
        if name not in (AFTER_ID, AFTER_PATH)
    }
    return Statement(expanded.statement, params)


async def run_projection(ctx: Context, page: PageQuery, projection: Projection) -> tuple[RawJSON, list[list[Any]]]:
    """The page's JSON text and the rows it read in full, by the driver itself: the statement is built and
    compiled once per projection and page shape (`PageQuery.shape`); only the cursor's values change."""
    found = STATEMENTS.get((projection, page.shape), lambda: statement(ctx, page, projection)) if page.shape else None
    stmt = found or statement(ctx, page, projection)
    row = await fetch_one(ctx.session, stmt.sql, {**stmt.params, **page.params})
    assert row is not None  # one row: the statement selects from no table
    return RawJSON(row[0]), list(row[1] or []) if projection.audit is not None else []


async def answer_connection(
    ctx: Context,
    page: PageQuery,
    selection: tuple[Selected, ...],
    type_name: str,
    table: Any,
    objects: Callable[[], NodeSql],
    *,
    grants: Hashable,
    has_previous: bool,
    extra: Mapping[str, Expr] | None = None,
    extra_key: Hashable = (),
    audit_columns: tuple[Any, ...] = (),
    audit_join: Callable[[Any], Any] | None = None,
) -> CompiledAnswer:
    """A list's connection in one statement over its page, with the full personal-data reads it made
    audited (`audit_columns`: a child's id and paths, as `audit_personal_reads` takes them). The projection
    is built once per selection, page size, the caller's `grants` its SQL inlines, and the values of the
    connection's `extra` fields (`extra_key`)."""

    def build() -> Projection:
        sql = objects()
        conditions = [c for n in node_selections(selection) if (c := sql.audited(n)) is not None]
        return connection_projection(
            selection,
            limit=page.limit,
            type_name=type_name,
            table=table,
            node_object=sql.object,
            has_previous=has_previous,
            extra=extra,
            audited=or_(*conditions) if conditions else None,
            audit_columns=audit_columns,
            audit_join=audit_join,
        )

    key: Hashable = (type_name, selection, page.limit, has_previous, grants, extra_key)
    data, audited = await run_projection(ctx, page, PROJECTIONS.get(key, build))
    await audit_personal_reads(ctx, audited)
    return CompiledAnswer(data=data, audited=audited)


async def audit_personal_reads(ctx: Context, rows: list[list[Any]]) -> None:
    """One audit row per child read in full, as `personal_data_visible` writes it (once per child and
    operation: its DataLoader asks once per child, however many entries show the child)."""
    seen: set[int] = set()
    for child_id, school_path, household_path, residence_path in rows:
        if child_id in seen:
            continue
        seen.add(child_id)
        await record_personal_data_read(ctx, child_id, school_path=school_path, home=(household_path, residence_path))
