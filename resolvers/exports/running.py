"""Running one bulk export (issue 15 §1): the checks before the first byte, the rows, the audit.

Access: `EXPORT:RUN` over the requested region (or anywhere, without one), and the rows of the dataset
the caller may read, filtered by the very scope predicates the GraphQL lists use (`Access.scope` over
the same columns) and by `EXPORT:RUN`'s own scope. A child's national ID and registry number are
in full only where the caller holds `CHILD:READ_PII` over that child, masked as `Student` masks them.

Audit: `export.start` (who, dataset, filters, whether personal data is in full) is written before the
first byte; a full-PII export also writes `export.read_personal_data`; `export.finish` records the row
count and whether the stream ran to its end (`Export.finish`).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, false
from sqlalchemy.sql.elements import False_
from strawberry import relay

from authz.errors import Forbidden
from models.ledger import EntryStatus, Ledger
from models.persuasion import DeferralStatus
from models.report import ReportStatus
from models.repos import children as child_repo
from models.repos import export_datasets as datasets
from models.repos import exports as export_repo
from models.repos import ledger as ledger_repo
from models.repos import regions as region_repo
from models.repos import reports as report_repo

from ..audit import record_change
from ..budgets import BudgetPolicy, reserve_export_rows, settle_export_rows
from ..context import Context
from ..errors import BadInput
from .errors import ExportErrorCode as E

EXPORT = "EXPORT"
XLSX_MAX_ROWS = 1_048_576 - 2  # an Excel sheet's rows, less the two header rows
CHUNK_BYTES = 64 * 1024  # rows are sent in chunks of about this size
FILTERS = ("ledger", "status", "schoolYear")
Builder = Callable[[ColumnElement[bool], ColumnElement[bool], export_repo.Filters], export_repo.Query]


@dataclass(frozen=True)
class Dataset:
    name: str
    label: str  # Chinese, for the file name
    row_type: str  # the type name in the rows' global IDs (and the resume cursor)
    read: str  # the object read: CHILD, LEDGER or REPORT (`READ` on it)
    columns: Mapping[str, Sequence[Any]]  # the scope columns per line, as the GraphQL list uses them
    build: Builder
    filters: Mapping[str, type[enum.Enum] | type[int]] = field(default_factory=dict)
    personal_data: bool = False


def _no_pii(build: Callable[[ColumnElement[bool], export_repo.Filters], export_repo.Query]) -> Builder:
    return lambda scope, _pii, f: build(scope, f)


ENTRY_COLUMNS = ledger_repo.ENTRY_SCOPE_COLUMNS
DATASETS = {
    d.name: d
    for d in (
        Dataset("children", "学生", "Student", "CHILD", child_repo.SCOPE_COLUMNS, datasets.children, {}, True),
        Dataset(
            "ledger-entries",
            "台账记录",
            "LedgerEntry",
            "LEDGER",
            ENTRY_COLUMNS,
            _no_pii(datasets.ledger_entries),
            {"ledger": Ledger, "status": EntryStatus, "schoolYear": int},
        ),
        Dataset(
            "persuasion-visits",
            "劝返记录",
            "PersuasionVisit",
            "LEDGER",
            ENTRY_COLUMNS,
            _no_pii(datasets.persuasion_visits),
            {"ledger": Ledger, "schoolYear": int},
        ),
        Dataset(
            "case-plans",
            "一人一案",
            "CasePlan",
            "LEDGER",
            ENTRY_COLUMNS,
            _no_pii(datasets.case_plans),
            {"ledger": Ledger},
        ),
        Dataset(
            "deferrals",
            "延缓入学申请",
            "DeferralRequest",
            "LEDGER",
            ENTRY_COLUMNS,
            _no_pii(datasets.deferrals),
            {"ledger": Ledger, "status": DeferralStatus, "schoolYear": int},
        ),
        Dataset(
            "report-tables",
            "摸底排查统计报表",
            "Table1Row",
            "REPORT",
            report_repo.REPORT_SCOPE_COLUMNS,
            _no_pii(datasets.report_tables),
            {"status": ReportStatus, "schoolYear": int},
        ),
    )
}


@dataclass(frozen=True)
class ExportRequest:
    """The query parameters that choose the rows (the format's own are the HTTP layer's)."""

    dataset: str
    format: str
    region: str | None = None
    updated_after: str | None = None
    after: str | None = None
    filters: Mapping[str, str] = field(default_factory=dict)


def dataset_named(name: str) -> Dataset:
    found = DATASETS.get(name)
    if found is None:
        raise BadInput("dataset", E.UNKNOWN_DATASET, f"没有这个数据集；可选：{', '.join(DATASETS)}",
                       f"no such dataset; one of: {', '.join(DATASETS)}")  # fmt: skip
    return found


def _timestamp(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text) if len(text) <= 40 else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise BadInput("updatedAfter", E.BAD_TIMESTAMP)
    return moment


def _filter_value(dataset: Dataset, name: str, text: str) -> str | int:
    kind = dataset.filters.get(name)
    if kind is None:
        raise BadInput(name, E.NOT_A_FILTER, f"{dataset.name} 没有 {name} 筛选", f"{dataset.name} has no {name} filter")
    if kind is int:
        if not (text.isascii() and text.isdigit() and 2000 <= int(text) <= 2100):
            raise BadInput(name, E.BAD_VALUE, "学年应为 2000–2100 的年份", "a school year is a year 2000–2100")
        return int(text)
    allowed = [m.value for m in cast(type[enum.Enum], kind)]
    if text not in allowed:
        raise BadInput(name, E.BAD_VALUE, f"可选：{', '.join(allowed)}", f"one of: {', '.join(allowed)}")
    return text


def _cursor(dataset: Dataset, text: str | None) -> tuple[Any, ...] | None:
    """The key after which to resume: from the global `id` of the last row received."""
    if text is None:
        return None
    try:
        gid = relay.GlobalID.from_id(text) if len(text) <= 100 else None
    except Exception:  # not a global ID at all
        gid = None
    if gid is None or gid.type_name != dataset.row_type:
        raise BadInput("after", E.INVALID_CURSOR)
    number, _, stage = gid.node_id.partition(":")
    if not (number.isascii() and number.isdigit() and len(number) <= 18):
        raise BadInput("after", E.INVALID_CURSOR)
    if dataset.row_type == "Table1Row":
        if stage not in datasets.STAGE_KEYS:
            raise BadInput("after", E.INVALID_CURSOR)
        return (int(number), stage)
    if stage:
        raise BadInput("after", E.INVALID_CURSOR)
    return (int(number),)


@dataclass
class Export:
    """One export under way: its rows, counted per chunk, and its closing audit row (`finish`)."""

    ctx: Context
    dataset: Dataset
    format: str
    query: export_repo.Query
    export_id: str
    scope_path: str
    full_personal_data: bool
    budget: BudgetPolicy | None = None
    reserved: int = 0  # the day's export rows spent before the first byte (`reserve_export_rows`)
    rows: int = 0

    async def counted(self, rows: int) -> None:
        """Each chunk's rows, before the chunk is sent (the export's session is busy with the rows
        until the stream ends: nothing else may run on it here)."""
        self.rows += rows

    async def _chunks(self, select: Any, *, csv_quote: bool) -> AsyncGenerator[bytes, None]:
        """Rows from `COPY`, in chunks of about CHUNK_BYTES; closing this ends the COPY (psycopg cancels it)."""
        await export_repo.set_output_style(self.ctx.session)
        rows = export_repo.copy_rows(self.ctx.session, select, csv_quote=csv_quote, chunk_bytes=CHUNK_BYTES)
        async with aclosing(rows) as chunks:
            async for chunk, count in chunks:
                await self.counted(count)
                yield chunk

    def csv_chunks(self) -> AsyncGenerator[bytes, None]:
        """The rows as UTF-8 CSV, without the header (PostgreSQL writes the cells)."""
        return self._chunks(self.query.csv_select(), csv_quote=True)

    def jsonl_chunks(self) -> AsyncGenerator[bytes, None]:
        """The rows as JSON Lines (PostgreSQL writes the objects)."""
        return self._chunks(self.query.json_select(), csv_quote=False)

    async def row_batches(self) -> AsyncGenerator[Sequence[Sequence[Any]], None]:
        """The CSV cells as Python values, a batch at a time from a server-side cursor (XLSX)."""
        await export_repo.set_output_style(self.ctx.session)
        async with aclosing(export_repo.stream_rows(self.ctx.session, self.query.csv_select())) as batches:
            async for batch in batches:
                await self.counted(len(batch))
                yield batch

    async def finish(self, *, complete: bool) -> None:
        """The closing audit row: the final row count, and whether the stream ran to its end; the day's
        export rows corrected from the reservation to the rows really sent."""
        if self.budget is not None:
            await settle_export_rows(self.ctx, self.budget, self.reserved, self.rows)
        await record_change(
            self.ctx, action="export.finish", target_type="Export", target_id=self.export_id,
            scope_path=self.scope_path,
            summary={"dataset": self.dataset.name, "rows": self.rows, "complete": complete},
        )  # fmt: skip


async def start_export(ctx: Context, request: ExportRequest, budget: BudgetPolicy | None = None) -> Export:
    """May the caller export these rows? The scope, the masking, the day's row budget (refused before
    anything is written when spent) and the opening audit rows."""
    ctx.signed_in()
    dataset = dataset_named(request.dataset)
    access = ctx.access()
    if not access.holds_anywhere(EXPORT, "RUN"):
        raise Forbidden()
    values = {name: _filter_value(dataset, name, text) for name, text in request.filters.items()}
    filters = export_repo.Filters(
        region_path=await _region_path(ctx, request.region),
        updated_after=_timestamp(request.updated_after),
        ledger=values.get("ledger"),  # type: ignore[arg-type]
        status=values.get("status"),  # type: ignore[arg-type]
        school_year=values.get("schoolYear"),  # type: ignore[arg-type]
        after=_cursor(dataset, request.after),
    )
    scope = and_(access.scope(dataset.read, "READ", dataset.columns), access.scope(EXPORT, "RUN", dataset.columns))
    pii = access.scope("CHILD", "READ_PII", dataset.columns) if dataset.personal_data else false()
    full = not isinstance(pii, False_)
    query = dataset.build(scope, pii, filters)
    if request.format == "xlsx":
        await _check_sheet_fits(ctx, query)
    reserved = 0
    if budget is not None:  # BudgetSpent: 429 before anything is written
        reserved = await reserve_export_rows(ctx, budget, lambda limit: export_repo.count(ctx.session, query, limit))
    export_id = uuid.uuid4().hex
    scope_path = filters.region_path or ""
    chosen = {"region": request.region, "updatedAfter": request.updated_after, "after": request.after, **values}
    summary = {
        "dataset": dataset.name,
        "format": request.format,
        "filters": {k: v for k, v in chosen.items() if v is not None},
        "fullPersonalData": full,
    }
    await record_change(ctx, action="export.start", target_type="Export", target_id=export_id,
                        scope_path=scope_path, summary=summary)  # fmt: skip
    if full:  # a full-PII export is a personal-data read (README: who sees what)
        await record_change(ctx, action="export.read_personal_data", target_type="Export", target_id=export_id,
                            scope_path=scope_path, summary={"dataset": dataset.name})  # fmt: skip
    return Export(ctx, dataset, request.format, query, export_id, scope_path, full, budget, reserved)


async def _check_sheet_fits(ctx: Context, query: export_repo.Query) -> None:
    if await export_repo.count(ctx.session, query, XLSX_MAX_ROWS + 1) > XLSX_MAX_ROWS:
        raise BadInput("format", E.TOO_MANY_ROWS, f"超过 {XLSX_MAX_ROWS} 行，请用 format=csv 或 jsonl 导出",
                       f"more than {XLSX_MAX_ROWS} rows: export with format=csv or jsonl")  # fmt: skip


async def _region_path(ctx: Context, code: str | None) -> str | None:
    """The region's path, where the caller holds EXPORT:RUN over it; any other answers like a missing one."""
    if code is None:
        return None
    if not (code.isascii() and code.isdigit() and 2 <= len(code) <= 12):
        raise BadInput("region", E.BAD_REGION)
    region = await region_repo.get_region(ctx.session, code)
    if region is None or ctx.access().allows(EXPORT, "RUN", {"EDU": [region.path], "GOV": [region.path]}) is None:
        raise BadInput("region", E.UNKNOWN_REGION)
    return region.path
