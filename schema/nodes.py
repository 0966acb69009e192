"""`node(id:)` and `nodes(ids:)`: any object by its Relay global ID, scoped like its own type's reads."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry import relay
from strawberry.relay import InvalidGlobalIDError

from resolvers.errors import BadInput
from resolvers.paging import MAX_PAGE

from .context import Info
from .inputs import check_global_id


async def _resolve(info: Info, ids: list[relay.GlobalID]) -> list[relay.Node | None]:
    info.context.signed_in()
    wanted: dict[Any, list[str]] = defaultdict(list)
    for gid in ids:
        node_type = _node_type(info, gid)
        if node_type is not None:  # an unknown type name answers like a missing object
            wanted[node_type].append(gid.node_id)
    found: dict[tuple[str, str], relay.Node] = {}
    for node_type, node_ids in wanted.items():
        for node in await node_type.resolve_nodes(info=info, node_ids=node_ids, required=False):
            if node is not None:
                found[(gid_type_name(node_type), node.resolve_id(node, info=info))] = node
    return [found.get((gid.type_name, gid.node_id)) for gid in ids]


def _node_type(info: Info, gid: relay.GlobalID) -> Any:
    definition = info.schema.get_type_by_name(gid.type_name)
    origin = getattr(definition, "origin", None)
    return origin if isinstance(origin, type) and issubclass(origin, relay.Node) else None


def gid_type_name(node_type: Any) -> str:
    return str(node_type.__strawberry_definition__.name)


async def node(info: Info, id: relay.GlobalID) -> relay.Node | None:
    return (await _resolve(info, [id]))[0]


async def nodes(info: Info, ids: list[strawberry.ID]) -> list[Any]:  # Node, None, or its position's error
    """Each id answers in its own position: a malformed one is an error there (and null), never the list's.

    Takes `ID`, not `GlobalID`, which graphql-core would coerce for the whole list at once (ARCHITECTURE,
    known traps)."""
    if len(ids) > MAX_PAGE:
        raise BadInput("ids", "TOO_MANY_IDS", f"ids 最多 {MAX_PAGE} 个", f"at most {MAX_PAGE} ids")
    parsed = [_parsed(raw, f"ids.{i}") for i, raw in enumerate(ids)]
    found = iter(await _resolve(info, [p for p in parsed if isinstance(p, relay.GlobalID)]))
    return [next(found) if isinstance(p, relay.GlobalID) else p for p in parsed]


def _parsed(raw: str, field: str) -> relay.GlobalID | GraphQLError:
    """A global ID, or the BAD_USER_INPUT error its position answers with."""
    try:
        gid = relay.GlobalID.from_id(raw)
        check_global_id(gid, field)
    except BadInput as exc:
        return _position_error(exc.error.field, exc.error.message, exc.error.code)
    except (InvalidGlobalIDError, ValueError):
        return _position_error(field, f"{field}：全局 ID 无效 / {field}: not a valid global ID", "INVALID_VALUE")
    return gid


def _position_error(field: str, message: str, reason: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT", "field": field, "reason": reason})


def node_id_of(gid: relay.GlobalID, type_name: str) -> str:
    """The id inside a global ID of the expected type; "" (found nowhere) for any other type."""
    return gid.node_id if gid.type_name == type_name else ""
