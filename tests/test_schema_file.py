"""schema.graphql is what frontend teams generate clients from: it must match the code, and change
only compatibly unless a breaking change is marked as intended (ARCHITECTURE §6)."""

from __future__ import annotations

from pathlib import Path

from schema.root import schema

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = ROOT / "schema.graphql"
BASELINE_FILE = ROOT / "schema.baseline.graphql"  # the contract clients last built on
MARKED_FILE = ROOT / "schema.breaking.txt"  # breaking changes since then, marked as intended


def test_committed_sdl_matches_the_code():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema.as_str() + "\n", (
        "schema.graphql is stale: run `uv run baoxue export-schema` and commit it"
    )


def test_every_type_field_and_argument_is_described():
    """Frontend teams read the schema as the manual (ARCHITECTURE §6: a description on every type, field and
    argument; issue 17 §7)."""
    from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLObjectType

    missing = []
    for name, gtype in schema._schema.type_map.items():
        if name.startswith("__") or not isinstance(gtype, GraphQLObjectType | GraphQLInputObjectType | GraphQLEnumType):
            continue
        if not gtype.description:
            missing.append(name)
        fields = gtype.values if isinstance(gtype, GraphQLEnumType) else gtype.fields
        missing += [f"{name}.{f}" for f, d in fields.items() if not d.description]
        if isinstance(gtype, GraphQLObjectType):
            missing += [
                f"{name}.{f}({a})" for f, d in fields.items() for a, arg in d.args.items() if not arg.description
            ]
    assert missing == []


def _marked() -> set[str]:
    lines = MARKED_FILE.read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def _breaking() -> set[str]:
    from graphql import build_schema, find_breaking_changes

    baseline = build_schema(BASELINE_FILE.read_text(encoding="utf-8"))
    return {change.description for change in find_breaking_changes(baseline, schema._schema)}


def test_no_breaking_change_unless_marked_as_intended():
    """A field removed, retyped or made nullable, an argument made required, an enum value dropped…
    breaks clients generated from the baseline: each such change is listed in schema.breaking.txt."""
    unmarked = sorted(_breaking() - _marked())
    assert unmarked == [], (
        "breaking changes to the GraphQL schema, not marked as intended: add each line to schema.breaking.txt "
        "with the reason above it, or make the change compatible"
    )


def test_every_marked_change_is_still_a_breaking_change():
    """The marks stay honest: a line that no longer names a breaking change (undone, or re-baselined) goes."""
    assert sorted(_marked() - _breaking()) == []
