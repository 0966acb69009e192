"""The root schema and its production/development settings."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry import relay
from strawberry.extensions import MaxTokensLimiter
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext
from strawberry.types.base import StrawberryObjectDefinition, StrawberryOptional
from strawberry.types.field import StrawberryField

from . import (
    admin,
    changes,
    comparisons,
    geography,
    ledgers,
    live,
    platform,
    reports,
    rosters,
    settings,
    students,
    transitions,
    verification,
)
from . import nodes as node_fields
from .arguments import describe_arguments
from .compiled import compiled_reads
from .extensions import ErrorPolicy, MaskingErrorPolicy, SignInFirst, UnitOfWork, is_expected
from .inputs import guard
from .limits import CachedParsing, Limits, limited_validation
from .term_start import fields as term_start


@strawberry.type(description="查询入口 / the root of all reads.")
class NodeQuery:
    node: relay.Node | None = strawberry.field(
        resolver=node_fields.node, description="按全局 ID 取对象 / fetch any object by its global ID (null if none)."
    )
    nodes: list[relay.Node | None] = strawberry.field(
        resolver=node_fields.nodes, description="按全局 ID 批量取对象 / fetch up to 100 objects by global IDs."
    )


# Each domain keeps its own root fields (schema/<domain>/__init__.py); the roots merge them.
QUERIES = (NodeQuery, admin.Query, geography.Query, students.Query, ledgers.Query, reports.Query, rosters.Query)
TAIL_QUERIES = (comparisons.Query, changes.Query, settings.Query, transitions.Query, platform.Query, term_start.Query)
Query = merge_types("Query", (*QUERIES, *TAIL_QUERIES, verification.Query))
Query.__strawberry_definition__.description = "查询入口 / the root of all reads."  # type: ignore[attr-defined]
MUTATIONS = (admin.Mutation, students.Mutation, ledgers.Mutation, reports.Mutation, rosters.Mutation)
TAIL_MUTATIONS = (comparisons.Mutation, settings.Mutation, transitions.Mutation, platform.Mutation, term_start.Mutation)
Mutation = merge_types("Mutation", (*MUTATIONS, *TAIL_MUTATIONS, verification.Mutation))
Mutation.__strawberry_definition__.description = "变更入口 / the root of all changes."  # type: ignore[attr-defined]


class SerialRootExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Resolve a query's root fields one after another, as GraphQL does for mutations.

    All fields of one operation share one database session (one transaction), and an async
    SQLAlchemy session must not be used by two coroutines at once. Below the root, DataLoaders
    batch the database work, so list items still resolve together.
    """

    def execute_root_grouped_field_set(
        self, root_type: Any, root_value: Any, grouped_field_set: Any, serially: bool, position_context: Any
    ) -> Any:
        return super().execute_root_grouped_field_set(root_type, root_value, grouped_field_set, True, position_context)


class Schema(strawberry.Schema):
    def get_fields(self, type_definition: StrawberryObjectDefinition) -> list[StrawberryField]:
        """Every field taking arguments gets the input checks (schema/inputs.py), with no code of its own."""
        fields = super().get_fields(type_definition)
        if not type_definition.is_input:
            for field in fields:
                guard(field)
                describe_arguments(field)
        if type_definition.name == "Query":
            for field in fields:
                refusable(field)
        return fields

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Refusals and bad input are normal answers: log only the unexpected (ErrorPolicy logs those)."""
        unexpected = [e for e in errors if not is_expected(e)]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def refusable(field: StrawberryField) -> None:
    """A root query field is nullable: a refusal nulls only its own field, not the whole answer, so a
    dashboard asking for five things loses only the one refused (ARCHITECTURE §6). Mutation fields stay
    non-null: an operation is one transaction, and a refused mutation undoes the others with it, so the
    whole answer is null then."""
    if not isinstance(field.type, StrawberryOptional):
        field.type = StrawberryOptional(field.type)


def build_schema(
    *,
    production: bool,
    limits: Limits | None = None,
    extra_extensions: Sequence[Any] = (),
    on_the_primary: Sequence[Any] = (),
    compiled: bool = False,
) -> Schema:
    """The schema with its limits and caches; production masks errors and refuses introspection.

    `on_the_primary` extensions execute after sign-in is checked and before UnitOfWork may move a
    query to the read replica (the query budget, which writes, is one). `compiled` answers the hot reads
    from one SQL statement each (schema/compiled.py), after every other check and the replica move."""
    limits = limits or Limits()
    # The validation step is built once: rules made per request would make every request's rules differ,
    # and the validation cache (keyed by schema, document and rules) would never hit (8.4 ms of
    # validation per page request: bench/RESULTS.md). The limits run first, in linear time (schema/limits.py).
    rules: list[Any] = []
    if production:
        from graphql.validation import NoSchemaIntrospectionCustomRule

        rules.append(NoSchemaIntrospectionCustomRule)
    extensions: list[Any] = [
        SignInFirst,
        *on_the_primary,
        UnitOfWork,
        MaskingErrorPolicy if production else ErrorPolicy,
        partial(MaxTokensLimiter, max_token_count=limits.max_tokens),
        CachedParsing,
        # Production names nothing of the schema: no "Did you mean …" for types, fields, arguments or values.
        limited_validation(limits, rules, hide_suggestions=production),
        *([compiled_reads()] if compiled else []),
        *extra_extensions,
    ]
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=live.Subscription,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=production),
        execution_context_class=SerialRootExecutionContext,
    )


# The development schema, for exporting the SDL.
schema = build_schema(production=False)
