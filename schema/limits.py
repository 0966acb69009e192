"""The document limits (ARCHITECTURE §6), checked before any other validation and in time linear in the document.

Cost = the fields a response may hold. Each field costs 1 times the page sizes of the connections
around it: a literal `first` counts as given, a variable `first` as the maximum page (100), no
`first` as the default page (20); `nodes(ids: [...])` counts its ids. Depth counts the fields that
have a selection set (introspection fields aside); aliases are counted as the response would repeat
them.

A fragment spread many times is measured once: each fragment's cost, depth and aliases are memoised,
and every count stops growing just past its limit. A document where each fragment spreads the
previous one twice is thus refused after one look at each fragment, not after 2^k (strawberry's
QueryDepthLimiter and MaxAliasesLimiter walk every spread again; 11 s of a blocked event loop at
k = 20, bench/RESULTS.md).

Every refusal carries `extensions.code = QUERY_TOO_COMPLEX` and a message in Chinese and English.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    parse,
    validate,
)
from graphql.validation import ASTValidationRule, OverlappingFieldsCanBeMergedRule, ValidationContext
from graphql.validation.validate import ValidationAbortedError
from strawberry.extensions import SchemaExtension

from resolvers.paging import DEFAULT_PAGE, MAX_PAGE

QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"

# Nesting of selection sets (fields, inline fragments and spreads alike) the analysis follows. The
# parser already refuses deeper documents; this keeps the recursion far below Python's limit.
MAX_NESTING = 100

# graphql-core's OverlappingFieldsCanBeMergedRule compares fields pairwise: 495 copies of
# `viewer { username }` (2,000 tokens) spend its default budget of 500,000 steps in 3 s. Every
# document of the test suite validates within this budget; past it validation stops and the
# document is refused (tests/test_limits.py, bench/RESULTS.md).
OVERLAP_BUDGET = 20_000

# Documents longer than this (in characters) are parsed and validated off the event loop.
INLINE_VALIDATION_CHARS = 2_000


def too_complex(zh: str, en: str, nodes: Any = None) -> GraphQLError:
    return GraphQLError(f"{zh} / {en}", nodes, extensions={"code": QUERY_TOO_COMPLEX})


@dataclass(frozen=True)
class Limits:
    max_depth: int = 10
    max_tokens: int = 2000
    max_aliases: int = 15
    max_cost: int = 10000


@dataclass(frozen=True)
class Measure:
    """What a selection set adds to the response: each count saturates just past its limit."""

    cost: int = 0
    depth: int = 0
    aliases: int = 0


def _multiplier(field: FieldNode) -> int:
    for argument in field.arguments or ():
        name, value = argument.name.value, argument.value
        if name == "first":
            if isinstance(value, IntValueNode):
                return max(1, int(value.value))
            return MAX_PAGE if isinstance(value, VariableNode) else DEFAULT_PAGE
        if name == "ids":
            return len(value.values) if isinstance(value, ListValueNode) else MAX_PAGE
    is_connection = field.selection_set is not None and any(
        isinstance(s, FieldNode) and s.name.value == "edges" for s in field.selection_set.selections
    )
    return DEFAULT_PAGE if is_connection else 1


class Analysis:
    """Measures a document's operations, each fragment once."""

    def __init__(self, document: DocumentNode, limits: Limits) -> None:
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.caps = Measure(limits.max_cost + 1, limits.max_depth + 1, limits.max_aliases + 1)
        self.memo: dict[str, Measure] = {}
        self.too_deep = False

    def _cap(self, cost: int, depth: int, aliases: int) -> Measure:
        caps = self.caps
        return Measure(min(cost, caps.cost), min(depth, caps.depth), min(aliases, caps.aliases))

    def selection_set(self, selection_set: SelectionSetNode | None, nesting: int = 0) -> Measure:
        if selection_set is None:
            return Measure()
        if nesting > MAX_NESTING:
            self.too_deep = True
            return self.caps
        cost = depth = aliases = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                inner = self.selection_set(selection.selection_set, nesting + 1)
                cost += 1 + _multiplier(selection) * inner.cost
                if selection.selection_set is not None and not selection.name.value.startswith("__"):
                    depth = max(depth, 1 + inner.depth)
                aliases += inner.aliases + (selection.alias is not None)
            else:
                if isinstance(selection, InlineFragmentNode):
                    inner = self.selection_set(selection.selection_set, nesting + 1)
                elif isinstance(selection, FragmentSpreadNode):
                    inner = self.fragment(selection.name.value, nesting + 1)
                else:  # pragma: no cover - the three kinds of selection
                    continue
                cost += inner.cost
                depth = max(depth, inner.depth)
                aliases += inner.aliases
            if cost >= self.caps.cost and aliases >= self.caps.aliases:
                break  # nothing more to learn from the siblings but depth, which is capped too
        return self._cap(cost, depth, aliases)

    def fragment(self, name: str, nesting: int) -> Measure:
        known = self.memo.get(name)
        if known is not None:
            return known
        definition = self.fragments.get(name)
        if definition is None:
            return Measure()  # unknown fragment: KnownFragmentNamesRule reports it
        self.memo[name] = Measure()  # a cycle counts nothing more: NoFragmentCyclesRule reports it
        measure = self.memo[name] = self.selection_set(definition.selection_set, nesting)
        return measure


