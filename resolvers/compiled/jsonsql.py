"""The response's encodings in SQL: JSON objects in selection order, global IDs and cursors.

Each is the SQL twin of what the normal path does in Python (strawberry's relay IDs, `encode_cursor`);
the differential test (tests/test_compiled_reads.py) holds them equal on every row of the demo data.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Text, case, cast, func, literal, literal_column

from .selection import Selected

Expr = ColumnElement[Any]
Builder = Callable[[Selected], Any]
"""The SQL of one response key, given what the selection asks of it."""


def typename(name: str) -> Builder:
    """`__typename` of an object type: its name, inlined."""
    return lambda _s: literal_column(f"'{name}'")


class RawJSON:
    """JSON text PostgreSQL built, carried into the response as it is (`dumps` splices it in): decoding it
    and encoding it again would cost more CPU than the rest of the page (issue 18 §2)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def dumps(value: Any) -> str:
    """UTF-8 JSON of a response (Chinese stays readable), with each `RawJSON` in it spliced in as it is.

    Each raw part is first written as a placeholder string holding NUL, which no other string in a response
    can hold (PostgreSQL text cannot, and the inputs refuse it: schema/arguments.py)."""
    raw: list[str] = []

    def placeholder(o: Any) -> str:
        if not isinstance(o, RawJSON):
            raise TypeError(f"not JSON: {type(o).__name__}")
        raw.append(o.text)
        return f"\0raw{len(raw) - 1}"

    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=placeholder)
    for n, part in enumerate(raw):
        text = text.replace(f'"\\u0000raw{n}"', part, 1)
    return text


def key_literal(key: str) -> Expr:
    """A response key as a SQL string literal: GraphQL names are `[_A-Za-z][_0-9A-Za-z]*`, safe to inline."""
    if not key.replace("_", "a").isalnum() or not key.isascii():
        raise ValueError(f"not a GraphQL name: {key!r}")
    return literal_column(f"'{key}'")


def json_object(pairs: Sequence[tuple[str, Any]]) -> Expr:
    """`json_build_object` with the keys in the order given (the response's order)."""
    args: list[Any] = []
    for key, value in pairs:
        args += [key_literal(key), value]
    return func.json_build_object(*args)


def select_object(selection: Sequence[Selected], fields: dict[str, Callable[[Selected], Any]]) -> Expr:
    """One JSON object for a selection: each key built by its field's SQL (the caller checked the names)."""
    return json_object([(s.key, fields[s.name](s)) for s in selection])


def base64_text(text: Any) -> Expr:
    """Standard base64 of the text's UTF-8 (PostgreSQL breaks lines every 76 characters: they go)."""
    return func.translate(
        func.encode(func.convert_to(text, literal_column("'UTF8'")), literal_column("'base64'")),
        literal_column("E'\\n'"),
        literal_column("''"),
    )


def global_id(type_name: str, node_id: Any) -> Expr:
    """strawberry's relay global ID: base64 of `Type:id`."""
    return base64_text(literal(f"{type_name}:", Text).op("||")(cast(node_id, Text)))


def cursor(key_text: Any) -> Expr:
    """`resolvers/paging.py::encode_cursor`: urlsafe base64 of `k:` and the key, padding kept."""
    encoded = func.encode(
        func.convert_to(literal("k:", Text).op("||")(key_text), literal_column("'UTF8'")), literal_column("'base64'")
    )
    return func.translate(encoded, literal_column("E'+/\\n'"), literal_column("'-_'"))


def iso_datetime(value: Any) -> Expr:
    """A `timestamptz` as strawberry's DateTime gives it: Python's `isoformat()` of the value psycopg reads
    (in the session's time zone), microseconds only when not zero; PostgreSQL's own JSON would trim their
    trailing zeros. A test holds the two equal over generated instants."""
    seconds = func.to_char(value, literal_column("'YYYY-MM-DD\"T\"HH24:MI:SS'"))
    micro = func.to_char(value, literal_column("'US'"))
    fraction = case(
        (micro == literal_column("'000000'"), literal_column("''")), else_=literal_column("'.'").op("||")(micro)
    )
    return seconds.op("||")(fraction).op("||")(func.to_char(value, literal_column("'TZH:TZM'")))


def enum_name(column: Any, enum_cls: Any) -> Any:
    """A stored enum value as the GraphQL enum's name (the same text whenever name and value agree)."""
    renamed = [(m.value, m.name) for m in enum_cls if m.name != m.value]
    if not renamed:
        return column
    return case(*((column == value, literal(name, Text)) for value, name in renamed), else_=column)
