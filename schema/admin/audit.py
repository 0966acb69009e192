"""The audit log, read by supervisors and permission admins within their jurisdiction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from models.audit import AuditLog as AuditRow
from resolvers.admin import audit_log as audit_resolvers

from ..connection import Connection, to_connection
from ..context import Info


@strawberry.type(description="审计记录 / an audit-log entry.")
class AuditEntry(relay.Node):
    entry_id: strawberry.Private[int]
    at: datetime = strawberry.field(description="时间 / when.")
    actor: str = strawberry.field(description="操作人 / who.")
    action: str = strawberry.field(description="操作 / what, e.g. grant.create.")
    target_type: str = strawberry.field(description="对象类型 / target type.")
    target_id: str = strawberry.field(description="对象 / target id.")
    scope_path: str = strawberry.field(description="对象所属辖区 / the target's jurisdiction.")
    reason: str | None = strawberry.field(description="原因 / why.")
    summary: JSON = strawberry.field(description="变更前后摘要 / before/after summary.")
    request_id: str | None = strawberry.field(description="请求 ID / request id.")

    @classmethod
    def resolve_id(cls, root: AuditEntry, *, info: Info) -> str:
        return str(root.entry_id)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[AuditEntry | None]:
        wanted = list(node_ids)
        found = await audit_resolvers.get_audit_entries(info.context, wanted)
        return [cls.from_row(found[i]) if i in found else None for i in wanted]

    @classmethod
    def from_row(cls, row: AuditRow) -> AuditEntry:
        return cls(
            entry_id=row.id or 0,
            at=row.at,
            actor=row.actor,
            action=row.action,
            target_type=row.target_type,
            target_id=row.target_id,
            scope_path=row.scope_path,
            reason=row.reason,
            summary=JSON(row.summary),
            request_id=row.request_id,
        )


@strawberry.type(name="AuditConnection", description="审计日志 / a page of audit entries.")
class AuditConnection(Connection[AuditEntry]):
    """The one connection, under the name the schema has always given this list."""


@strawberry.input(description="审计筛选 / audit filter.")
class AuditFilter:
    action: str | None = strawberry.field(default=None, description="操作 / action, e.g. grant.revoke.")
    actor: str | None = strawberry.field(default=None, description="操作人 / actor.")
    target_type: str | None = strawberry.field(default=None, description="对象类型 / target type.")


async def audit_log(
    info: Info, filter: AuditFilter | None = None, first: int | None = None, after: str | None = None
) -> AuditConnection:
    f = filter or AuditFilter()
    page = await audit_resolvers.list_audit_log(
        info.context, action=f.action, actor=f.actor, target_type=f.target_type, first=first, after=after
    )
    found = to_connection(page, node=AuditEntry.from_row, key=lambda r: str(r.id), after=after)
    return AuditConnection(edges=found.edges, page_info=found.page_info, total_count=found.total_count)
