"""Every argument checked once, before its resolver runs: text, numbers, dates, time zones (ARCHITECTURE §12).

`InputGuard` is attached when the schema is built (`schema.root.Schema.get_fields`) to every field that
takes arguments, so an argument or input field added later is covered without code of its own; fields
without arguments get nothing. It walks the converted arguments (input objects, lists) and refuses, as
`BAD_USER_INPUT` naming the field (`input.note`, `filter.noVisitForDays`, `input.guardians.0.name`):

- text holding NUL, another C0 control character (tab, CR and LF are allowed) or a lone surrogate;
- text longer than its bound: the column it is stored in (`metadata=stored_in(Table, "column")`), a
  bound of its own (`metadata=text(n)`), or `DEFAULT_MAX_TEXT`;
- an integer outside its range (`metadata=ints(lo, hi)`, or `DEFAULT_INTS`);
- a date outside its range (`metadata=dates(lo, hi)`, or `DEFAULT_DATES`); a datetime likewise, and
  one without a time zone (never guessed: `2025-09-01T08:00:00+08:00`, not `2025-09-01T08:00:00`).

Nothing reaches a resolver, so nothing is written. `coded_input_error` gives the same code to what
graphql-core and strawberry refuse before that: a variable or literal of the wrong type, a malformed
global ID; each names its variable or argument.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    GraphQLError,
    ListValueNode,
    Node,
    ObjectFieldNode,
    ObjectValueNode,
    StringValueNode,
    ValueNode,
    VariableDefinitionNode,
    VariableNode,
)
from strawberry.extensions import FieldExtension
from strawberry.relay import GlobalID, InvalidGlobalIDError
from strawberry.types.base import StrawberryList, StrawberryOptional, get_object_definition
from strawberry.types.field import StrawberryField
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET
from strawberry.utils.str_converters import to_camel_case

from resolvers.errors import BadInput

DEFAULT_MAX_TEXT = 100  # codes, names, periods, filters; free text declares its column
DEFAULT_INTS = (0, 100_000)  # counts, days, versions, grades, years
DEFAULT_DATES = (date(2000, 1, 1), date(2100, 12, 31))

# C0 controls but tab, LF and CR; and UTF-16 surrogates, which JSON can carry but UTF-8 cannot.
_DISALLOWED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")

Checker = Callable[[Any, str], None]


# --- declaring bounds ------------------------------------------------------------------------------


def text(max_length: int) -> dict[str, Any]:
    """A bound of its own for a string argument or input field."""
    return {"max_length": max_length}


def column_length(table: type, column: str) -> int:
    """A string column's declared length (one definition: the model's)."""
    length = getattr(sa.inspect(table).columns[column].type, "length", None)
    if not isinstance(length, int):
        raise TypeError(f"{table.__name__}.{column} has no length")
    return length


def stored_in(table: type, column: str) -> dict[str, Any]:
    """The string is stored in `table.column`: its bound is that column's length."""
    return text(column_length(table, column))


def ints(low: int, high: int) -> dict[str, Any]:
    return {"range": (low, high)}


def dates(low: date, high: date) -> dict[str, Any]:
    return {"range": (low, high)}


# --- checks ----------------------------------------------------------------------------------------


def _refuse(field: str, code: str, zh: str, en: str) -> BadInput:
    return BadInput(field, code, f"{field}：{zh}", f"{field}: {en}")


def _text_checker(limit: int) -> Checker:
    def check(value: str, field: str) -> None:
        if len(value) > limit:
            raise _refuse(field, "TOO_LONG", f"不超过 {limit} 个字符", f"at most {limit} characters")
        if _DISALLOWED.search(value):
            raise _refuse(field, "INVALID_TEXT", "含有不允许的控制字符", "holds NUL or another control character")

    return check


def _range_checker(low: Any, high: Any) -> Checker:
    def check(value: Any, field: str) -> None:
        if not low <= value <= high:
            raise _refuse(field, "OUT_OF_RANGE", f"须在 {low} 到 {high} 之间", f"must be between {low} and {high}")

    return check