def limit_errors(document: DocumentNode, limits: Limits) -> list[GraphQLError]:
    """The limit refusals of every operation of the document (none when all hold)."""
    analysis = Analysis(document, limits)
    errors: list[GraphQLError] = []
    for operation in document.definitions:
        if not isinstance(operation, OperationDefinitionNode):
            continue
        measure = analysis.selection_set(operation.selection_set)
        name = operation.name.value if operation.name else "anonymous"
        if analysis.too_deep:
            errors.append(too_complex("查询嵌套过深", f"'{name}' nests selections too deeply", operation))
        elif measure.depth > limits.max_depth:
            errors.append(
                too_complex(
                    f"查询嵌套超过 {limits.max_depth} 层",
                    f"'{name}' exceeds maximum operation depth of {limits.max_depth}",
                    operation,
                )
            )
        if measure.aliases > limits.max_aliases:
            errors.append(
                too_complex(
                    f"别名超过 {limits.max_aliases} 个",
                    f"more than {limits.max_aliases} aliases: the limit is {limits.max_aliases}",
                    operation,
                )
            )
        if measure.cost > limits.max_cost:
            errors.append(
                too_complex(
                    f"查询代价超过上限 {limits.max_cost}，请减少字段或分页大小",
                    f"query cost exceeds the limit of {limits.max_cost}: select fewer fields or smaller pages",
                    operation,
                )
            )
    return errors


def operation_cost(document: DocumentNode, operation_name: str | None, limits: Limits) -> int:
    """The cost (as the limits measure it) of the operation a request runs: what its budget pays."""
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
            operation_name is None or (definition.name is not None and definition.name.value == operation_name)
        ):
            return Analysis(document, limits).selection_set(definition.selection_set).cost
    return 0


def parse_limit_error(error: GraphQLError) -> GraphQLError | None:
    """The parser's refusals of a document past the token limit or nested too deeply, as limit refusals."""
    if not isinstance(error, GraphQLSyntaxError):
        return None
    if "more than" in error.message and "tokens" in error.message:
        return too_complex("查询的词法单元过多", "the document has too many tokens", error.nodes)
    if "nested too deeply" in error.message:
        return too_complex("查询嵌套过深", "the document is nested too deeply", error.nodes)
    return None


class BoundedOverlappingFieldsRule(OverlappingFieldsCanBeMergedRule):
    """graphql-core's rule with a budget sized for real documents instead of its 500,000 steps."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.rule_context.remaining_complexity_budget = OVERLAP_BUDGET


def _bounded(rules: Sequence[type[ASTValidationRule]]) -> tuple[type[ASTValidationRule], ...]:
    return tuple(BoundedOverlappingFieldsRule if r is OverlappingFieldsCanBeMergedRule else r for r in rules)


def _typed(error: GraphQLError) -> GraphQLError:
    """graphql-core's "Validation aborted." (too many errors, or the budget spent) as a limit refusal."""
    if isinstance(error, ValidationAbortedError):
        return too_complex("查询过于复杂，校验已中止", "the document is too complex to validate")
    return error


def make_validator(
    limits: Limits, *, hide_suggestions: bool, maxsize: int = 128
) -> Callable[[GraphQLSchema, DocumentNode, tuple[type[ASTValidationRule], ...]], list[GraphQLError]]:
    """The limits first, in linear time; the other rules only for a document within them. Cached."""

    @lru_cache(maxsize=maxsize)
    def validate_document(
        schema: GraphQLSchema, document: DocumentNode, rules: tuple[type[ASTValidationRule], ...]
    ) -> list[GraphQLError]:
        refused = limit_errors(document, limits)
        if refused:
            return refused
        errors = validate(schema, document, _bounded(rules), hide_suggestions=hide_suggestions)
        return [_typed(e) for e in errors]

    return validate_document


_cached_parse = lru_cache(maxsize=128)(parse)


class CachedParsing(SchemaExtension):
    """strawberry's ParserCache, except that a refused document is left to strawberry's own parse.

    An exception raised here would escape the operation (and ErrorPolicy, which gives the token and
    nesting refusals their code); strawberry's parse, run when no document is set, reports it inside.
    A large document is parsed in a worker thread, like its validation.
    """

    async def on_parse(self) -> AsyncIterator[None]:
        ec = self.execution_context
        if ec.query:
            try:
                if len(ec.query) > INLINE_VALIDATION_CHARS:
                    ec.graphql_document = await asyncio.to_thread(_cached_parse, ec.query, **ec.parse_options)
                else:
                    ec.graphql_document = _cached_parse(ec.query, **ec.parse_options)
            except GraphQLError:
                pass
        yield


def limited_validation(
    limits: Limits, rules: Sequence[type[ASTValidationRule]], *, hide_suggestions: bool
) -> type[SchemaExtension]:
    """A schema extension replacing strawberry's validation step (and its ValidationCache).

    strawberry's own step adds two rules of its own, which are kept; the validation cache is keyed by
    schema, document and rules, so the rules are fixed here once, not built per request.
    """
    from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
    from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

    extra = (*rules, MaybeNullValidationRule, OneOfInputValidationRule)
    validator = make_validator(limits, hide_suggestions=hide_suggestions)

    class LimitedValidation(SchemaExtension):
        async def on_validate(self) -> AsyncIterator[None]:
            ec = self.execution_context
            assert ec.graphql_document is not None
            args = (ec.schema._schema, ec.graphql_document, (*ec.validation_rules, *extra))
            if len(ec.query or "") > INLINE_VALIDATION_CHARS:
                # graphql-core spends ~0.1 ms per token on its rules: a large document validates in a
                # worker thread, so the event loop keeps answering meanwhile (bench/RESULTS.md).
                ec.pre_execution_errors = await asyncio.to_thread(validator, *args)
            else:
                ec.pre_execution_errors = validator(*args)
            yield

    return LimitedValidation
