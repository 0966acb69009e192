"""Downloading a report (issue 6 item 9): its current version as Guyuan's two tables (POLICY 003 annexes
1–2), and a city's or province's assessments, in an Excel workbook or a CSV file (the signed link a
browser opens is in `links.py`).

The file holds what `Report.table1` and `Report.dropouts` show, whatever the report's level: Table 1
from the version's figures, Table 2 from its dropout list with the national ID and registry number
masked as in the API, and the list only where the caller may read the ledgers over the unit
(`reading.lists_visible`); otherwise one line says it is not available to this account.
"""

from __future__ import annotations

import csv
import enum
import io
from collections.abc import Sequence
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from models.child import GENDER_LABELS, Stage, mask_national_id
from models.ledger import DropoutCategory, Ledger
from models.report import (
    ASSESSMENT_GRADE_LABELS,
    Report,
    ReportAssessment,
    ReportChild,
    ReportFigure,
    ReportRevision,
    ReportStatus,
)
from models.report_tables import Cohort, Figures, china_day, figures_of, total
from models.reporting_calendar import ReportLevel
from models.repos import reports as report_repo

from ..audit import record_change
from ..context import Context
from .assessing import assessed
from .common import visible_report
from .reading import children_of, current_shown, lists_visible, shown_versions, works_on
from .reading import figures_of as figures_of_versions


