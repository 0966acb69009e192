"""The one mutation runner: input → use case, which validates it, in a savepoint → payload.

A typed refusal (`BadInput`, raised by the use case's checks) becomes the payload's error, with the
code of the payload's domain, and nothing the use case wrote is kept (no partial writes). Anything
else propagates: a bug, or a refusal by authorization (FORBIDDEN), which the error policy turns into
a GraphQL error.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from strawberry.types.base import StrawberryList, get_object_definition

from resolvers.errors import BadInput

from .context import Info
from .errors import CODES, UserError

T = TypeVar("T")
P = TypeVar("P")


async def run_mutation(
    info: Info,
    payload: type[P],
    work: Callable[[], Awaitable[T]],
    present: Callable[[T], P | Awaitable[P]],
) -> P:
    """Run `work` in a savepoint and answer `present(result)`, or `payload(errors=[…])` on a refusal."""
    session = info.context.session
    try:
        async with session.begin_nested():
            value = await work()
    except BadInput as exc:
        return payload(errors=[payload_error(payload, exc)])  # type: ignore[call-arg]
    shown = present(value)
    return await shown if inspect.isawaitable(shown) else shown


def payload_error(payload: type[Any], exc: BadInput) -> UserError:
    """The refusal as the payload's error type; a code missing from its domain's table is a bug."""
    error_type = error_type_of(payload)
    code = CODES[error_type][exc.error.code]
    return error_type(field=exc.error.field, code=code, message=exc.error.message)  # type: ignore[call-arg]


def error_type_of(payload: type[Any]) -> type[UserError]:
    """The error type a payload's `errors` list holds (each payload names its domain's)."""
    definition = get_object_definition(payload, strict=True)
    field = definition.get_field("errors")
    assert field is not None
    assert isinstance(field.type, StrawberryList)
    return field.type.of_type  # type: ignore[return-value]
