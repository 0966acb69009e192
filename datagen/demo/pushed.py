"""The demo's pushed-down list (下发核实, POLICY 004 §9): the ministry's suspected dropouts for 武定县,
imported as the ministry (`edu-nation-CN`) for the nation and applied, so each county bureau has
verification tasks (`verificationTasks`) and the ministry a batch to follow (`verificationProgress`).

Four rows are children the demo knows (by national ID), routed by their school; two are children it does
not know, routed by residence and by household; one names no place at all and is listed back unroutable.
Idempotent: skipped when the ministry's demo list is already there.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.child import Child
from models.ledger import LedgerEntry
from models.roster import RosterKind
from models.roster_import import RosterImport
from resolvers.context import Context
from resolvers.rosters.decisions import apply_import
from resolvers.rosters.imports import import_roster

from .people import national_id

MINISTRY = "edu-nation-CN"
FILE_NAME = "教育部下发疑似辍学名单-2026-11.csv"
AS_OF = date(2026, 11, 20)
HEADER = ["姓名", "性别", "公民身份号码", "学籍号", "学校标识码", "年级", "户籍地区划代码", "现住址区划代码"]
WUDING = "53/5323/532329"
# Children the demo does not know: one living in 武定's 狮山村 (registered in 元谋's 乐甫村), one registered in
# 武定's 高桥村 with no residence given, one with no place at all (unroutable).
UNKNOWN = [
    ["龙小燕", "女", national_id("532328", date(2013, 3, 14), 431, male=False), "", "", "", "532328101206",
     "532329101201"],
    ["罗文斌", "男", national_id("532329", date(2012, 7, 2), 433, male=True), "", "", "", "532329102201", ""],
    ["何佳", "女", national_id("530102", date(2014, 1, 9), 435, male=False), "", "", "", "", ""],
]  # fmt: skip


async def seed_pushed_list(session: AsyncSession) -> int:
    """Import and apply the ministry's demo list unless it is there; returns the batches added (0 or 1)."""
    there = await session.scalar(select(col(RosterImport.id)).where(col(RosterImport.file_name) == FILE_NAME))
    if there is not None:
        return 0
    on_ledger = select(col(LedgerEntry.child_id))
    known = (
        await session.execute(
            select(Child)
            .where(col(Child.school_path).like(WUDING + "/%"), col(Child.id).not_in(on_ledger))
            .order_by(col(Child.id))
            .limit(4)
        )
    ).scalars()
    rows = [HEADER]
    for child in known:
        gender = "男" if child.gender.value == "MALE" else "女"
        rows.append([child.name, gender, child.national_id or "", child.registry_number or "",
                     child.school_code or "", str(child.grade or ""), child.household_region_code or "",
                     child.residence_region_code or ""])  # fmt: skip
    rows += UNKNOWN
    text = io.StringIO(newline="")
    csv.writer(text).writerows(rows)
    ctx = Context(session=session, principal=None, system_actor=MINISTRY, operator=True)
    imported = await import_roster(
        ctx, kind=RosterKind.PUSHED, jurisdiction_code="CN", as_of=AS_OF, file_name=FILE_NAME,
        stream=io.BytesIO(text.getvalue().encode()),
    )  # fmt: skip
    batch = imported.batch
    await apply_import(ctx, import_id=str(batch.id), version=batch.version, note="演示：教育部下发名单")
    return 1