class ReportFileFormat(enum.StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


MEDIA_TYPES = {
    ReportFileFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ReportFileFormat.CSV: "text/csv; charset=utf-8",
}
TABLE1_NAME = "义务教育控辍保学摸底排查统计报表"  # 003 附件1
TABLE2_NAME = "义务教育控辍保学辍学学生信息统计报表"  # 003 附件2
TABLE1_HEADER = (
    ("学段", "应到校人数", "请假未到校人数", "疑似辍学人数", "辍学人数", "其中：辍学学生分类", *[""] * 19),
    ("", "", "", "", "", *[c.value for c in DropoutCategory]),
)
TABLE2_COLUMNS = "序号 姓名 性别 身份证号 学籍号 家庭住址 是否建档立卡 辍学原因 劝返后就读学校 是否销账 备注"
TABLE2_HEADER = (tuple(TABLE2_COLUMNS.split(" ")),)
ASSESSMENT_HEADER = ("序号", "单位代码", "单位", "等次", "调研评估发现", "指导意见")
LIST_WITHHELD = "本账号无权查看辍学学生名单（需台账查看权限）/ the dropout list is not available to this account"
STATUS_LABELS = {
    ReportStatus.DRAFT: "草稿 / draft",
    ReportStatus.SUBMITTED: "已报送 / submitted",
    ReportStatus.RETURNED: "已退回 / returned",
    ReportStatus.APPROVED: "复核通过 / approved",
}

Cell = str | int


@dataclass(frozen=True)
class Table:
    sheet: str
    title: str
    header: tuple[tuple[str, ...], ...]
    rows: list[list[Cell]]
    note: str | None = None  # one line instead of rows: the list withheld


@dataclass(frozen=True)
class ReportDocument:
    info: str  # 填报单位, 报告期, 数据截至, 填报日期, 状态 (and a province's 巩固率)
    table1: Table
    table2: Table
    assessments: Table | None = None  # a city's research or a province's assessment of the units below

    @property
    def tables(self) -> list[Table]:
        return [self.table1, self.table2, *([self.assessments] if self.assessments else [])]


@dataclass(frozen=True)
class ReportFile:
    content: bytes
    media_type: str
    filename: str  # with the unit's Chinese name
    ascii_filename: str


def _yes_no(flag: bool) -> str:
    return "是" if flag else "否"


def _figures_row(label: str, f: Figures) -> list[Cell]:
    return [label, f.should_attend, f.on_leave, f.suspected, f.dropouts, *[f.category(c) for c in DropoutCategory]]


def table1_rows(figures: Sequence[ReportFigure]) -> list[list[Cell]]:
    """小学, 初中, 合计: the rows `Report.table1` shows."""
    by_stage = {r.stage: figures_of(r) for r in figures}
    return [
        _figures_row("小学", by_stage.get(Stage.PRIMARY, Figures())),
        _figures_row("初中", by_stage.get(Stage.JUNIOR, Figures())),
        _figures_row("合计", total(by_stage)),
    ]


def table2_row(r: ReportChild) -> list[Cell]:
    """One child of Table 2, masked as `Report.dropouts` masks it."""
    return [
        r.seq,
        r.name,
        GENDER_LABELS[r.gender].split(" / ")[0],
        mask_national_id(r.national_id) or "",
        mask_national_id(r.registry_number) or "",
        r.home_address,
        _yes_no(r.poverty_registered),
        r.category.value if r.category else "",
        r.school_after_return or "",
        _yes_no(r.closed_out),
        "；".join(x for x in (r.remarks, r.note) if x),
    ]


def build_document(
    report: Report,
    revision: ReportRevision,
    figures: Sequence[ReportFigure],
    dropouts: Sequence[ReportChild] | None,
    assessments: Sequence[ReportAssessment] = (),
) -> ReportDocument:
    """The two tables of a version (and a city's or province's assessments of the units below);
    `dropouts` None when the caller may not see the list."""
    submitted = china_day(revision.submitted_at)
    facts = [
        f"填报单位：{report.unit_name}（{report.unit_code}）",
        f"报告期：{report.period}（{report.period_start.isoformat()} 至 {report.period_end.isoformat()}）",
        f"数据截至：{revision.as_of.isoformat()}",
        f"填报日期：{submitted.isoformat() if submitted else '草稿 / draft'}",
        f"状态：{STATUS_LABELS[report.status]}",
    ]
    cohort = Cohort(revision.cohort_size or 0, revision.cohort_retained or 0)
    if cohort.rate is not None:
        facts.append(f"学年巩固率：{cohort.rate:.1%}（{cohort.retained}/{cohort.size}）")
    info = "　　".join(facts)
    return ReportDocument(
        info=info,
        table1=Table("表1 摸底排查统计", f"{report.unit_name}{TABLE1_NAME}", TABLE1_HEADER, table1_rows(figures)),
        table2=Table(
            "表2 辍学学生信息",
            f"{report.unit_name}{TABLE2_NAME}",
            TABLE2_HEADER,
            [table2_row(r) for r in dropouts or ()],
            note=LIST_WITHHELD if dropouts is None else None,
        ),
        assessments=_assessment_table(report, assessments) if assessed(report) else None,
    )


def _assessment_table(report: Report, assessments: Sequence[ReportAssessment]) -> Table:
    name = "调研意见" if report.level is ReportLevel.CITY else "评估结果"
    return Table(
        name,
        f"{report.unit_name}控辍保学工作{name}",
        (ASSESSMENT_HEADER,),
        [
            [
                n,
                a.subject_code,
                a.subject_name,
                ASSESSMENT_GRADE_LABELS[a.grade].split(" / ")[0] if a.grade else "",
                a.findings,
                a.guidance or "",
            ]
            for n, a in enumerate(assessments, start=1)
        ],
    )


def _csv_safe(value: Cell) -> Cell:
    """Text a spreadsheet would run as a formula starts with a quote (CSV injection)."""
    return "'" + value if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")) else value


def to_csv(doc: ReportDocument) -> bytes:
    """Table 1, a blank line, Table 2's heading and Table 2 (then the assessments the same way); UTF-8
    with a BOM so Excel reads Chinese."""
    out = io.StringIO()
    writer = csv.writer(out)
    for table in doc.tables:
        if table is not doc.table1:
            writer.writerow([])
        writer.writerow([table.title])
        if table is doc.table1:
            writer.writerow([doc.info])
        writer.writerows(table.header)
        writer.writerows([_csv_safe(v) for v in row] for row in table.rows)
        if table.note:
            writer.writerow([table.note])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _put(ws: Worksheet, row: int, column: int, value: Cell) -> None:
    cell = ws.cell(row=row, column=column)
    cell.value = ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # text, never a formula


def _display_width(value: Cell) -> int:
    """Columns a value takes: Chinese characters are two wide."""
    return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in str(value))


def _column_headings(table: Table) -> list[str]:
    """Each column's own heading: under a heading that spans columns (其中：辍学学生分类), the one below it."""
    last = table.header[-1]
    return [below or above for above, below in zip(table.header[0], last, strict=True)]


