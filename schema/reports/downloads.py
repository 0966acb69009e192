"""Report files (issue 6 item 9): the format enum and the signed download link on `Report`."""

from __future__ import annotations

from resolvers.reports.export import ReportFileFormat
from resolvers.reports.links import download_link

from ..context import Info
from ..enums import described

__all__ = ["ReportFileFormat", "report_download_url"]

described(
    ReportFileFormat,
    {
        ReportFileFormat.XLSX: "Excel 工作簿：表1、表2 各一页 / Excel workbook: Table 1 and Table 2 on two sheets",
        ReportFileFormat.CSV: "CSV（UTF-8，带 BOM）：表1 后接表2 / CSV, UTF-8 with a BOM: Table 1, then Table 2",
    },
    "报告文件格式 / report file format",
)


def report_download_url(info: Info, report_id: int, fmt: ReportFileFormat) -> str:
    return download_link(info.context, report_id, fmt)
