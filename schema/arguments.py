"""The descriptions of arguments that mean the same wherever they appear (frontend teams read the schema as
the manual: every argument is described). An argument described at its own field keeps its description."""

from __future__ import annotations

from strawberry.types.field import StrawberryField
from strawberry.utils.str_converters import to_camel_case

COMMON = {
    "input": "操作的输入 / the operation's input (one object; see its fields).",
    "filter": "筛选条件（均为“且”）/ what to list: every condition given must hold.",
    "first": "本页最多条数（默认 20，最多 100）/ at most this many items in the page (default 20, at most 100).",
    "after": "从该游标之后开始（上一页的 pageInfo.endCursor）/ start after this cursor: the previous page's "
    "`pageInfo.endCursor`.",
    "id": "全局 ID / a Relay global ID.",
    "ids": "全局 ID 列表（最多 100 个）/ up to 100 Relay global IDs.",
    "regionCode": "行政区划代码（须在本人查看范围内）/ a region's code, within your view.",
    "schoolCode": "学校标识码（须在本人查看范围内）/ a school's identifier, within your view.",
    "provinceCode": "省级区划代码（两位）/ a province's 2-digit code.",
    "cityCode": "地市级区划代码（四位）/ a city's 4-digit code.",
    "month": "月份，如 2026-09 / a month, e.g. 2026-09.",
    "year": "公历年份 / a calendar year.",
    "period": "报告期，如 2026-09、2026-Q3、2026-AUTUMN、2025-2026 / a reporting period.",
    "term": "学期，如 2026-AUTUMN / a term, e.g. 2026-AUTUMN.",
    "grade": "年级（1–9）/ a grade, 1 to 9.",
    "by": "按哪一级汇总 / the level of region the rows count by.",
}

# Arguments whose meaning is their field's own, by `field.argument`.
OWN = {
    "explainAccess.username": "要解释的账号 / the account whose access to explain.",
    "explainAccess.action": "动作，如 CHILD:READ / the action, OBJECT:ACTION such as CHILD:READ.",
    "explainAccess.objectId": "对象的全局 ID / the object's global ID.",
    "downloadUrl.format": "文件格式 / the file's format.",
    "rows.status": "只列该状态的行 / only rows of this status.",
    "rows.match": "只列该匹配结果的行 / only rows matched this way.",
    "verificationProgress.batchId": "下发批次（空：所有批次的逾期视图）/ one pushed-down batch (none: every batch, "
    "the overdue view).",
}


def describe_arguments(field: StrawberryField) -> None:
    """Give each undescribed argument its field's or its common description."""
    field_name = field.graphql_name or to_camel_case(field.python_name)
    for argument in field.arguments:
        if argument.description is None:
            name = argument.graphql_name or to_camel_case(argument.python_name)
            argument.description = OWN.get(f"{field_name}.{name}", COMMON.get(name))
