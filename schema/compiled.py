"""The compiled path's hook (issue 18 §2, `resolvers/compiled/`).

The root fields it knows (`ROOTS`): `students`, `ledgerEntries`, `schoolAgeChildren` and `reports`; and
`node` on the types in `NODES`: Student, LedgerEntry and Report (SchoolAgeChild is no Node).

After sign-in, the query budget, the limits, validation and the move to a read replica (the extensions
before this one), a query whose one root field compiles is answered with the JSON PostgreSQL built for
it, in the operation's own session and transaction (UnitOfWork commits it and its audit rows as for any
query). Anything else (another root field, a directive, an interface fragment, a field the compiler does
not know, arguments it refuses, a mutation or subscription) runs through strawberry as always.

The analysis of a document (its selection and whether it compiles) is kept per document and operation
name: a persisted operation's hash names one text, which `CachedParsing` parses into one document.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
)
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.utilities import get_operation_ast
from prometheus_client import Counter
from strawberry.extensions import SchemaExtension
from strawberry.relay import GlobalID
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField

from authz.errors import AccessError
from resolvers.compiled import entries as compiled_entries
from resolvers.compiled import reports as compiled_reports
from resolvers.compiled import school_age as compiled_school_age
from resolvers.compiled import students as compiled_students
from resolvers.compiled.selection import NotCompiled, Selected
from resolvers.context import Context
from resolvers.errors import BadInput
from resolvers.paging import parse_id

from .ledgers.entries import entries_arguments

log = logging.getLogger("baoxue.compiled")

OPERATIONS = Counter(
    "baoxue_compiled_operations_total",
    "Queries answered by the compiled path (issue 18 §2), or left to strawberry (fallback).",
    ["outcome"],
)

Run = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Root:
    """A root field the compiler knows: the check of its selection, and the run over its arguments
    (`node`: per object type, the run over the id inside the global ID)."""

    check: Callable[[tuple[Selected, ...]], None]
    run: Run


async def _ledger_entries(ctx: Context, selection: tuple[Selected, ...], *, filter: Any, **page: Any) -> Any:
    return await compiled_entries.ledger_entries(ctx, selection, **page, **entries_arguments(filter))


ROOTS: dict[str, Root] = {
    "students": Root(compiled_students.check_students, compiled_students.students),
    "ledgerEntries": Root(compiled_entries.check_entries, _ledger_entries),
    "schoolAgeChildren": Root(compiled_school_age.check_school_age, compiled_school_age.school_age_children),
    "reports": Root(compiled_reports.check_reports, compiled_reports.reports),
}
NODES: dict[str, Root] = {
    "Student": Root(compiled_students.check_student, compiled_students.student_node),
    "LedgerEntry": Root(compiled_entries.check_entry, compiled_entries.entry_node),
    "Report": Root(compiled_reports.check_report, compiled_reports.report_node),
}


@dataclass
class Plan:
    key: str
    node: FieldNode
    definition: GraphQLField
    field: StrawberryField
    root: Root | None  # None: `node`, whose selection depends on the type in the id
    selection: tuple[Selected, ...]
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]
    by_type: dict[str, tuple[Selected, ...] | None]

    def selection_of(self, schema: GraphQLSchema, type_name: str) -> tuple[Selected, ...] | None:
        """`node`'s selection for an object of this type (its fragments on other types left out), once."""
        if type_name not in NODES:
            return None  # any text may name a type: only the known ones are kept
        if type_name not in self.by_type:
            self.by_type[type_name] = _node_selection(schema, self, type_name)
        return self.by_type[type_name]


def _node_selection(schema: GraphQLSchema, plan: Plan, type_name: str) -> tuple[Selected, ...] | None:
    root = NODES.get(type_name)
    named = schema.get_type(type_name)
    if root is None or not isinstance(named, GraphQLObjectType) or plan.node.selection_set is None:
        return None
    applies = {type_name, *(i.name for i in named.interfaces)}
    try:
        fields = _collect(type_name, [plan.node.selection_set], plan.fragments, applies=applies)
        selection = _selection(named, fields, plan.fragments)
        root.check(selection)
    except NotCompiled as reason:
        log.debug("not compiled: %s", reason)
        return None
    return selection


