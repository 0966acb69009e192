"""A batch's file for the national platform (README, "Cases sent up"): the student-registry fields of each
line, CSV (UTF-8 with a BOM, for Excel) or XLSX, built from the stored lines only, so a batch downloaded
again gives the same bytes (the XLSX's zip entries and document dates are the batch's own time)."""

from __future__ import annotations

import csv
import enum
import io
import zipfile
from collections.abc import Sequence
from datetime import UTC

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

from models.base import CHINA_TIME
from models.child import Gender
from models.platform_upload import PLATFORM_STATUS_LABELS, PlatformBatch, PlatformBatchLine


class BatchFileFormat(enum.StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


MEDIA_TYPES = {
    BatchFileFormat.CSV: "text/csv; charset=utf-8",
    BatchFileFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
COLUMNS = ("批次号", "序号", "学籍号", "身份证号", "姓名", "性别", "学校标识码", "年级", "辍学类型", "状态", "日期")
GENDERS = {Gender.MALE: "男", Gender.FEMALE: "女"}


def batch_code(batch: PlatformBatch) -> str:
    """批次号: the county's code and the batch's number within it, `532329-0003`."""
    return f"{batch.county_code}-{batch.number:04d}"


def rows_of(batch: PlatformBatch, lines: Sequence[PlatformBatchLine]) -> list[list[str | int]]:
    code = batch_code(batch)
    return [
        [
            code,
            line.seq,
            line.registry_number or "",
            line.national_id or "",
            line.name,
            GENDERS[line.gender],
            line.school_code or "",
            line.grade if line.grade is not None else "",
            line.category.value if line.category else "",
            PLATFORM_STATUS_LABELS[line.kind],
            line.happened_on.isoformat(),
        ]
        for line in lines
    ]


def to_csv(batch: PlatformBatch, lines: Sequence[PlatformBatchLine]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows_of(batch, lines))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(batch: PlatformBatch, lines: Sequence[PlatformBatchLine]) -> bytes:
    """One sheet; identifiers as text (Excel would round an 18-digit ID). Same batch, same bytes."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = batch_code(batch)
    sheet.append(list(COLUMNS))
    for row in rows_of(batch, lines):
        sheet.append(row)
    for cells in sheet.iter_rows(min_row=2, min_col=3, max_col=4):
        for cell in cells:
            cell.number_format = "@"
    made = batch.created_at.astimezone(UTC).replace(tzinfo=None, microsecond=0)
    book.properties.creator = "baoxue"
    book.properties.title = f"录入平台批次 {batch_code(batch)}"
    book.properties.created = book.properties.modified = made
    raw = io.BytesIO()
    # ExcelWriter, not `book.save`, which stamps the document's modified time with the clock.
    ExcelWriter(book, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED)).save()
    return _fixed_zip_times(raw.getvalue(), batch)


def _fixed_zip_times(content: bytes, batch: PlatformBatch) -> bytes:
    """The workbook's zip again, each entry dated the batch's time (openpyxl dates them with the clock)."""
    when = batch.created_at.astimezone(CHINA_TIME).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            fixed = zipfile.ZipInfo(item.filename, date_time=when)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, source.read(item.filename))
    return out.getvalue()


def file_of(batch: PlatformBatch, lines: Sequence[PlatformBatchLine], fmt: BatchFileFormat) -> bytes:
    return to_csv(batch, lines) if fmt is BatchFileFormat.CSV else to_xlsx(batch, lines)
