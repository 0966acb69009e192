"""Small rosters for the roster tests, written as CSV (in an encoding) or XLSX, and the demo lookups."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from datagen.demo.people import national_id
from models.child import Gender, SpecialGroup
from models.roster import COLUMNS, RegistryStatus, RosterKind, RosterRecord, RowProblem
from models.roster_import import RosterImport
from resolvers.context import Context
from resolvers.rosters.errors import RosterErrorCode
from resolvers.rosters.imports import import_roster
from resolvers.rosters.rows import RowChecks
from resolvers.rosters.staging import FileChecks

WUDING = "53/5323/532329"  # 武定县; its neighbour 元谋县 is 532328
SHISHAN_VILLAGE = "532329101201"  # 狮山村民委员会
SHISHAN_SCHOOL = "2153000036"  # 武定县狮山镇中心小学 (primary)
YUANMOU_VILLAGE = "532328101206"  # 乐甫村民委员会, 元谋县
BOY = national_id("532329", date(2016, 4, 6), 9, male=True)
GIRL = national_id("532329", date(2015, 9, 1), 12, male=False)


HOUSEHOLD: list[list[str]] = [
    ["姓名", "性别", "公民身份号码", "出生日期", "户籍地区划代码", "现住址区划代码"],
    ["张小军", "男", BOY, "2016-04-06", SHISHAN_VILLAGE, SHISHAN_VILLAGE],
    ["李美玲", "女", GIRL, "2015/9/1", SHISHAN_VILLAGE, ""],
]


def csv_bytes(rows: Sequence[Sequence[object]], encoding: str = "utf-8") -> bytes:
    text = io.StringIO(newline="")
    csv.writer(text).writerows(rows)
    return text.getvalue().encode(encoding)


# The household roster in Big5 with its headers in traditional characters, as an office in Taiwan or Hong
# Kong, or an older tool, would save it: every byte of it also decodes as GB18030, into other characters.
BIG5_HOUSEHOLD = csv_bytes(
    [
        ["姓名", "性別", "公民身份號碼", "出生日期", "戶籍地區劃代碼"],
        ["張小軍", "男", BOY, "2016-04-06", SHISHAN_VILLAGE],
    ],
    "big5",
)


def xlsx_bytes(rows: Sequence[Sequence[object]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def shared_strings_xlsx(
    rows: Sequence[Sequence[str]], *, rich: Sequence[str] = (), padding: int = 0, sheet_tail: str = ""
) -> bytes:
    """An XLSX as Excel and WPS save one, every text a shared string (openpyxl writes them inline). The texts
    in `rich` are written as rich-text runs with a phonetic guide; `padding` adds that many unused copies of
    one name to the shared strings (a table that expands a thousandfold); `sheet_tail` is XML put after the
    rows."""
    table: list[str] = []
    index: dict[str, int] = {}
    for value in (v for row in rows for v in row):
        index.setdefault(value, len(table))
        if len(table) < len(index):
            table.append(value)
    cells = []
    for r, row in enumerate(rows, 1):
        refs = "".join(f'<c r="{chr(65 + c)}{r}" t="s"><v>{index[v]}</v></c>' for c, v in enumerate(row))
        cells.append(f'<row r="{r}">{refs}</row>')

    def item(value: str) -> str:
        if value in rich:
            return (f'<si><r><t>{value[:1]}</t></r><r><rPr><b/></rPr><t xml:space="preserve">{value[1:]}</t></r>'
                    f'<rPh sb="0" eb="1"><t>ZHANG</t></rPh></si>')  # fmt: skip
        return f'<si><t xml:space="preserve">{value}</t></si>'

    strings = "".join(item(v) for v in table) + "<si><t>张三</t></si>" * padding
    parts = {
        "[Content_Types].xml": f'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        f'<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_TYPE}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_TYPE}.worksheet+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_TYPE}.sharedStrings+xml"/></Types>',
        "_rels/.rels": f'<Relationships xmlns="{_RELS}"><Relationship Id="rId1" Type="{_OFFICE}/officeDocument"'
        ' Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{_MAIN}" xmlns:r="{_OFFICE}"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{_RELS}">'
        f'<Relationship Id="rId1" Type="{_OFFICE}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_OFFICE}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{_MAIN}"><sheetData>{"".join(cells)}{sheet_tail}'
        "</sheetData></worksheet>",
        "xl/sharedStrings.xml": f'<sst xmlns="{_MAIN}">{strings}</sst>',
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, xml in parts.items():
            package.writestr(name, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' + xml)
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


async def checked_rows(
    session: AsyncSession,
    kind: RosterKind,
    rows: Sequence[tuple[int, dict[str, str]]],
    jurisdiction: str = WUDING,
) -> list[RosterRecord | list[RowProblem]]:
    """Rows checked as an import checks them (resolvers/rosters/rows.py, the geography read from the
    session's database): each a record, or its problems. The rows share their headers (the first row's).

    A row outside the jurisdiction is never stored, so no column of it is shown anywhere; here it is
    reported as one OUT_OF_SCOPE problem on its first place column with a value, as the tests name it."""
    headers = list(rows[0][1])
    checks = RowChecks(kind, headers, jurisdiction=jurisdiction)
    values = checks.values(checks.frame([(line, [cells.get(h, "") for h in headers]) for line, cells in rows]))
    staged = (await FileChecks(checks).check(session, values)).sort("line").to_dicts()
    for row in staged:
        row["problems"], row["raw"] = json.loads(row["problems"]), json.loads(row["raw"])
    by_line = dict(rows)
    out: list[RosterRecord | list[RowProblem]] = []
    for row in staged:
        if row["status"] == "VALID":
            out.append(_record(row))
        elif row["status"] == "REFUSED":
            out.append(
                [
                    RowProblem(row["line"], p["column"], p["code"], *p["message"].split(" / ", 1))
                    for p in row["problems"]
                ]
            )
        else:
            cells = by_line[row["line"]]
            place = next(
                c for c in COLUMNS[kind]
                if c.field.endswith("_code") and any(cells.get(h, "").strip() for h in c.headers)
            )  # fmt: skip
            header = next((h for h in place.headers if h in cells), place.header)
            code = RosterErrorCode.OUT_OF_SCOPE
            out.append([RowProblem(row["line"], header, code.name, code.zh, code.en)])
    return out


def _record(row: Any) -> RosterRecord:
    return RosterRecord(
        line=row["line"], name=row["name"], gender=Gender(row["gender"]), birth_date=row["birth_date"],
        national_id=row["national_id"], household_region_code=row["household_region_code"],
        residence_region_code=row["residence_region_code"], registry_number=row["registry_number"],
        school_code=row["school_code"], grade=row["grade"],
        special_group=SpecialGroup(row["poverty_kind"]) if row["poverty_kind"] else None,
        no_id_reason=row["no_id_reason"], raw=row["raw"],
        registry_status=RegistryStatus(row["registry_status"]) if row["registry_status"] else None,
    )  # fmt: skip
