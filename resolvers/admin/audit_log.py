"""Reading the audit log: supervisors and permission admins, within their jurisdiction."""

from __future__ import annotations

from sqlmodel import col

from models.audit import AuditLog
from models.repos import audit
from models.repos.paging import Page

from ..context import Context
from ..paging import decode_id_cursor, page_size


async def list_audit_log(
    ctx: Context,
    *,
    action: str | None = None,
    actor: str | None = None,
    target_type: str | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Page[AuditLog]:
    scope = ctx.access().scope("AUDIT", "READ", {"PLACE": [col(AuditLog.scope_path)]})
    return await audit.list_entries(
        ctx.session,
        scope=scope,
        action=action,
        actor=actor,
        target_type=target_type,
        after=decode_id_cursor(after),
        limit=page_size(first),
    )
