"""A query cost limit (ARCHITECTURE §6): strawberry has none built in, so it is a validation rule here.

Cost = the fields a response may hold. Each field costs 1 times the page sizes of the connections
around it: a literal `first` counts as given, a variable `first` as the maximum page (100), no
`first` as the default page (20); `nodes(ids: [...])` counts its ids.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
)

from resolvers.paging import DEFAULT_PAGE, MAX_PAGE


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


def selection_cost(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    seen: frozenset[str] = frozenset(),
) -> int:
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total += 1 + _multiplier(selection) * selection_cost(selection.selection_set, fragments, seen)
        elif isinstance(selection, InlineFragmentNode):
            total += selection_cost(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                total += selection_cost(fragment.selection_set, fragments, seen | {selection.name.value})
    return total


def cost_limit(max_cost: int) -> type[ValidationRule]:
    """A validation rule refusing operations whose estimated cost exceeds `max_cost`."""

    class CostLimit(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            fragments = {
                d.name.value: d for d in self.context.document.definitions if isinstance(d, FragmentDefinitionNode)
            }
            cost = selection_cost(node.selection_set, fragments)
            if cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"查询代价 {cost} 超过上限 {max_cost}，请减少字段或分页大小 / "
                        f"query cost {cost} exceeds the limit of {max_cost}: select fewer fields or smaller pages",
                        node,
                        extensions={"code": "QUERY_TOO_COMPLEX"},
                    )
                )

    return CostLimit
