"""Typed, bilingual input errors (field + code + message), raised for bad arguments.

Each domain keeps its codes in one table, a subclass of `ErrorCode` in its package's `errors.py`
(`resolvers/ledgers/errors.py`, …): the GraphQL enum, its value descriptions and the README's code
list all read that table. A resolver raises `BadInput(field, "CODE", zh, en)` with a message about
this case, or `BadInput(field, Table.CODE)` to use the table's rule as the message.
`tests/test_error_codes.py` proves every code a mutation can raise is in its domain's table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class ErrorCode(Enum):
    """A refusal code with its rule in Chinese (`zh`) and English (`en`)."""

    zh: str
    en: str

    def __new__(cls, zh: str, en: str) -> Any:
        code = object.__new__(cls)
        # Distinct values even where two codes share a text (the GraphQL value is the member's name).
        code._value_ = len(cls.__members__)
        code.zh, code.en = zh, en
        return code

    @property
    def message(self) -> str:
        return f"{self.zh} / {self.en}"


# Rules worded the same in every domain.
REQUIRED = ("必填", "a required value is missing")
NOT_FOUND = ("不存在或不在辖区内", "missing or outside your view")
# A place that does not exist and one outside the caller's view answer alike, from every field that
# takes one, so the answer says no more than a missing code would (issue 17 §4).
UNKNOWN_REGION = ("没有这个行政区划，或不在您的查看范围内", "no such region in your view")
UNKNOWN_SCHOOL = ("没有这所学校，或不在您的查看范围内", "no such school in your view")


@dataclass(frozen=True)
class UserError:
    field: str
    code: str
    message: str


class BadInput(Exception):
    """An argument breaks a rule: names the field and the rule, in Chinese and English."""

    def __init__(self, field: str, code: str | ErrorCode, zh: str | None = None, en: str | None = None) -> None:
        if isinstance(code, ErrorCode):
            name, zh, en = code.name, zh or code.zh, en or code.en
        else:
            name = code
        if zh is None or en is None:
            raise TypeError(f"BadInput {name!r} needs its message (or a code from a table)")
        self.error = UserError(field=field, code=name, message=f"{zh} / {en}")
        super().__init__(self.error.message)


def unknown_region(field: str) -> BadInput:
    """A region code that is missing or outside the caller's view (the same answer for both)."""
    return BadInput(field, "UNKNOWN_REGION", *UNKNOWN_REGION)


def unknown_school(field: str) -> BadInput:
    """A school code that is missing or outside the caller's view (the same answer for both)."""
    return BadInput(field, "UNKNOWN_SCHOOL", *UNKNOWN_SCHOOL)
