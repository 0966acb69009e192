"""A validated GraphQL selection, reduced to what the compiler needs: response keys and field names."""

from __future__ import annotations

from dataclasses import dataclass

MAX_KEYS = 50
"""PostgreSQL's `json_build_object` takes at most 100 arguments: 50 keys per object."""


class NotCompiled(Exception):
    """The selection (or its arguments) is outside what compiles: strawberry resolves it as always."""


@dataclass(frozen=True)
class Selected:
    """One response key: the field it answers (`name`) and, for an object, the keys selected inside it."""

    key: str
    name: str
    children: tuple[Selected, ...] = ()


def only(selection: tuple[Selected, ...], allowed: frozenset[str] | set[str], where: str) -> None:
    """Refuse (NotCompiled) a selection naming a field outside `allowed`, or too many keys for one object."""
    if len(selection) > MAX_KEYS:
        raise NotCompiled(f"{where}: more than {MAX_KEYS} keys")
    for field in selection:
        if field.name not in allowed:
            raise NotCompiled(f"{where}.{field.name}")
