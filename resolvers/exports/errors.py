"""The refusal codes of `GET /exports/{dataset}` and their rules in Chinese and English."""

from __future__ import annotations

from ..errors import ErrorCode


class ExportErrorCode(ErrorCode):
    """导出的错误代码 / error codes of bulk exports"""

    UNKNOWN_DATASET = ("没有这个数据集", "no such dataset")
    UNKNOWN_PARAMETER = ("不支持的参数", "a parameter this export does not take")
    BAD_FORMAT = ("format 应为 csv、jsonl 或 xlsx", "format must be csv, jsonl or xlsx")
    BAD_ENCODING = ("encoding 应为 utf-8 或 gb18030（仅 CSV）", "encoding must be utf-8 or gb18030 (CSV only)")
    BAD_HEADER = ("header 应为 both 或 machine（仅 CSV）", "header must be both or machine (CSV only)")
    BAD_REGION = ("区划代码应为 2–12 位数字", "a region code is 2 to 12 digits")
    UNKNOWN_REGION = ("没有这个行政区划或不在导出权限内", "no such region, or not one you may export")
    BAD_TIMESTAMP = (
        "应为带时区的 ISO 8601 时间，如 2026-10-01T00:00:00+08:00",
        "an ISO 8601 time with its offset, e.g. 2026-10-01T00:00:00+08:00",
    )
    BAD_VALUE = ("不是这个参数允许的值", "not a value this parameter takes")
    NOT_A_FILTER = ("这个数据集没有这个筛选条件", "this dataset has no such filter")
    INVALID_CURSOR = ("续传游标无效：应为上次收到的最后一行的 id", "bad cursor: give the id of the last row received")
    TOO_MANY_ROWS = (
        "超过 Excel 工作表行数上限，请用 format=csv 或 jsonl 导出",
        "more rows than an Excel sheet holds: export with format=csv or jsonl",
    )
