"""explainAccess: may an account do an action on an object, and why (for permission admins)."""

from __future__ import annotations

import strawberry
from strawberry import relay

from resolvers.admin import explain as explain_resolvers

from ..context import Info


@strawberry.type(description="访问判定的一步 / one step of an access explanation.")
class AccessStep:
    kind: str = strawberry.field(description="GRANT | ROLE | POLICY | SCOPE | REFUSAL")
    detail: str = strawberry.field(description="说明 / what this step found.")


@strawberry.type(description="访问判定 / whether an account may act on an object, and why.")
class AccessExplanation:
    allowed: bool = strawberry.field(description="是否允许 / allowed or not.")
    steps: list[AccessStep] = strawberry.field(
        description="允许时：授权→角色→策略→范围；拒绝时：第一条拒绝的规则 / the chain, or the first refusal."
    )


async def explain_access(info: Info, username: str, action: str, object_id: relay.GlobalID) -> AccessExplanation:
    result = await explain_resolvers.explain_access(
        info.context, username=username, action=action, type_name=object_id.type_name, object_id=object_id.node_id
    )
    return AccessExplanation(
        allowed=result.allowed, steps=[AccessStep(kind=s.kind, detail=s.detail) for s in result.steps]
    )
