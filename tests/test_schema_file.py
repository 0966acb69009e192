"""schema.graphql is what frontend teams generate clients from: it must match the code."""

from __future__ import annotations

from pathlib import Path

from schema.root import schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_committed_sdl_matches_the_code():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema.as_str() + "\n", (
        "schema.graphql is stale: run `uv run baoxue export-schema` and commit it"
    )


def test_every_type_and_field_is_described():
    """Frontend teams read the schema as the manual (STYLE: description= on every type and field)."""
    from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLObjectType

    missing = []
    for name, gtype in schema._schema.type_map.items():
        if name.startswith("__") or not isinstance(gtype, GraphQLObjectType | GraphQLInputObjectType | GraphQLEnumType):
            continue
        if not gtype.description:
            missing.append(name)
        fields = gtype.values if isinstance(gtype, GraphQLEnumType) else gtype.fields
        missing += [f"{name}.{f}" for f, d in fields.items() if not d.description]
    assert missing == []
