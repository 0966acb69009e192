"""Small rosters for the roster tests, written as CSV (in an encoding) or XLSX, and the demo lookups."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from datagen.demo.people import national_id
from datagen.demo.places import Geography
from models.roster import RosterKind
from models.roster_import import RosterImport
from resolvers.context import Context
from resolvers.rosters.imports import import_roster

GEO = Geography()
WUDING = "53/5323/532329"  # 武定县; its neighbour 元谋县 is 532328
SHISHAN_VILLAGE = "532329101201"  # 狮山村民委员会
SHISHAN_SCHOOL = "2153000036"  # 武定县狮山镇中心小学 (primary)
YUANMOU_VILLAGE = "532328101206"  # 乐甫村民委员会, 元谋县
BOY = national_id("532329", date(2016, 4, 6), 9, male=True)
GIRL = national_id("532329", date(2015, 9, 1), 12, male=False)


def region_path(code: str) -> str | None:
    return GEO.paths.get(code)


def school_path(code: str) -> str | None:
    return GEO.school_paths.get(code)


def in_wuding(paths: list[str]) -> bool:
    """The importer holds 武定县: a row is in scope when one of its paths lies in the county."""
    return any(p == WUDING or p.startswith(WUDING + "/") for p in paths)


LOOKUPS = {"region_path": region_path, "school_path": school_path, "in_scope": in_wuding}

HOUSEHOLD: list[list[str]] = [
    ["姓名", "性别", "公民身份号码", "出生日期", "户籍地区划代码", "现住址区划代码"],
    ["张小军", "男", BOY, "2016-04-06", SHISHAN_VILLAGE, SHISHAN_VILLAGE],
    ["李美玲", "女", GIRL, "2015/9/1", SHISHAN_VILLAGE, ""],
]


def csv_bytes(rows: Sequence[Sequence[object]], encoding: str = "utf-8") -> bytes:
    text = io.StringIO(newline="")
    csv.writer(text).writerows(rows)
    return text.getvalue().encode(encoding)


def xlsx_bytes(rows: Sequence[Sequence[object]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples" / "rosters"


async def committed_example_batch(engine: AsyncEngine, file_name: str, kind: RosterKind) -> RosterImport:
    """One of the example rosters staged by the operator and committed (for tests on two connections)."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        ctx = Context(session=session, principal=None, system_actor="setup", operator=True)
        imported = await import_roster(
            ctx,
            kind=kind,
            jurisdiction_code="532329",
            as_of=date(2026, 11, 30),
            file_name=file_name,
            stream=io.BytesIO((EXAMPLES / file_name).read_bytes()),
        )
        await session.commit()
    return imported.batch
