"""The signed-in caller."""

from __future__ import annotations

import strawberry

from resolvers import accounts

from .context import Info


@strawberry.type(description="当前登录账号 / the signed-in account.")
class Viewer:
    username: str = strawberry.field(description="用户名 / username.")
    display_name: str = strawberry.field(description="显示名称 / display name.")
    is_service: bool = strawberry.field(description="是否服务账号 / whether this is a service account.")


def viewer(info: Info) -> Viewer:
    principal = accounts.viewer(info.context)
    return Viewer(username=principal.username, display_name=principal.display_name, is_service=principal.is_service)
