"""A principal's access for one operation: SQL scope predicates and single-object decisions."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement

from models.region import NATION_PATH
from models.repos.paging import PathRange, within_any

from .catalogue import ancestors, within
from .enforcer import Authorizer, GrantRef, permission
from .errors import Forbidden
from .principal import Principal


def minimal_paths(paths: Sequence[str]) -> list[str]:
    """Drop paths already covered by another one in the list."""
    kept: list[str] = []
    for path in sorted(set(paths), key=len):
        if not any(path == k or k == NATION_PATH or path.startswith(k + "/") for k in kept):
            kept.append(path)
    return kept


def scope_over(granted: Mapping[str, Sequence[str]], columns: Mapping[str, Sequence[Any]]) -> ColumnElement[bool]:
    """Rows whose path (per line) lies in one of the granted paths (per line); none granted: `false`.

    `Access.scope` over the live grants; the change feed also over the grants a cursor was taken under.
    """
    return within_any(ranges_over(granted, columns))


def ranges_over(granted: Mapping[str, Sequence[str]], columns: Mapping[str, Sequence[Any]]) -> list[PathRange] | None:
    """The granted scope as index ranges, in a stable order (line, column, path); None: the nation.

    A column shared by both lines (an entry's responsible county) is one range per path, and a path
    inside another on the same column is dropped: each range is read once (issue 18 §1)."""
    ranges: dict[str, list[PathRange]] = {}
    for line, cols in columns.items():
        for path in minimal_paths(granted.get(line, [])):
            if path == NATION_PATH:
                return None
            for column in cols:
                ranges.setdefault(str(getattr(column, "column", column)), []).append(PathRange(column, path))
    return [
        next(r for r in same if r.path == path)
        for same in ranges.values()
        for path in minimal_paths([r.path for r in same])
    ]


@dataclass
class Access:
    """What this principal may do now. Every resolver asks here; nothing decides elsewhere."""

    principal: Principal
    authorizer: Authorizer
    now: datetime

    @property
    def username(self) -> str:
        return self.principal.username

    def scope(self, obj: str, act: str, columns: Mapping[str, Sequence[Any]]) -> ColumnElement[bool]:
        """One SQL predicate: rows whose path (per line) lies in a jurisdiction granting obj:act.

        No grant gives `false`, never "no filter" (ARCHITECTURE, known traps).
        """
        return scope_over(self.authorizer.scope_paths(self.username, obj, act, self.now), columns)

    def scope_key(self, obj: str, act: str) -> Hashable:
        """What `scope(obj, act, …)` is built from, hashable: equal keys give the same predicate (the
        compiled path keeps SQL rendered with a predicate inlined under this key)."""
        granted = self.authorizer.scope_paths(self.username, obj, act, self.now)
        return tuple((line, tuple(minimal_paths(paths))) for line, paths in sorted(granted.items()))

    def list_scope(self, obj: str, act: str, columns: Mapping[str, Sequence[Any]]) -> ColumnElement[bool]:
        """The rows of a list the principal may read: `scope`, but FORBIDDEN when no grant allows obj:act
        anywhere, so a role that may not read the list at all never gets an empty list that reads as
        "none here" (the ministry and children, say)."""
        if not self.holds_anywhere(obj, act):
            raise Forbidden()
        return self.scope(obj, act, columns)

    def list_ranges(self, obj: str, act: str, columns: Mapping[str, Sequence[Any]]) -> list[PathRange] | None:
        """`list_scope` as index ranges (None: every row), for lists read in index order (issue 18 §1)."""
        if not self.holds_anywhere(obj, act):
            raise Forbidden()
        return self.ranges(obj, act, columns)

    def ranges(self, obj: str, act: str, columns: Mapping[str, Sequence[Any]]) -> list[PathRange] | None:
        """`scope` as index ranges: None is every row, an empty list none."""
        return ranges_over(self.authorizer.scope_paths(self.username, obj, act, self.now), columns)

    def granted_paths(self, obj: str, act: str, line: str) -> list[str]:
        return minimal_paths(self.authorizer.scope_paths(self.username, obj, act, self.now).get(line, []))

    def all_granted_paths(self, obj: str, act: str) -> list[str]:
        """Every jurisdiction, on any line, where the principal may do obj:act (nested ones dropped)."""
        return minimal_paths(list(self.exact_granted_paths(obj, act)))

    def exact_granted_paths(self, obj: str, act: str) -> set[str]:
        """Every jurisdiction where a grant allows obj:act, on any line, nested ones included (where the
        principal acts as a unit's own staff matters, not only how far its scope reaches)."""
        granted = self.authorizer.scope_paths(self.username, obj, act, self.now)
        return {p for paths in granted.values() for p in paths}

    def scope_within(self, obj: str, act: str, path: str) -> bool:
        """Does all of the principal's obj:act scope lie inside `path` (a filter on it then adds nothing)?"""
        granted = self.all_granted_paths(obj, act)
        return bool(granted) and all(within(p, path) for p in granted)

    def allows(self, obj: str, act: str, paths: Mapping[str, Sequence[str | None]]) -> GrantRef | None:
        """May the principal do obj:act on an object at these paths (per line)? Casbin decides."""
        for line, line_paths in paths.items():
            found = [p for p in line_paths if p is not None]
            grant = self.authorizer.decide(self.username, permission(obj, act, line), found, self.now)
            if grant is not None:
                return grant
        return None

    def require(self, obj: str, act: str, paths: Mapping[str, Sequence[str | None]]) -> GrantRef:
        grant = self.allows(obj, act, paths)
        if grant is None:
            raise Forbidden()
        return grant

    def require_at(self, obj: str, act: str, paths: Mapping[str, Sequence[str | None]], unknown: Exception) -> GrantRef:
        """May the principal do obj:act on this object? FORBIDDEN when it holds obj:act nowhere; where it
        holds it only elsewhere, `unknown`: the answer for a missing object, so a place outside the
        caller's scope reveals no more than a code that does not exist (issue 17 §4)."""
        grant = self.allows(obj, act, paths)
        if grant is not None:
            return grant
        raise unknown if self.holds_anywhere(obj, act) else Forbidden()

    def holds_anywhere(self, obj: str, act: str) -> bool:
        return bool(self.authorizer.scope_paths(self.username, obj, act, self.now))

    def sees_as_ancestor(self, obj: str, act: str, line: str, path: str) -> bool:
        """Is `path` an ancestor of a jurisdiction granting obj:act (its name is then visible)?"""
        return any(path in ancestors(g) for g in self.granted_paths(obj, act, line))
