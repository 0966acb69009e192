"""Roster batches (名册导入批次) as the schema shows them: provenance and counts, no personal data."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime

import strawberry
from strawberry import relay

from models.child import Gender, SpecialGroup, mask_national_id
from models.roster import ROSTER_KIND_LABELS, RegistryStatus, RosterKind
from models.roster_import import ImportStatus, RowMatch, RowStatus
from models.roster_import import RosterImport as ImportRow
from models.roster_import import RosterImport as RosterImportRow
from models.roster_import import RosterRow as RowRecord
from resolvers.rosters import decisions, reading
from resolvers.students import reading as child_resolvers

from ..connection import Connection, to_connection
from ..context import Info, loader
from ..enums import described
from ..errors import RosterError
from ..inputs import stored_in
from ..mutations import run_mutation
from ..nodes import node_id_of
from ..students.types import Student

described(RosterKind, ROSTER_KIND_LABELS, "名册类型（四查）/ kind of roster (the four checks)")
described(
    ImportStatus,
    {
        ImportStatus.STAGED: "已暂存，待人工应用或放弃 / staged: checked and matched, awaiting a person's decision",
        ImportStatus.APPLIED: "已应用 / applied",
        ImportStatus.DISCARDED: "已放弃（同一文件可再导入）/ discarded: the same file may be imported again",
    },
    "导入批次状态 / state of an import batch",
)
described(
    RowStatus,
    {RowStatus.VALID: "有效 / passed every check", RowStatus.REFUSED: "拒收 / refused, with its problems"},
    "名册行状态 / state of a roster row",
)
described(
    RowMatch,
    {
        RowMatch.EXACT: "身份证号一致 / the same national ID as a known child",
        RowMatch.CANDIDATE: "疑似对应，待人工确认 / one child of the county with the same name, birth date and "
        "gender: a person confirms or rejects it",
        RowMatch.CONFIRMED: "已确认对应 / a person confirmed the candidate",
        RowMatch.REJECTED: "已否定对应（应用时登记为新儿童）/ a person rejected the candidate: a new child on apply",
        RowMatch.NEW: "新发现（应用时登记为新儿童）/ no known child fits: registered as a child on apply",
    },
    "名册行与已知儿童的对应 / how a roster row stands against the children already known",
)
described(
    RegistryStatus,
    {
        RegistryStatus.ENROLLED: "在读（空白即在读）/ studying (a blank cell reads so)",
        RegistryStatus.SUSPENDED: "休学 / suspended: approved leave, the registry place kept",
        RegistryStatus.DROPPED_OUT: "辍学 / marked as dropped out in the registry",
        RegistryStatus.OTHER_LEAVING: "其他离校 / other leaving (needs a stated reason)",
        RegistryStatus.TRANSFERRED_OUT: "转出 / the registry transferred to another school",
        RegistryStatus.GRADUATED: "毕业、结业 / finished",
        RegistryStatus.DECEASED: "死亡 / deceased",
    },
    "学籍状态（学籍名册）/ a pupil's status in the student registry",
)


@strawberry.type(description="名册计数 / a batch's row counts.")
class RosterCounts:
    read: int = strawberry.field(description="读取行数 / data rows read (those outside the jurisdiction included).")
    valid: int = strawberry.field(description="有效行 / rows that passed every check.")
    refused: int = strawberry.field(
        description="拒收行（含辖区外）/ rows refused, those outside the jurisdiction included."
    )
    matched: int = strawberry.field(description="已对应到学生 / rows tied to a known child (exact on the national ID).")
    new: int = strawberry.field(description="新发现 / valid rows that fit no known child.")


@strawberry.type(description="名册行的问题 / a problem of a refused row.")
class RowProblemInfo:
    column: str = strawberry.field(description="列名（文件中的表头）/ the column's header as in the file.")
    code: str = strawberry.field(description="错误代码（RosterErrorCode）/ the code (a RosterErrorCode).")
    message: str = strawberry.field(description="中英文说明 / the rule, in Chinese and English.")


@strawberry.type(
    description="名册的一行：读取的内容、问题和对应的儿童 / one line of a roster: what was read, what was "
    "wrong, and the child it stands for. Personal data: scoped and masked like Student."
)
class RosterRow(relay.Node):
    import_number: int = strawberry.field(description="批次号 / the batch's number.")
    line: int = strawberry.field(description="文件行号（表头为第 1 行）/ the line in the file, the header being 1.")
    status: RowStatus = strawberry.field(description="状态 / valid or refused.")
    problems: list[RowProblemInfo] = strawberry.field(description="问题（拒收行）/ why it was refused.")
    name: str | None = strawberry.field(description="姓名 / name.")
    gender: Gender | None = strawberry.field(description="性别 / gender.")
    birth_date: date | None = strawberry.field(description="出生日期 / birth date.")
    school_code: str | None = strawberry.field(description="学校标识码 / school identifier.")
    grade: int | None = strawberry.field(description="年级 / grade.")
    household_region_code: str | None = strawberry.field(description="户籍地区划代码 / household region.")
    residence_region_code: str | None = strawberry.field(description="现住址区划代码 / residence region.")
    poverty_group: SpecialGroup | None = strawberry.field(description="帮扶类型 / poverty or minimum-allowance group.")
    no_id_reason: str | None = strawberry.field(description="无身份证原因 / why the row has no national ID.")
    registry_status: RegistryStatus | None = strawberry.field(
        description="学籍状态（学籍名册；未填为空，按在读）/ the registry status (registry rosters; null when not "
        "given, read as studying)."
    )
    match: RowMatch | None = strawberry.field(description="对应情况；拒收行为空 / the match; null for refused rows.")
    full_national_id: strawberry.Private[str | None]
    full_registry_number: strawberry.Private[str | None]
    child_id: strawberry.Private[int | None]
    candidate_child_id: strawberry.Private[int | None]

    @classmethod
    def resolve_id(cls, root: RosterRow, *, info: Info) -> str:
        return reading.row_key(root.import_number, root.line)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[RosterRow | None]:
        wanted = list(node_ids)
        found = await reading.get_rows(info.context, wanted)
        return [cls.from_row(found[i]) if i in found else None for i in wanted]

    @classmethod
    def from_row(cls, row: RowRecord) -> RosterRow:
        return cls(
            import_number=row.import_id,
            line=row.line,
            status=row.status,
            problems=[RowProblemInfo(**p) for p in row.problems],
            name=row.name,
            gender=row.gender,
            birth_date=row.birth_date,
            school_code=row.school_code,
            grade=row.grade,
            household_region_code=row.household_region_code,
            residence_region_code=row.residence_region_code,
            poverty_group=SpecialGroup(row.poverty_kind) if row.poverty_kind else None,
            no_id_reason=row.no_id_reason,
            registry_status=RegistryStatus(row.registry_status) if row.registry_status else None,
            match=row.match,
            full_national_id=row.national_id,
            full_registry_number=row.registry_number,
            child_id=row.child_id,
            candidate_child_id=row.candidate_child_id,
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="身份证号：无权限时显示前 6 后 4 位，完整读取记入审计 / national ID, masked (first 6, last 4) "
        "unless your role may see the child's personal data; full reads are audited."
    )
    async def national_id(self, info: Info) -> str | None:
        return await self._personal(info, self.full_national_id)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="学籍号（同身份证号规则遮蔽，常为 G 加身份证号）/ registry number, masked like the national ID "
        '(it is often "G" and the ID).'
    )
    async def registry_number(self, info: Info) -> str | None:
        return await self._personal(info, self.full_registry_number)

    async def _personal(self, info: Info, value: str | None) -> str | None:
        """A personal value of the row in full where the caller may read it (audited), else masked."""
        if value is None:
            return None
        key = reading.row_key(self.import_number, self.line)
        if await loader(info, "roster-row-personal-data", reading.personal_data_of_rows).load(key):
            return value
        return mask_national_id(value)

    @strawberry.field(description="对应的儿童（身份证号一致、已确认或应用时登记）/ the child this row stands for.")  # type: ignore[untyped-decorator]
    async def student(self, info: Info) -> Student | None:
        return await _student(info, self.child_id)

    @strawberry.field(description="疑似对应的儿童，待人工确认 / the candidate child a person confirms or rejects.")  # type: ignore[untyped-decorator]
    async def candidate(self, info: Info) -> Student | None:
        return await _student(info, self.candidate_child_id)


async def _student(info: Info, child_id: int | None) -> Student | None:
    if child_id is None:
        return None
    row = await loader(info, "roster-children", child_resolvers.get_children).load(str(child_id))
    return Student.from_row(row) if row else None


async def roster_rows(
    root: RosterImport,
    info: Info,
    status: RowStatus | None = None,
    match: RowMatch | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Connection[RosterRow]:
    page = await reading.list_rows(info.context, str(root.number), status=status, match=match, first=first, after=after)
    return to_connection(page, node=RosterRow.from_row, key=lambda r: str(r.line), after=after)


@strawberry.type(description="名册导入批次 / a roster imported as a batch, with its provenance (POLICY 004 §2).")
class RosterImport(relay.Node):
    number: int = strawberry.field(description="批次号 / the batch's number (the CLI and the upload answer name it).")
    kind: RosterKind = strawberry.field(description="名册类型 / kind of roster.")
    jurisdiction_code: str = strawberry.field(description="导入辖区 / the jurisdiction it was imported for.")
    as_of: date = strawberry.field(description="名册日期 / the roster's as-of date.")
    file_name: str = strawberry.field(description="文件名 / the uploaded file's name.")
    file_sha256: str = strawberry.field(description="文件 SHA-256 / the file's hash (the same file is refused twice).")
    size_bytes: int = strawberry.field(description="文件大小（字节）/ the file's size in bytes.")
    status: ImportStatus = strawberry.field(description="状态 / state.")
    counts: RosterCounts = strawberry.field(description="计数 / row counts.")
    created_by: str = strawberry.field(description="导入人 / imported by.")
    created_at: datetime = strawberry.field(description="导入时间 / imported at.")
    decided_by: str | None = strawberry.field(description="应用或放弃人 / applied or discarded by.")
    decided_at: datetime | None = strawberry.field(description="应用或放弃时间 / applied or discarded at.")
    version: int = strawberry.field(description="版本，应用或放弃时回传 / version, sent back to apply or discard.")

    rows: Connection[RosterRow] = strawberry.field(
        resolver=roster_rows,
        description="名册行（按文件行号），按学生的范围读取并遮蔽 / the batch's rows in file order, those you may read "
        "as you read children (by school, or household or residence), national IDs masked as on Student.",
    )

    @classmethod
    def resolve_id(cls, root: RosterImport, *, info: Info) -> str:
        return str(root.number)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[RosterImport | None]:
        wanted = list(node_ids)
        found = await reading.get_imports(info.context, wanted)
        return [cls.from_row(found[i]) if i in found else None for i in wanted]

    @classmethod
    def from_row(cls, row: ImportRow) -> RosterImport:
        return cls(
            number=row.id or 0,
            kind=RosterKind(row.kind),
            jurisdiction_code=row.jurisdiction_code,
            as_of=row.as_of,
            file_name=row.file_name,
            file_sha256=row.file_sha256,
            size_bytes=row.size_bytes,
            status=row.status,
            counts=RosterCounts(
                read=row.rows_read,
                valid=row.rows_valid,
                refused=row.rows_refused,
                matched=row.rows_matched,
                new=row.rows_new,
            ),
            created_by=row.created_by,
            created_at=row.created_at,
            decided_by=row.decided_by,
            decided_at=row.decided_at,
            version=row.version,
        )


@strawberry.input(description="名册批次筛选 / filter for roster batches.")
class RosterImportFilter:
    region_code: str | None = strawberry.field(default=None, description="区划子树 / batches of this region and below.")
    kind: RosterKind | None = strawberry.field(default=None, description="名册类型 / kind.")
    status: ImportStatus | None = strawberry.field(default=None, description="状态 / state.")


async def roster_imports(
    info: Info, filter: RosterImportFilter | None = None, first: int | None = None, after: str | None = None
) -> Connection[RosterImport]:
    f = filter or RosterImportFilter()
    page = await reading.list_imports(
        info.context, region_code=f.region_code, kind=f.kind, status=f.status, first=first, after=after
    )
    return to_connection(page, node=RosterImport.from_row, key=lambda r: str(r.id), after=after)


@strawberry.input(description="放弃导入批次 / discard a staged roster batch.")
class DiscardRosterImportInput:
    id: relay.GlobalID = strawberry.field(description="批次 ID / the batch's global ID.")
    version: int = strawberry.field(description="读取时的版本 / the version you read.")
    note: str = strawberry.field(
        metadata=stored_in(RosterImportRow, "decision_note"),
        description="放弃原因（最多 500 字）/ why it is discarded (at most 500 characters).",
    )


@strawberry.type(description="导入批次操作结果 / result of a decision on a roster batch.")
class RosterImportPayload:
    roster_import: RosterImport | None = strawberry.field(default=None, description="批次 / the batch.")
    errors: list[RosterError] = strawberry.field(default_factory=list, description="错误 / typed errors.")


@strawberry.input(description="应用导入批次 / apply a staged roster batch.")
class ApplyRosterImportInput:
    id: relay.GlobalID = strawberry.field(description="批次 ID / the batch's global ID.")
    version: int = strawberry.field(description="读取时的版本 / the version you read.")
    note: str | None = strawberry.field(
        metadata=stored_in(RosterImportRow, "decision_note"),
        default=None,
        description="备注（最多 500 字）/ a note (at most 500 characters).",
    )


async def apply_roster_import(info: Info, input: ApplyRosterImportInput) -> RosterImportPayload:
    return await run_mutation(
        info,
        RosterImportPayload,
        lambda: decisions.apply_import(
            info.context, import_id=node_id_of(input.id, "RosterImport"), version=input.version, note=input.note
        ),
        lambda row: RosterImportPayload(roster_import=RosterImport.from_row(row)),
    )


@strawberry.enum(description="对疑似对应的决定 / a decision on a candidate match.")
class MatchDecisionKind(enum.Enum):
    CONFIRM = strawberry.enum_value("CONFIRM", description="是同一儿童 / the same child")
    REJECT = strawberry.enum_value(
        "REJECT", description="不是同一儿童（应用时登记为新儿童）/ someone else: a new child"
    )


@strawberry.input(description="一行的决定 / the decision on one row.")
class RosterMatchDecision:
    row_id: relay.GlobalID = strawberry.field(description="名册行 ID / the row's global ID.")
    decision: MatchDecisionKind = strawberry.field(description="确认或否定 / confirm or reject.")


@strawberry.input(
    description="确认或否定疑似对应（同一批次，最多 500 行）/ confirm or reject candidate matches "
    "of one batch (at most 500 rows), all or none."
)
class ResolveRosterMatchInput:
    decisions: list[RosterMatchDecision] = strawberry.field(description="各行的决定 / the decisions.")


async def resolve_roster_match(info: Info, input: ResolveRosterMatchInput) -> RosterImportPayload:
    chosen = [
        decisions.MatchDecision(
            row_id=node_id_of(d.row_id, "RosterRow"), confirm=d.decision is MatchDecisionKind.CONFIRM
        )
        for d in input.decisions
    ]
    return await run_mutation(
        info,
        RosterImportPayload,
        lambda: decisions.resolve_matches(info.context, decisions=chosen),
        lambda row: RosterImportPayload(roster_import=RosterImport.from_row(row)),
    )


async def discard_roster_import(info: Info, input: DiscardRosterImportInput) -> RosterImportPayload:
    return await run_mutation(
        info,
        RosterImportPayload,
        lambda: decisions.discard_import(
            info.context, import_id=node_id_of(input.id, "RosterImport"), version=input.version, note=input.note
        ),
        lambda row: RosterImportPayload(roster_import=RosterImport.from_row(row)),
    )
