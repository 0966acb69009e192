"""Jurisdiction paths in SQL: the prefix test every scope and filter is made of (ARCHITECTURE §3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, true
from sqlalchemy.orm import Mapped

from ..school import is_school_path


@dataclass(frozen=True)
class SchoolPaths:
    """A column that only ever holds school paths (a school's own, or a child's school)."""

    column: Any


def within_path(column: ColumnElement[str] | Mapped[str] | SchoolPaths, path: str) -> ColumnElement[bool]:
    """`column` is `path` or lies below it: the jurisdiction prefix test (ARCHITECTURE §3).

    Paths hold only digits and "/", and "/" sorts just below "0" in the C collation, so the
    subtree is exactly the range [path, path + "0"): one index range scan, index-only for counts.
    A column of school paths never equals a region's path, so there the test is the plain
    `LIKE 'path/%'` a person would write (PostgreSQL estimates it best: bench/AUTHZ.md), or
    equality for a school.
    """
    if path == "":
        return true()  # the nation contains everything
    if isinstance(column, SchoolPaths):
        if is_school_path(path):
            return column.column == path  # type: ignore[no-any-return]
        return column.column.like(path + "/%")  # type: ignore[no-any-return]
    return and_(column >= path, column < path + "0")