def _datetime_checker(low: date, high: date) -> Checker:
    in_range = _range_checker(low, high)

    def check(value: datetime, field: str) -> None:
        if value.tzinfo is None or value.utcoffset() is None:
            raise _refuse(field, "NO_TIME_ZONE", "须带时区，如 +08:00", "needs a time zone, such as +08:00")
        in_range(value.date(), field)

    return check


def check_global_id(value: GlobalID, field: str) -> None:
    """A global ID's parts are bounded like any text (length, no NUL or control characters)."""
    for part in (value.type_name, value.node_id):
        if len(part) > DEFAULT_MAX_TEXT or _DISALLOWED.search(part):
            raise _refuse(field, "INVALID_ID", "全局 ID 无效", "not a valid global ID")


def checker_for(type_: Any, metadata: Mapping[str, Any] | None, memo: dict[type, Any] | None = None) -> Checker | None:
    """The check of one argument or input field's values, or None when its type needs none (enums, booleans)."""
    metadata = metadata or {}
    memo = {} if memo is None else memo
    if isinstance(type_, LazyType):
        type_ = type_.resolve_type()
    if isinstance(type_, StrawberryOptional):
        return checker_for(type_.of_type, metadata, memo)
    if isinstance(type_, StrawberryList):
        item = checker_for(type_.of_type, metadata, memo)
        if item is None:
            return None
        inner = item

        def each(values: list[Any], field: str) -> None:
            for i, v in enumerate(values):
                if v is not None:
                    inner(v, f"{field}.{i}")

        return each
    if type_ is str:
        return _text_checker(metadata.get("max_length", DEFAULT_MAX_TEXT))
    if type_ is bool or (isinstance(type_, type) and issubclass(type_, Enum)):
        return None
    if type_ is int:
        return _range_checker(*metadata.get("range", DEFAULT_INTS))
    if type_ is datetime:
        return _datetime_checker(*metadata.get("range", DEFAULT_DATES))
    if type_ is date:
        return _range_checker(*metadata.get("range", DEFAULT_DATES))
    if type_ is GlobalID:
        return check_global_id
    definition = get_object_definition(type_)
    if definition is not None and definition.is_input:
        return _input_checker(type_, memo)
    return None  # other scalars (JSON, uploads) are checked where they are read


def _input_checker(cls: type, memo: dict[type, Any]) -> Checker | None:
    if cls in memo:  # a recursive input type: checked through the plan being built
        return lambda value, field: memo[cls](value, field) if memo[cls] else None
    memo[cls] = None
    definition = get_object_definition(cls, strict=True)
    plan = [
        (f.python_name, f.graphql_name or to_camel_case(f.python_name), c)
        for f in definition.fields
        if (c := checker_for(f.type, f.metadata, memo)) is not None
    ]
    if not plan:
        return None

    def check(value: Any, field: str) -> None:
        for attr, name, c in plan:
            v = getattr(value, attr, None)
            if v is not None and v is not UNSET:
                c(v, f"{field}.{name}")

    memo[cls] = check
    return check


