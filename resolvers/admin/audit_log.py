"""Reading the audit log: supervisors and permission admins, within their jurisdiction."""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlmodel import col

from models.audit import AuditLog
from models.repos import audit
from models.repos.paging import Page

from ..context import Context
from ..paging import decode_id_cursor, page_size, parse_id

_COLUMNS = {"PLACE": [col(AuditLog.scope_path)]}


def _scope(ctx: Context) -> ColumnElement[bool]:
    return ctx.access().scope("AUDIT", "READ", _COLUMNS)


async def get_audit_entries(ctx: Context, ids: list[str]) -> dict[str, AuditLog]:
    """Entries by id (`node`), read as `auditLog` reads them: one outside the caller's view answers as missing."""
    wanted = [n for n in map(parse_id, ids) if n is not None]
    found = await audit.get_entries(ctx.session, scope=_scope(ctx), ids=wanted) if wanted else {}
    return {str(k): v for k, v in found.items()}


async def list_audit_log(
    ctx: Context,
    *,
    action: str | None = None,
    actor: str | None = None,
    target_type: str | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Page[AuditLog]:
    scope = ctx.access().list_scope("AUDIT", "READ", _COLUMNS)
    return await audit.list_entries(
        ctx.session,
        scope=scope,
        action=action,
        actor=actor,
        target_type=target_type,
        after=decode_id_cursor(after),
        limit=page_size(first),
    )
