"""A scoped list's total from kept counts (issue 18 §1): `child_cohort_count` and `ledger_entry_path_count`.

A scope is a list of ranges (authz.access.ranges_over), each a path column inside a region; a row is
counted in the first range that holds it, as the page lists it (`paging.branch_conditions`). The kept rows
count each row once per line and path column, under the path's county (its first `GRAIN` components),
with `shared`: the most components this path shares with the paths its line reads before it, capped at
`GRAIN`. For a region P of depth d ≤ `GRAIN`, a row whose column c lies in P lies in none of P's earlier
ranges exactly when each earlier path shares fewer than d components with the path in c, that is when
`shared` < d. So a range is a sum over kept rows when the ranges before it are its line's earlier columns
at the same path (one region on one line), or lie on its own column (never overlapping it). Any other
range (a scope below a county, two regions on the government line, both lines at once) counts its own
rows with `count(*)`: a region below a county holds few rows, and the others are rare grants.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, literal

from .paging import PathRange, sort_column

GRAIN = 3  # a county's depth: the kept counts' paths are cut to this many components

# (line, path column, region path or None for every row) → the kept rows' sum, a scalar subquery.
Kept = Callable[[str, str, str | None], Any]


def scope_total(
    scope: Sequence[PathRange] | None,
    lines: Mapping[str, Sequence[str]],
    kept: Kept,
    counted: Callable[[int], Any],
) -> ColumnElement[Any]:
    """How many rows lie in `scope` (None: all), exactly as `count(*)` over its ranges: kept sums where
    they answer, `counted(k)` (the rows of range k alone) elsewhere. `lines` names each line's path
    columns in the order its ranges come; every row has exactly one kept row on a line's first column."""
    if scope is None:
        line, columns = next(iter(lines.items()))
        return kept(line, columns[0], None)  # type: ignore[no-any-return]
    parts = [
        counted(k) if (on := kept_line(scope, k, lines)) is None else kept(on, column_name(r), r.path)
        for k, r in enumerate(scope)
    ]
    return sum(parts, literal(0))


def kept_line(scope: Sequence[PathRange], k: int, lines: Mapping[str, Sequence[str]]) -> str | None:
    """The line whose kept rows count range k alone, or None when they cannot (module docstring)."""
    branch = scope[k]
    name = column_name(branch)
    if not branch.path or depth(branch.path) > GRAIN:
        return None
    if any(overlap(e.path, branch.path) for e in scope[:k] if column_name(e) == name):
        return None
    before = [e for e in scope[:k] if column_name(e) != name]
    if any(e.path != branch.path for e in before):
        return None
    names = [column_name(e) for e in before]
    for line, columns in lines.items():
        if name in columns and list(columns[: columns.index(name)]) == names:
            return line
    return None


def depth(path: str) -> int:
    return path.count("/") + 1


def column_name(r: PathRange) -> str:
    return str(sort_column(r.column).key)


def overlap(a: str, b: str) -> bool:
    return not a or not b or a == b or a.startswith(b + "/") or b.startswith(a + "/")
