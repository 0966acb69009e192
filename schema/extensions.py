"""Operation-wide policies: one transaction per operation, and how errors reach the client."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator

from graphql import ExecutionResult, FieldNode, GraphQLError
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from authz.errors import AccessError, Unauthenticated
from resolvers.audit import keep_durable_audit
from resolvers.context import Context
from resolvers.errors import BadInput

from .inputs import coded_input_error
from .limits import parse_limit_error

log = logging.getLogger("baoxue.graphql")

EXPECTED = (AccessError, BadInput)


INTROSPECTION = frozenset({"__typename", "__schema", "__type"})


class SignInFirst(SchemaExtension):
    """Without a credential, an operation that reads or changes data is refused before any of it runs.

    Its variables are not even coerced: an anonymous caller learns UNAUTHENTICATED, never which of its
    inputs were wrong, and no resolver starts work for it. Introspection alone still answers.
    """

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context.context
        if isinstance(ctx, Context) and ctx.principal is None and self._touches_data():
            try:
                ctx.signed_in()
            except AccessError as exc:
                error = GraphQLError(str(exc), extensions={"code": exc.code})
                self.execution_context.result = ExecutionResult(data=None, errors=[error])
        yield

    def _touches_data(self) -> bool:
        document = self.execution_context.graphql_document
        if document is None:
            return True
        operation = get_operation_ast(document, self.execution_context.operation_name)
        if operation is None:
            return False  # graphql-core answers that with its own error
        return any(
            not isinstance(selection, FieldNode) or selection.name.value not in INTROSPECTION
            for selection in operation.selection_set.selections
        )


class UnitOfWork(SchemaExtension):
    """Commit when the operation succeeds, roll back otherwise (nothing below schema/ commits).

    A mutation runs in one transaction. A query on the primary reads without one (Context.autocommit); the
    audit rows of its full reads are written after it in one statement (one commit), before the answer leaves,
    or the answer is withheld, as for a query on the replica.

    With a read replica configured, a query runs there once parsing shows it only reads; its
    durable audit rows are then written to the primary before the answer leaves.
    """

    async def on_execute(self) -> AsyncIterator[None]:
        ctx = self.execution_context.context
        if isinstance(ctx, Context):
            if self.execution_context.operation_type is OperationType.QUERY:
                await ctx.use_replica()
            else:
                await ctx.begin_writes()
        yield

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        ctx = self.execution_context.context
        if not isinstance(ctx, Context):
            return
        if ctx.on_replica:
            await ctx.session.close()  # a read-only transaction: nothing to commit
            await self._keep_or_withhold(ctx)
            return
        result = self.execution_context.result
        if result is not None and not result.errors:
            await ctx.session.commit()  # a query's session has nothing to commit but what it left pending
            for hook in ctx.on_commit:
                hook()
        else:
            await ctx.session.rollback()
            if not ctx.autocommit:
                await keep_durable_audit(ctx)
        if ctx.autocommit:
            await self._keep_or_withhold(ctx)

    async def _keep_or_withhold(self, ctx: Context) -> None:
        """A query's audit rows, in one statement; if they cannot be written, no personal data leaves."""
        try:
            await keep_durable_audit(ctx)
        except Exception:  # no audit row, no personal data: the whole answer becomes an error
            log.exception("the audit rows of a query's full reads could not be written")
            self._withhold_data(ctx)

    def _withhold_data(self, ctx: Context) -> None:
        result = self.execution_context.result
        if result is None:
            return
        result.data = None
        result.errors = [
            GraphQLError(
                "审计记录写入失败 / the audit trail could not be written",
                extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": ctx.request_id},
            )
        ]


def _with_code(error: GraphQLError, message: str, extensions: dict[str, object]) -> GraphQLError:
    return GraphQLError(message, nodes=error.nodes, path=error.path, extensions=extensions)


_SUGGESTION = re.compile(r" ?Did you mean [^?]*\?")


def _without_suggestions(error: GraphQLError) -> GraphQLError:
    """Production names nothing of the schema; validation hides suggestions itself, this catches the rest
    (variable values are coerced at execution, where graphql-core still suggests enum values)."""
    if "Did you mean" not in error.message:
        return error
    extensions = dict(error.extensions or {})
    return GraphQLError(_SUGGESTION.sub("", error.message), error.nodes, path=error.path, extensions=extensions)


def classify(error: GraphQLError, *, mask: bool, request_id: str | None) -> GraphQLError:
    """Refusals and bad input keep a typed code; unexpected exceptions are masked in production."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        error = parse_limit_error(error) or error
        return _without_suggestions(error) if mask else error
    if isinstance(original, AccessError):
        return _with_code(error, str(original), {"code": original.code})
    if isinstance(original, BadInput):
        e = original.error
        return _with_code(error, e.message, {"code": "BAD_USER_INPUT", "field": e.field, "reason": e.code})
    log.error("unexpected error in resolver", exc_info=original, extra={"path": error.path})
    if not mask:
        return _with_code(error, error.message, {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id})
    return _with_code(error, "内部错误 / internal error", {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id})


class ErrorPolicy(SchemaExtension):
    """Give every error an `extensions.code`; hide internals when masking is on."""

    mask = False

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        ctx = self.execution_context.context
        request_id = ctx.request_id if isinstance(ctx, Context) else None
        document, variables = self.execution_context.graphql_document, self.execution_context.variables
        errors = [
            coded_input_error(e, document, variables) or classify(e, mask=self.mask, request_id=request_id)
            for e in result.errors
        ]
        if self.mask:  # the input errors quote graphql-core's message, suggestions included
            errors = [_without_suggestions(e) for e in errors]
        if isinstance(ctx, Context) and ctx.principal is None and not ctx.operator:
            errors = [_signed_in_first(e, ctx) for e in errors]
        result.errors = errors


def _signed_in_first(error: GraphQLError, ctx: Context) -> GraphQLError:
    """Without a sign-in, input refusals answer UNAUTHENTICATED: an anonymous caller is refused first."""
    if (error.extensions or {}).get("code") != "BAD_USER_INPUT":
        return error
    refusal = Unauthenticated(ctx.auth_error or "sign-in required")
    return _with_code(error, str(refusal), {"code": refusal.code})


class MaskingErrorPolicy(ErrorPolicy):
    mask = True


def is_expected(error: GraphQLError) -> bool:
    return error.original_error is None or isinstance(error.original_error, (*EXPECTED, GraphQLError))