def _sheet(ws: Worksheet, info: str, table: Table) -> None:
    width = len(table.header[0])
    _put(ws, 1, 1, table.title)
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    ws.cell(row=1, column=1).alignment = Alignment(horizontal="center")
    _put(ws, 2, 1, info)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    top = 3
    for i, header in enumerate(table.header):
        for j, label in enumerate(header, start=1):
            _put(ws, top + i, j, label)
    if len(table.header) == 2:  # Table 1: the first five headings span both rows, the categories' one row
        for j, label in enumerate(table.header[1], start=1):
            if not label:
                ws.merge_cells(start_row=top, start_column=j, end_row=top + 1, end_column=j)
        first = table.header[1].index(next(x for x in table.header[1] if x)) + 1
        ws.merge_cells(start_row=top, start_column=first, end_row=top, end_column=width)
    start = top + len(table.header)
    for i, values in enumerate(table.rows):
        for j, value in enumerate(values, start=1):
            _put(ws, start + i, j, value)
    end = start + len(table.rows) - 1
    for row_number, line in enumerate(ws.iter_rows(min_row=top, max_row=end, max_col=width), start=top):
        for cell in line:
            cell.border = _BOX
            cell.alignment = _CENTRE
            if row_number < start:
                cell.font = Font(bold=True)
    if table.note:
        _put(ws, end + 1, 1, table.note)
        ws.merge_cells(start_row=end + 1, start_column=1, end_row=end + 1, end_column=width)
    total_width = 0
    for j, heading in enumerate(_column_headings(table), start=1):
        longest = max(_display_width(v) for v in [heading, *(row[j - 1] for row in table.rows)])
        ws.column_dimensions[get_column_letter(j)].width = column_width = min(50, max(4, longest + 2))
        total_width += column_width
    lines = -(-_display_width(info) // total_width)  # the facts wrap inside the table's width
    ws.cell(row=2, column=1).alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[2].height = 15 * lines
    ws.freeze_panes = f"B{start}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True  # type: ignore[union-attr]


def to_xlsx(doc: ReportDocument) -> bytes:
    """Two sheets, Table 1 and Table 2, each with its title and the report's line of facts."""
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for table in doc.tables:
        _sheet(book.create_sheet(table.sheet), doc.info, table)
    book.properties.creator = "baoxue"
    book.properties.title = doc.table1.title
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def download_report(ctx: Context, report_id: str, fmt: ReportFileFormat) -> ReportFile:
    """May the caller have this report's file? NOT_FOUND outside its REPORT:READ view, like a missing one.
    The download is audited (`report.download`) in this operation's transaction."""
    report = await visible_report(ctx, report_id, lock=False)
    versions = (await report_repo.revisions_of(ctx.session, [report.id or 0])).get(report.id or 0, [])
    mine = (await works_on(ctx, [report.unit_path]))[report.unit_path]
    revision = current_shown(shown_versions(versions, mine), report.revision)
    assert revision is not None, "a report the caller reads has a version it may see"
    key = str(revision.id)
    figures = (await figures_of_versions(ctx, [key]))[key]
    dropouts: list[ReportChild] | None = None
    if (await lists_visible(ctx, [report.unit_path]))[report.unit_path]:
        dropouts = [r for r in (await children_of(ctx, [key]))[key] if r.ledger is Ledger.DROPOUT]
    assessed = (await report_repo.assessments_of(ctx.session, [revision.id or 0])).get(revision.id or 0, [])
    doc = build_document(report, revision, figures, dropouts, assessed)
    content = to_xlsx(doc) if fmt is ReportFileFormat.XLSX else to_csv(doc)
    await record_change(
        ctx,
        action="report.download",
        target_type="Report",
        target_id=str(report.id),
        scope_path=report.unit_path,
        summary={
            "period": report.period,
            "unit": report.unit_code,
            "revision": report.revision,
            "format": fmt.value,
            "children": None if dropouts is None else len(dropouts),
        },
    )
    stem = f"{report.unit_code}_{report.period}"
    return ReportFile(
        content=content,
        media_type=MEDIA_TYPES[fmt],
        filename=f"{report.unit_name}_{stem}_控辍保学报表.{fmt.value}",
        ascii_filename=f"report_{stem}.{fmt.value}",
    )
