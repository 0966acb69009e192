"""The signed-in caller, with what it holds."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from authz.catalogue import Role
from resolvers.admin import accounts

from ..context import Info


@strawberry.type(description="我的授权 / one of my live grants.")
class ViewerGrant:
    @strawberry.field(  # type: ignore[untyped-decorator]
        description="授权的全局 ID（即 `Grant.id`，`revokeGrant` 所用）/ the grant's global ID: `Grant.id`, "
        "the one `revokeGrant` takes."
    )
    def id(self) -> strawberry.ID:
        return strawberry.ID(relay.to_base64("Grant", self.grant_id))

    grant_id: int = strawberry.field(description="授权编号 / grant number.")
    role: Role = strawberry.field(description="角色 / role.")
    jurisdiction_path: str = strawberry.field(description="辖区路径（空为全国）/ jurisdiction path ('' = nation).")
    expires_at: datetime | None = strawberry.field(description="到期时间 / expiry.")


@strawberry.type(description="我的权限 / a permission I hold within a jurisdiction.")
class ViewerPermission:
    permission: str = strawberry.field(description="对象:操作:线 / OBJECT:ACTION:LINE, e.g. CHILD:READ:EDU.")
    jurisdiction_path: str = strawberry.field(description="辖区路径 / where it applies (and below).")


@strawberry.type(description="当前登录账号 / the signed-in account.")
class Viewer:
    username: str = strawberry.field(description="用户名 / username.")
    display_name: str = strawberry.field(description="显示名称 / display name.")
    is_service: bool = strawberry.field(description="是否服务账号 / whether this is a service account.")

    @strawberry.field(description="有效授权 / my live grants.")  # type: ignore[untyped-decorator]
    def grants(self, info: Info) -> list[ViewerGrant]:
        return [
            ViewerGrant(grant_id=g.id, role=g.role, jurisdiction_path=g.scope_path, expires_at=g.expires_at)
            for g in accounts.viewer_grants(info.context)
        ]

    @strawberry.field(description="由授权得出的权限 / what my grants let me do, and where.")  # type: ignore[untyped-decorator]
    def permissions(self, info: Info) -> list[ViewerPermission]:
        return [
            ViewerPermission(permission=perm, jurisdiction_path=path)
            for perm, path in accounts.viewer_permissions(info.context)
        ]


def viewer(info: Info) -> Viewer:
    principal = accounts.viewer(info.context)
    return Viewer(username=principal.username, display_name=principal.display_name, is_service=principal.is_service)