def _collect(
    type_name: str,
    selection_sets: Sequence[SelectionSetNode],
    fragments: dict[str, FragmentDefinitionNode],
    *,
    applies: set[str] | None = None,
) -> dict[str, list[FieldNode]]:
    """graphql-core's CollectFields for one object type, refusing what this path does not follow:
    directives (@skip, @include…) and fragments on another type (an interface, a union member).
    With `applies` (the object type and its interfaces, below `node`), fragments on those apply and
    fragments on any other type are left out, as for an object of that type."""
    out: dict[str, list[FieldNode]] = {}

    def wanted(condition: str | None) -> bool:
        if condition is None or condition == type_name:
            return True
        if applies is None:
            raise NotCompiled("fragment on another type")
        return condition in applies

    def walk(selection_set: SelectionSetNode) -> None:
        for selection in selection_set.selections:
            if selection.directives:
                raise NotCompiled("directive")
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                out.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if wanted(condition.name.value if condition else None):
                    walk(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is None or fragment.directives:
                    raise NotCompiled("fragment")
                if wanted(fragment.type_condition.name.value):
                    walk(fragment.selection_set)

    for selection_set in selection_sets:
        walk(selection_set)
    return out


def _selection(
    parent: GraphQLObjectType, fields: dict[str, list[FieldNode]], fragments: dict[str, FragmentDefinitionNode]
) -> tuple[Selected, ...]:
    out = []
    for key, nodes in fields.items():
        name = nodes[0].name.value
        if name == "__typename":
            out.append(Selected(key, name))
            continue
        if any(node.arguments for node in nodes):
            raise NotCompiled(f"arguments of {name}")
        definition = parent.fields.get(name)
        if definition is None:
            raise NotCompiled(name)
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            out.append(Selected(key, name))
        elif isinstance(named, GraphQLObjectType):
            inner = _collect(named.name, [n.selection_set for n in nodes if n.selection_set], fragments)
            out.append(Selected(key, name, _selection(named, inner, fragments)))
        else:
            raise NotCompiled(f"{name}: an interface or union")
    return tuple(out)


def analyse(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> Plan | None:
    """The plan of a validated document's operation, or None when it does not compile."""
    operation = get_operation_ast(document, operation_name)
    query = schema.query_type
    if operation is None or operation.operation is not OperationType.QUERY or operation.directives or query is None:
        return None
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    try:
        roots = _collect(query.name, [operation.selection_set], fragments)
        if len(roots) != 1:
            return None
        ((key, nodes),) = roots.items()
        name = nodes[0].name.value
        root = ROOTS.get(name)
        if (root is None and name != "node") or len(nodes) != 1 or nodes[0].selection_set is None:
            return None
        node = nodes[0]
        definition = query.fields[name]
        selection: tuple[Selected, ...] = ()
        if root is not None:
            named = get_named_type(definition.type)
            assert isinstance(named, GraphQLObjectType)
            assert node.selection_set is not None
            selection = _selection(named, _collect(named.name, [node.selection_set], fragments), fragments)
            root.check(selection)
    except NotCompiled as reason:
        log.debug("not compiled: %s", reason)
        return None
    field = (definition.extensions or {}).get("strawberry-definition")
    if not isinstance(field, StrawberryField):
        return None
    return Plan(key, node, definition, field, root, selection, operation, fragments, {})


class Plans:
    """Plans by document and operation name, least recently used dropped first; None is kept too.

    Keyed by the document object itself (`CachedParsing` gives one object per text): a document's own
    hash and equality walk the whole tree, which would cost more than the plan saves."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.known: OrderedDict[tuple[int, str | None], tuple[DocumentNode, Plan | None]] = OrderedDict()

    def get(self, schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> Plan | None:
        key = (id(document), operation_name)
        found = self.known.get(key)
        if found is not None and found[0] is document:
            self.known.move_to_end(key)
            return found[1]
        plan = analyse(schema, document, operation_name)
        self.known[key] = (document, plan)  # the document held: its id is not reused while kept
        self.known.move_to_end(key)
        if len(self.known) > self.size:
            self.known.popitem(last=False)
        return plan


def compiled_reads(plans: Plans | None = None) -> type[SchemaExtension]:
    """The hook, with its own plan cache (one per schema)."""
    cache = plans or Plans()

    class CompiledReads(SchemaExtension):
        async def on_execute(self) -> AsyncIterator[None]:
            ec = self.execution_context
            ctx = ec.context
            if ec.result is None and isinstance(ctx, Context) and ctx.principal is not None and ec.graphql_document:
                plan = cache.get(ec.schema._schema, ec.graphql_document, ec.operation_name)
                data = await answer(plan, ec, ctx) if plan is not None else None
                OPERATIONS.labels(outcome="compiled" if data is not None else "fallback").inc()
                if data is not None:
                    ec.result = ExecutionResult(data=data)
            yield

    return CompiledReads


async def answer(plan: Plan, ec: Any, ctx: Context) -> dict[str, Any] | None:
    """The operation's `data`, or None to leave it to strawberry (its arguments are refused there, with
    the normal path's errors: nothing here has written anything yet)."""
    variables = get_variable_values(ec.schema._schema, plan.operation.variable_definitions or (), ec.variables or {})
    if isinstance(variables, list):
        return None
    try:
        raw = get_argument_values(plan.definition, plan.node, variables)
        kwargs = convert_arguments(
            raw,
            plan.field.arguments,
            scalar_registry=ec.schema.schema_converter.scalar_registry,
            config=ec.schema.config,
        )
        for extension in plan.field.extensions:
            kwargs = extension.map_arguments(kwargs)
        if plan.root is not None:
            result = await plan.root.run(ctx, plan.selection, **kwargs)
        else:
            result = await _node(plan, ec, ctx, kwargs["id"])
    except (BadInput, AccessError, NotCompiled, GraphQLError):
        return None
    return {plan.key: result.data}  # a connection's `RawJSON`: only /graphql over HTTP runs queries (dumps)


async def _node(plan: Plan, ec: Any, ctx: Context, gid: GlobalID) -> Any:
    """`node(id:)` of a type the compiler knows, by a well-formed id (else strawberry answers)."""
    selection = plan.selection_of(ec.schema._schema, gid.type_name)
    node_id = parse_id(gid.node_id)
    if selection is None or node_id is None:
        raise NotCompiled(gid.type_name)
    return await NODES[gid.type_name].run(ctx, selection, node_id=node_id)
