"""Query budgets per account and minute (README, Budgets): each operation pays its cost before it runs.

The cost is the one the limits measure (schema/limits.py). A spent budget answers the operation with
`QUERY_BUDGET_SPENT` before any resolver runs; the app turns it into HTTP 429 with Retry-After. The
state of the budget (`BUDGET` in the context's cache) goes into the response's `extensions.budget`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from graphql import ExecutionResult, GraphQLError
from strawberry.extensions import SchemaExtension

from resolvers.budgets import BudgetPolicy, BudgetSpent, BudgetState, charge_query
from resolvers.context import Context

from .limits import Limits, operation_cost

log = logging.getLogger("baoxue.graphql")

BUDGET = "budget"
"""Key of the caller's `BudgetState` in `Context.cache` once the operation has paid (or was refused)."""
BUDGET_REFUSED = "budget_refused"


def budget_extensions(state: BudgetState) -> dict[str, int]:
    """The budget as `extensions.budget` shows it."""
    return {"allowance": state.allowance, "remaining": state.remaining, "resetsInSeconds": state.resets_in_seconds}


def query_budgets(policy: BudgetPolicy, limits: Limits) -> type[SchemaExtension]:
    """The extension charging each signed-in caller's operation to its budget (after sign-in is checked)."""

    class QueryBudgets(SchemaExtension):
        async def on_execute(self) -> AsyncIterator[None]:
            ec = self.execution_context
            ctx = ec.context
            if isinstance(ctx, Context) and ctx.principal is not None and ec.result is None and ec.graphql_document:
                cost = operation_cost(ec.graphql_document, ec.operation_name, limits)
                try:
                    state = await charge_query(ctx, cost, policy)
                except BudgetSpent as refusal:
                    ctx.cache[BUDGET], ctx.cache[BUDGET_REFUSED] = refusal.state, True
                    extensions = {"code": refusal.code, "retryAfter": refusal.state.resets_in_seconds}
                    ec.result = ExecutionResult(data=None, errors=[GraphQLError(str(refusal), extensions=extensions)])
                except Exception:  # the budget cannot be counted (a database error): nothing runs unpaid
                    log.exception("the query budget could not be counted")
                    extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": ctx.request_id}
                    ec.result = ExecutionResult(
                        data=None, errors=[GraphQLError("内部错误 / internal error", extensions=extensions)]
                    )
                else:
                    if state is not None:
                        ctx.cache[BUDGET] = state
            yield

    return QueryBudgets
