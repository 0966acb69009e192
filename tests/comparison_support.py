"""Shared steps for the comparison tests: rosters of known children imported and applied, and one county's
cases for each comparison.

Rosters are applied by the real use case (`resolvers/rosters/decisions.apply_import`). The contract the
comparisons rely on: after an apply, every valid row of the batch has its `child_id`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.child import Child
from models.ledger import LedgerEntry
from models.roster import RosterKind
from models.roster_import import RosterImport, RosterRow, RowStatus
from resolvers.context import Context
from resolvers.rosters.decisions import apply_import
from resolvers.rosters.imports import import_roster
from tests.factories import make_child, make_entry
from tests.ledger_support import WUDING_PRIMARY, WUDING_VILLAGE
from tests.roster_support import csv_bytes

AS_OF = date(2026, 11, 30)
HEADERS = {
    RosterKind.HOUSEHOLD: ["姓名", "公民身份号码", "户籍地区划代码", "现住址区划代码"],
    RosterKind.REGISTRY: ["姓名", "公民身份号码", "学籍号", "学校标识码", "年级"],
    RosterKind.IN_SCHOOL: ["姓名", "公民身份号码", "学校标识码", "年级"],
    RosterKind.POVERTY: ["姓名", "公民身份号码", "户籍地区划代码", "帮扶类型"],
}


def roster_line(kind: RosterKind, child: Child, *, poverty: str = "低保") -> list[str]:
    nid = child.national_id or ""
    school = child.school_code or WUDING_PRIMARY
    grade = str(child.grade or 3)
    return {
        RosterKind.HOUSEHOLD: [child.name, nid, child.household_region_code or "", child.residence_region_code or ""],
        RosterKind.REGISTRY: [child.name, nid, "G" + nid, school, grade],
        RosterKind.IN_SCHOOL: [child.name, nid, school, grade],
        RosterKind.POVERTY: [child.name, nid, child.household_region_code or WUDING_VILLAGE, poverty],
    }[kind]


async def applied_roster(
    ctx: Context,
    kind: RosterKind,
    lines: list[list[str]],
    *,
    jurisdiction: str = "532329",
    as_of: date = AS_OF,
    name: str | None = None,
    headers: list[str] | None = None,
) -> RosterImport:
    """A roster of these lines imported by the operator and applied (`headers`: the kind's usual ones)."""
    data = csv_bytes([headers or HEADERS[kind], *lines])
    result = await import_roster(
        ctx, kind=kind, jurisdiction_code=jurisdiction, as_of=as_of,
        file_name=name or f"{jurisdiction}-{kind.value.lower()}.csv", stream=io.BytesIO(data),
    )  # fmt: skip
    batch = result.batch
    assert batch.rows_refused == 0, "every test line is valid"
    assert batch.id is not None
    applied = await apply_import(ctx, import_id=str(batch.id), version=batch.version)
    unmatched = await ctx.session.scalar(
        select(func.count())
        .select_from(RosterRow)
        .where(col(RosterRow.import_id) == batch.id, col(RosterRow.status) == RowStatus.VALID)
        .where(col(RosterRow.child_id).is_(None))
    )
    assert unmatched == 0, "the apply contract: every valid row of an applied batch has its child"
    return applied


@dataclass
class Cases:
    """武定县's children for each comparison (names say which)."""

    primary_out: Child  # school age 9, on the household roster only, not enrolled: OUT_OF_SCHOOL, A
    junior_out_poor: Child  # age 13, the same, on the poverty roster (低保): OUT_OF_SCHOOL, B, and POOR
    at_school: Child  # enrolled, on every roster: nothing
    not_attending: Child  # on the registry at the primary school, not on its roll: REGISTERED_NOT_ATTENDING
    registered_only: Child  # not enrolled in baoxue but on the registry: not out of school
    on_ledger: Child  # out of school with an entry not closed out: counted onLedger, not raised
    poor_on_ledger: Child  # on the ledger and the poverty roster (脱贫户): POOR_HOUSEHOLD_DROPOUT
    too_old: Child  # 18, not enrolled: not school age
    entries: dict[str, LedgerEntry]
    batches: dict[RosterKind, RosterImport]


async def wuding_cases(session: AsyncSession, operator: Context, **child: Any) -> Cases:
    """Children of 狮山村 and the four rosters of 武定县 that find each case once, applied."""
    out = {"school": None, "grade": None}
    primary_out = await make_child(session, name="失学甲", birth_date=date(2017, 5, 12), **out)
    junior_out_poor = await make_child(session, name="失学乙", birth_date=date(2013, 3, 1), **out)
    at_school = await make_child(session, name="在校丙", birth_date=date(2016, 2, 2))
    not_attending = await make_child(session, name="在籍丁", birth_date=date(2016, 3, 3))
    registered_only = await make_child(session, name="有籍戊", birth_date=date(2016, 4, 4), **out)
    on_ledger = await make_child(session, name="在账己", birth_date=date(2015, 5, 5), **out)
    poor_on_ledger = await make_child(session, name="在账庚", birth_date=date(2014, 6, 6))
    too_old = await make_child(session, name="超龄辛", birth_date=date(2008, 7, 7), **out)
    entries = {
        "on_ledger": await make_entry(session, on_ledger),
        "poor_on_ledger": await make_entry(session, poor_on_ledger),
    }
    household = [primary_out, junior_out_poor, at_school, not_attending, registered_only, on_ledger, too_old]
    registry = [at_school, not_attending, registered_only, poor_on_ledger]
    in_school = [at_school, poor_on_ledger]
    poverty = [(junior_out_poor, "低保"), (poor_on_ledger, "脱贫户")]
    lines = {
        RosterKind.HOUSEHOLD: [roster_line(RosterKind.HOUSEHOLD, c) for c in household],
        RosterKind.REGISTRY: [roster_line(RosterKind.REGISTRY, c) for c in registry],
        RosterKind.IN_SCHOOL: [roster_line(RosterKind.IN_SCHOOL, c) for c in in_school],
        RosterKind.POVERTY: [roster_line(RosterKind.POVERTY, c, poverty=kind) for c, kind in poverty],
    }
    batches = {kind: await applied_roster(operator, kind, rows) for kind, rows in lines.items()}
    return Cases(
        primary_out, junior_out_poor, at_school, not_attending, registered_only, on_ledger, poor_on_ledger, too_old,
        entries, batches,
    )  # fmt: skip
