"""Running bulk exports' SQL (issue 15 §1): a dataset's SELECT (export_datasets.py) rendered by PostgreSQL
as CSV cells or JSON objects and streamed with `COPY … TO STDOUT`, or read from a server-side cursor (XLSX).

Rows come in key order, so a resumed export (`after` = the key of the last row received) repeats none
and skips none.
"""

from __future__ import annotations

import enum
import json
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import psycopg
from psycopg import pq
from psycopg.generators import _fetch_many as fetch_many
from psycopg.waiting import Wait
from sqlalchemy import (
    ColumnElement,
    Date,
    DateTime,
    Integer,
    Select,
    Text,
    case,
    func,
    literal,
    literal_column,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeDecorator


class Kind(enum.Enum):
    """How a value is written in a CSV cell (JSON Lines keeps PostgreSQL's JSON of the value)."""

    TEXT = "text"
    BOOL = "bool"
    TIME = "time"
    ARRAY = "array"
    JSON = "json"


@dataclass(frozen=True)
class Column:
    name: str  # the GraphQL field name: the JSON key and the machine header
    label: str  # the Chinese header
    expr: Any  # a column or SQL expression
    kind: Kind = Kind.TEXT

    def csv_cell(self) -> ColumnElement[Any]:
        """The value as PostgreSQL's CSV writes it: ISO times, `true`/`false`, lists joined by `;`."""
        if self.kind is Kind.TIME:
            return func.to_json(self.expr).op("#>>")(literal_column("'{}'"))
        if self.kind is Kind.BOOL:
            return case((self.expr, "true"), (~self.expr, "false"))
        if self.kind is Kind.ARRAY:
            return func.array_to_string(self.expr, ";")
        if self.kind is Kind.JSON:
            return cast(ColumnElement[Any], self.expr.cast(Text))
        return cast(ColumnElement[Any], self.expr)

    def json_value(self) -> ColumnElement[str]:
        """The value as JSON text. Numbers, dates and global IDs are written as they are (they hold no
        character JSON escapes), the rest by `to_json`: as fast as the CSV cells, where `json_build_object`
        or `row_to_json` cost PostgreSQL 2–3 times as much (bench/RESULTS.md, "Bulk export")."""
        sql_type = getattr(self.expr, "type", None)
        if self.kind is Kind.BOOL:
            return case((self.expr, "true"), (~self.expr, "false"), else_="null")
        if self.kind is Kind.TEXT and isinstance(sql_type, GlobalId | Integer):
            text_value: ColumnElement[Any] = cast(ColumnElement[Any], self.expr).cast(Text)
        elif self.kind is Kind.TEXT and isinstance(sql_type, Date) and not isinstance(sql_type, DateTime):
            text_value = literal('"').op("||")(cast(ColumnElement[Any], self.expr).cast(Text)).op("||")('"')
        else:
            text_value = func.to_json(self.expr).cast(Text)
        if isinstance(sql_type, GlobalId):
            text_value = literal('"').op("||")(text_value).op("||")('"')
        return func.coalesce(text_value, "null")


@dataclass(frozen=True)
class Query:
    """One dataset's rows for one caller: columns, the FROM and WHERE, and the order key."""

    columns: Sequence[Column]
    base: Select[Any]  # FROM, joins and WHERE; columns are added per format
    key: Sequence[Any]

    def _ordered(self, *cols: ColumnElement[Any]) -> Select[Any]:
        return self.base.with_only_columns(*cols, maintain_column_froms=True).order_by(*self.key)

    def csv_select(self) -> Select[Any]:
        return self._ordered(*(c.csv_cell().label(c.name) for c in self.columns))

    def json_select(self) -> Select[Any]:
        """One JSON object a row, written by concatenation (keys are plain ASCII names)."""
        row: ColumnElement[Any] = literal("{")
        for i, c in enumerate(self.columns):
            row = row.op("||")(literal(("," if i else "") + json.dumps(c.name) + ":")).op("||")(c.json_value())
        return self._ordered(row.op("||")(literal("}")).label("row"))

    def count_select(self, limit: int) -> Select[Any]:
        """How many rows, counting no further than `limit` (the XLSX sheet limit)."""
        inner = self.base.with_only_columns(literal(1), maintain_column_froms=True).limit(limit).subquery()
        return select(func.count()).select_from(inner)


class GlobalId(TypeDecorator[str]):
    """Text that is a relay global ID (base64: nothing to escape in JSON)."""

    impl = Text
    cache_ok = True


def global_id(type_name: str, node_id: Any) -> ColumnElement[str]:
    """A relay global ID in SQL: base64 of `Type:id`, as strawberry's `relay.to_base64` writes it."""
    raw = func.convert_to(literal(f"{type_name}:") + node_id.cast(Text), "UTF8")
    encoded = func.translate(func.encode(raw, "base64"), func.chr(10), "")  # PostgreSQL wraps base64 at 76
    return type_coerce(encoded, GlobalId())


def path_code(path: Any) -> ColumnElement[str]:
    """The last code of a path (`41/4101/410102` → `410102`), as the schema's `path_code` reads it."""
    return func.substring(cast(ColumnElement[str], path), r"[^/]+$")


@dataclass(frozen=True)
class Filters:
    """The export's filters, already checked (resolvers/exports/params.py)."""

    region_path: str | None = None
    updated_after: datetime | None = None
    ledger: str | None = None
    status: str | None = None
    school_year: int | None = None
    after: tuple[Any, ...] | None = None


def psycopg_dialect() -> Any:
    return PGDialect_psycopg()  # type: ignore[no-untyped-call]


def compiled(stmt: Select[Any]) -> tuple[str, dict[str, Any]]:
    """The statement as psycopg runs it (`%(name)s` placeholders, merged client-side inside COPY)."""
    c = stmt.compile(dialect=psycopg_dialect(), compile_kwargs={"render_postcompile": True})
    return str(c), dict(c.params)


async def set_output_style(session: AsyncSession) -> None:
    """Times written in UTC and dates in ISO for this transaction (one COPY is one snapshot by itself)."""
    from sqlalchemy import text

    await session.execute(text("SET LOCAL TIME ZONE 'UTC'"))
    await session.execute(text("SET LOCAL DateStyle = 'ISO'"))


async def copy_rows(
    session: AsyncSession, stmt: Select[Any], *, csv_quote: bool, chunk_bytes: int
) -> AsyncGenerator[tuple[bytes, int], None]:
    """`COPY (stmt) TO STDOUT` in chunks of about `chunk_bytes`: (the rows' bytes, how many rows).

    CSV rows use PostgreSQL's CSV quoting. A JSON object is one cell written as it is: JSON has no raw
    control characters, so with control characters as the quote and delimiter CSV never quotes it.
    The server sends one message a row; psycopg's own reader waits on the event loop for each, which
    cost more than PostgreSQL's work per row, so `_rows_gen` takes every row already received at once.
    """
    query, params = compiled(stmt)
    options = "FORMAT csv" if csv_quote else "FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02'"
    conn = await session.connection()
    raw: Any = (await conn.get_raw_connection()).driver_connection
    async with raw.cursor() as cursor, cursor.copy(f"COPY ({query}) TO STDOUT ({options})", params) as copy:
        while True:
            rows = await raw.wait(_rows_gen(copy, chunk_bytes))
            if not rows:
                return
            yield b"".join(rows), len(rows)


def _rows_gen(copy: Any, chunk_bytes: int) -> Any:
    """psycopg's `copy_from` generator, taking up to `chunk_bytes` of rows per wait (the end as psycopg's)."""
    if copy._finished:
        return []
    pgconn = copy._pgconn
    rows: list[bytes] = []
    size = 0
    while size < chunk_bytes:
        nbytes, data = pgconn.get_copy_data(1)
        if nbytes > 0:
            rows.append(bytes(data))
            size += nbytes
        elif nbytes == 0:  # nothing buffered: wait for more
            while not (yield Wait.R):
                continue
            pgconn.consume_input()
        else:  # the COPY is done: its result, as psycopg's reader takes it
            results = yield from fetch_many(pgconn)
            if results[-1].status != pq.ExecStatus.COMMAND_OK:
                raise psycopg.errors.error_from_result(results[-1], encoding=pgconn._encoding)
            copy._finished = True
            return rows
    return rows


async def stream_rows(
    session: AsyncSession, stmt: Select[Any], batch: int = 2000
) -> AsyncGenerator[Sequence[Any], None]:
    """Rows from a server-side cursor, `batch` at a time (the XLSX writer's input)."""
    result = await session.stream(stmt.execution_options(yield_per=batch))
    async for part in result.partitions(batch):
        yield part


async def count(session: AsyncSession, query: Query, limit: int) -> int:
    return int(await session.scalar(query.count_select(limit)) or 0)
