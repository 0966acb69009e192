"""What every ledger use case shares: finding an entry the caller may act on, versions, audit."""

from __future__ import annotations

from datetime import date
from typing import Any

from models.base import today
from models.child import Child
from models.ledger import EntryStatus, LedgerEntry, from_child
from models.repos import ledger as ledger_repo

from ..audit import record_change
from ..context import Context
from ..errors import BadInput
from ..paging import parse_id
from ..versioning import check_version

LEDGER = "LEDGER"


def new_entry(child: Child, *, opened_on: date, **fields: Any) -> LedgerEntry:
    """An entry opened for the child as `models.ledger.from_child` says; `fields` the rest, or what differs."""
    copied = from_child(
        school_code=child.school_code,
        school_path=child.school_path,
        grade=child.grade,
        birth_date=child.birth_date,
        household_path=child.household_path,
        residence_path=child.residence_path,
        province_code=child.province_code,
        opened_on=opened_on,
    )
    return LedgerEntry(child_id=child.id or 0, **(copied | fields))


def responsible_county(child: Child) -> str:
    """The county a new entry for the child would answer to (the rule of `from_child`)."""
    return new_entry(child, opened_on=today()).responsible_path


def not_found(field: str = "entryId") -> BadInput:
    return BadInput(field, "NOT_FOUND", "没有这条台账记录", "no such ledger entry")


async def entry_for(
    ctx: Context, entry_id: str, act: str, *, version: int | None = None, obj: str = LEDGER
) -> LedgerEntry:
    """The entry, locked, if the caller may see it (else NOT_FOUND) and do `obj:act` on it (else FORBIDDEN):
    the other side of a handover reads the case but does not change it.

    Visits are `VISIT:WRITE`, which villages and townships hold as well as the schools and the bureau.
    """
    number = parse_id(entry_id)
    entry = await ledger_repo.lock_entry(ctx.session, number) if number is not None else None
    access = ctx.access()
    if entry is None or access.allows(LEDGER, "READ", ledger_repo.entry_scope_paths(entry)) is None:
        raise not_found()
    access.require(obj, act, ledger_repo.entry_work_paths(entry))
    check_version(entry, version)
    return entry


def require_not_closed(entry: LedgerEntry) -> None:
    if entry.status is EntryStatus.CLOSED:
        raise BadInput("entryId", "CLOSED", "该记录已销号，不能再修改", "the entry is closed out and cannot change")


async def save_entry(ctx: Context, entry: LedgerEntry, action: str, **summary: Any) -> LedgerEntry:
    """Write the entry with its version bumped and the change audited in the same transaction."""
    entry.version += 1
    ctx.session.add(entry)
    await ctx.session.flush()
    await audit_entry(ctx, entry, action, **summary)
    return entry


async def audit_entry(ctx: Context, entry: LedgerEntry, action: str, **summary: Any) -> None:
    await record_change(
        ctx,
        action=action,
        target_type="LedgerEntry",
        target_id=str(entry.id),
        scope_path=entry.responsible_path,
        summary={k: str(v) if v is not None else None for k, v in summary.items()},
    )
