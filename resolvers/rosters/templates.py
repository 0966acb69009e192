"""A blank roster per kind (名册模板), as XLSX: the kind's headers and one example row.

Required columns carry a comment "必填 / required". The example row is a demo child of 武定县 (532329)
and passes the checks against the demo geography (tests/resolvers/test_roster_files.py reads it back).
"""

from __future__ import annotations

import io

from models.roster import COLUMNS, ONE_OF, RosterKind

# One child of the demo (datagen/demo): 狮山镇 东岳社区, at 狮山镇中心小学 in grade 4 (the 帮扶类型 and the
# 中考报名号 only show the form: she is on neither the demo's poverty roster nor its 中考 registrations).
EXAMPLE = {
    "name": "刘金花",
    "gender": "女",
    "national_id": "532329201705270007",
    "birth_date": "2017-05-27",
    "household_region_code": "532329101001",
    "residence_region_code": "532329101001",
    "registry_number": "G532329201705270007",
    "school_code": "2153000036",
    "grade": "四年级",
    "poverty_kind": "脱贫户",
    "no_id_reason": "",
    "registry_status": "在读",
    "exam_number": "2027532329000001",
}


def template_xlsx(kind: RosterKind) -> bytes:
    """The kind's template workbook, written with openpyxl's write-only mode."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.comments import Comment

    book = Workbook(write_only=True)
    sheet = book.create_sheet(kind.value)
    one_of = {c.field for c in ONE_OF.get(kind, ())}
    headers = []
    for column in COLUMNS[kind]:
        cell = WriteOnlyCell(sheet, value=column.header)
        if column.required:
            cell.comment = Comment("必填 / required", "baoxue")
        elif column.field in one_of:
            cell.comment = Comment("户籍地或现住址区划代码至少填一项 / one of the two codes", "baoxue")
        elif column.field == "no_id_reason":
            cell.comment = Comment("无身份证号时必填 / required without a national ID", "baoxue")
        headers.append(cell)
    sheet.append(headers)
    sheet.append([EXAMPLE[c.field] for c in COLUMNS[kind]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