class InputGuard(FieldExtension):
    """Checks a field's converted arguments before its resolver runs (no resolve wrapper: no cost after)."""

    def __init__(self, plan: tuple[tuple[str, str, Checker], ...]) -> None:
        self.plan = plan

    def map_arguments(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        for attr, name, check in self.plan:
            value = kwargs.get(attr)
            if value is not None and value is not UNSET:
                check(value, name)
        return kwargs


def guard(field: StrawberryField) -> None:
    """Attach an InputGuard to a field whose arguments need checks (once: schemas share field objects)."""
    if not field.arguments or any(isinstance(e, InputGuard) for e in field.extensions):
        return
    plan = tuple(
        (a.python_name, a.graphql_name or to_camel_case(a.python_name), c)
        for a in field.arguments
        if (c := checker_for(a.type, a.metadata)) is not None
    )
    if plan:
        field.extensions.append(InputGuard(plan))


# --- coercion errors from graphql-core -------------------------------------------------------------


_VARIABLE = re.compile(r"^Variable '\$(\w+)' has invalid (?:default )?value(?: at '([^']*)')?: (.*)$", re.DOTALL)


_GLOBAL_ID = re.compile(r'^Value cannot represent a GlobalID: "(.*)"\.$', re.DOTALL)


def coded_input_error(
    error: GraphQLError, document: DocumentNode | None, variables: Mapping[str, Any] | None = None
) -> GraphQLError | None:
    """A variable, literal or global ID that could not be coerced, as BAD_USER_INPUT naming it; else None."""
    if error.extensions and "code" in error.extensions:
        return None
    node = error.nodes[0] if error.nodes else None
    if isinstance(error.original_error, InvalidGlobalIDError):
        match = _GLOBAL_ID.match(str(error.original_error))
        bad = match.group(1) if match else None
        field = (_global_id_field(node, bad, variables or {}) if isinstance(node, FieldNode) else None) or "id"
        message = f"{field}：全局 ID 无效 / {field}: not a valid global ID"
    elif isinstance(node, VariableDefinitionNode):
        name = node.variable.name.value
        match = _VARIABLE.match(error.message)
        field = name + (f".{match.group(2)}" if match and match.group(2) else "")
        detail = match.group(3) if match else error.message
        message = f"变量 ${field} 的值无效 / variable ${field} has an invalid value: {detail}"
    elif isinstance(node, ValueNode) and not isinstance(node, VariableNode):
        field = _literal_field(document, node) or "?"
        message = f"参数 {field} 的值无效 / argument {field} has an invalid value: {error.message}"
    else:
        return None
    return GraphQLError(
        message,
        nodes=error.nodes,
        path=error.path,
        extensions={"code": "BAD_USER_INPUT", "field": field, "reason": "INVALID_VALUE"},
    )


def _literal_field(document: DocumentNode | None, target: Node) -> str | None:
    """`input.note` for a literal in the document: the argument and input fields holding `target`."""
    if document is None:
        return None
    found: list[str] = []

    def walk(node: Any, names: list[str]) -> bool:
        if node is target:
            found.extend(names)
            return True
        if isinstance(node, (ArgumentNode, ObjectFieldNode)):
            return walk(node.value, [*names, node.name.value])
        if isinstance(node, ListValueNode):
            return any(walk(v, [*names, str(i)]) for i, v in enumerate(node.values))
        if isinstance(node, Node):
            for key in node.keys:
                child = getattr(node, key, None)
                items = child if isinstance(child, (list, tuple)) else [child]
                if any(isinstance(c, Node) and walk(c, names) for c in items):
                    return True
        return False

    return ".".join(found) if walk(document, []) and found else None


def _global_id_field(node: FieldNode, bad: str | None, variables: Mapping[str, Any]) -> str | None:
    """The argument (`input.studentId`) of the field holding the malformed global ID `bad`."""

    def in_value(value: Any, names: list[str]) -> list[str] | None:
        if isinstance(value, str):
            return names if value == bad else None
        if isinstance(value, Mapping):
            items: Any = value.items()
        elif isinstance(value, list):
            items = ((str(i), v) for i, v in enumerate(value))
        else:
            return None
        return next((p for k, v in items if (p := in_value(v, [*names, k])) is not None), None)

    def in_node(value: ValueNode, names: list[str]) -> list[str] | None:
        if isinstance(value, StringValueNode):
            return names if value.value == bad else None
        if isinstance(value, VariableNode):
            return in_value(variables.get(value.name.value), names)
        if isinstance(value, ObjectValueNode):
            return next((p for f in value.fields if (p := in_node(f.value, [*names, f.name.value])) is not None), None)
        if isinstance(value, ListValueNode):
            return next(
                (p for i, v in enumerate(value.values) if (p := in_node(v, [*names, str(i)])) is not None), None
            )
        return None

    for argument in node.arguments or ():
        if (path := in_node(argument.value, [argument.name.value])) is not None:
            return ".".join(path)
    return None
