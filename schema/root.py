"""The root schema and its production/development settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry import relay
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from . import admin, geography, ledgers, reports, rosters, students
from . import nodes as node_fields
from .extensions import ErrorPolicy, MaskingErrorPolicy, SignInFirst, UnitOfWork, is_expected
from .limits import cost_limit


@strawberry.type(description="查询入口 / the root of all reads.")
class NodeQuery:
    node: relay.Node | None = strawberry.field(
        resolver=node_fields.node, description="按全局 ID 取对象 / fetch any object by its global ID (null if none)."
    )
    nodes: list[relay.Node | None] = strawberry.field(
        resolver=node_fields.nodes, description="按全局 ID 批量取对象 / fetch up to 100 objects by global IDs."
    )


# Each domain keeps its own root fields (schema/<domain>/__init__.py); the roots merge them.
Query = merge_types(
    "Query", (NodeQuery, admin.Query, geography.Query, students.Query, ledgers.Query, reports.Query, rosters.Query)
)
Query.__strawberry_definition__.description = "查询入口 / the root of all reads."  # type: ignore[attr-defined]
Mutation = merge_types(
    "Mutation", (admin.Mutation, students.Mutation, ledgers.Mutation, reports.Mutation, rosters.Mutation)
)
Mutation.__strawberry_definition__.description = "变更入口 / the root of all changes."  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Limits:
    max_depth: int = 10
    max_tokens: int = 2000
    max_aliases: int = 15
    max_cost: int = 10000


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
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Refusals and bad input are normal answers: log only the unexpected (ErrorPolicy logs those)."""
        unexpected = [e for e in errors if not is_expected(e)]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def build_schema(*, production: bool, limits: Limits | None = None, extra_extensions: Sequence[Any] = ()) -> Schema:
    """The schema with its limits and caches; production masks errors and refuses introspection."""
    limits = limits or Limits()
    # The limits' validation rules are built once: a rule class made per request would make every
    # request's rules differ, and the validation cache (keyed by schema, document and rules) would never
    # hit (8.4 ms of validation per page request: bench/RESULTS.md).
    rules: list[Any] = [
        *QueryDepthLimiter(max_depth=limits.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules,
        cost_limit(limits.max_cost),
    ]
    if production:
        from graphql.validation import NoSchemaIntrospectionCustomRule

        rules.append(NoSchemaIntrospectionCustomRule)
    extensions: list[Any] = [
        SignInFirst,
        UnitOfWork,
        MaskingErrorPolicy if production else ErrorPolicy,
        partial(MaxTokensLimiter, max_token_count=limits.max_tokens),
        partial(AddValidationRules, rules),
        ParserCache,
        ValidationCache,
        *extra_extensions,
    ]
    return Schema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=production),
        execution_context_class=SerialRootExecutionContext,
    )


# The development schema, for exporting the SDL.
schema = build_schema(production=False)
