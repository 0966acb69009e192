"""Key transitions (POLICY 003 二(二)): the 小升初 list, 中考 registration gaps, their counts and explanations."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Annotated

import strawberry
from strawberry import relay

from models.transition import GAP_REASON_LABELS, PROPOSED_CATEGORY, ExamRegistrationExplanation, GapReason
from resolvers.paging import encode_cursor
from resolvers.transitions import explanations
from resolvers.transitions import lists as transition_lists

from ..connection import page_info
from ..context import Info
from ..enums import DropoutCategory, described
from ..errors import TransitionError
from ..inputs import ints, stored_in
from ..ledgers.counts import AggregateLevel
from ..ledgers.entries import LedgerEntry
from ..mutations import run_mutation
from ..nodes import node_id_of
from ..students.types import Student

described(
    GapReason, GAP_REASON_LABELS, "未报名中考的原因（查明原因、做出说明）/ why a graduate did not register for 中考"
)

YEARS = ints(2000, 2100)


@strawberry.type(description="小升初未入学名单的一行 / a pupil who finished primary and holds no junior-school place.")
class PrimaryLeaver:
    student: Student = strawberry.field(description="学生 / the child.")
    finished_primary_on: date = strawberry.field(description="小学毕业日期 / the day primary grade 6 was finished.")
    last_school_code: str = strawberry.field(description="毕业小学标识码 / the primary school finished.")
    last_school_name: str = strawberry.field(description="毕业小学 / its name.")
    proposed_category: DropoutCategory = strawberry.field(
        description="列入台账时建议的辍学类别：S 小升初辍学 / the category proposed when the child is put on a "
        "ledger: S (dropout at primary→junior transition)."
    )
    entry: LedgerEntry | None = strawberry.field(
        description="已在台账上的记录（未销号），没有为空 / the child's ledger entry not yet closed, if any."
    )


@strawberry.type(description="小升初名单的一条边 / an edge of the 小升初 list.")
class PrimaryLeaverEdge:
    cursor: str = strawberry.field(description="游标 / cursor.")
    node: PrimaryLeaver = strawberry.field(description="学生 / the pupil.")


@strawberry.type(description="小升初未入学名单 / pupils who finished primary and are enrolled in no junior school.")
class PrimaryLeaverConnection:
    edges: list[PrimaryLeaverEdge] = strawberry.field(description="本页 / this page.")
    page_info: relay.PageInfo = strawberry.field(description="分页 / paging.")
    total_count: int = strawberry.field(description="名单人数 / how many are listed.")
    school_year: int = strawberry.field(description="完成六年级的学年（起始年）/ the school year primary was finished.")
    listed_from: date = strawberry.field(
        description="列出日：次学年秋季开学日加省级设置天数（默认 30 天），此前名单为空 / the listing day: the next "
        "autumn term start plus the province's primaryLeaverDays (default 30); empty before it."
    )


@strawberry.input(description="小升初名单筛选 / filter of the 小升初 list.")
class PrimaryLeaverFilter:
    region_code: str | None = strawberry.field(default=None, description="区划子树 / region subtree.")
    school_year: int | None = strawberry.field(
        default=None,
        metadata=YEARS,
        description="完成六年级的学年（起始年，默认上一学年）/ the school year primary was finished (by its first "
        "year; default the previous school year).",
    )


@strawberry.type(description="未报名中考的说明 / the explanation of a missing 中考 registration.")
class ExamGapExplanation(relay.Node):
    key: strawberry.Private[str]
    reason: GapReason = strawberry.field(description="原因 / reason.")
    note: str = strawberry.field(description="说明 / note.")
    explained_by: str = strawberry.field(description="说明人 / who explained it.")
    explained_at: datetime = strawberry.field(description="说明时间 / when.")
    version: int = strawberry.field(description="版本（修改时提交）/ version to send back to revise it.")

    @classmethod
    def resolve_id(cls, root: ExamGapExplanation, *, info: Info) -> str:
        return root.key

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[ExamGapExplanation | None]:
        wanted = list(node_ids)
        found = await explanations.get_explanations(info.context, wanted)
        return [_explanation(found.get(key)) for key in wanted]


@strawberry.type(description="未报名中考的初三学生 / a grade-9 pupil missing from the county's 中考 registrations.")
class ExamRegistrationGap:
    student: Student = strawberry.field(description="学生 / the pupil.")
    school_code: str = strawberry.field(description="初三就读学校标识码 / the grade-9 school.")
    school_name: str = strawberry.field(description="学校 / its name.")
    explanation: ExamGapExplanation | None = strawberry.field(
        description="说明，未说明为空 / the explanation, null while none is recorded."
    )
    entry: LedgerEntry | None = strawberry.field(description="台账记录（未销号）/ the ledger entry not closed, if any.")


@strawberry.type(description="未报名中考名单的一条边 / an edge of the 中考 gap list.")
class ExamRegistrationGapEdge:
    cursor: str = strawberry.field(description="游标 / cursor.")
    node: ExamRegistrationGap = strawberry.field(description="学生 / the pupil.")


@strawberry.type(description="未报名中考的初三学生名单 / grade-9 pupils missing from the 中考 registrations.")
class ExamRegistrationGapConnection:
    edges: list[ExamRegistrationGapEdge] = strawberry.field(description="本页 / this page.")
    page_info: relay.PageInfo = strawberry.field(description="分页 / paging.")
    total_count: int = strawberry.field(description="名单人数 / how many are listed.")
    school_year: int = strawberry.field(description="学年（起始年）/ the school year, by its first year.")


@strawberry.input(description="未报名中考名单筛选 / filter of the 中考 gap list.")
class ExamRegistrationGapFilter:
    region_code: str | None = strawberry.field(default=None, description="区划子树 / region subtree.")
    school_year: int | None = strawberry.field(
        default=None, metadata=YEARS, description="学年（起始年，默认当前）/ school year (default the current)."
    )
    explained: bool | None = strawberry.field(default=None, description="是否已说明 / explained or not (null: both).")


@strawberry.type(description="小升初名单按区划汇总 / the 小升初 list counted by region (no personal data).")
class PrimaryLeaverCount:
    region_code: str = strawberry.field(description="区划代码（毕业小学所在地）/ region of the primary school.")
    listed: int = strawberry.field(description="名单人数 / pupils listed.")
    on_ledger: int = strawberry.field(description="其中已在台账上 / of them on a ledger.")


@strawberry.type(description="中考报名按区划汇总 / 中考 registration counted by region (no personal data).")
class ExamRegistrationGapCount:
    region_code: str = strawberry.field(description="区划代码（初三学校所在地）/ region of the grade-9 school.")
    pupils: int = strawberry.field(description="初三学生数 / grade-9 pupils of the school year.")
    gaps: int = strawberry.field(description="未报名人数 / not registered.")
    explained: int = strawberry.field(description="其中已说明 / of them explained.")
    unexplained: int = strawberry.field(description="其中未说明 / of them not explained yet.")


async def primary_leavers_not_enrolled(
    info: Info, filter: PrimaryLeaverFilter | None = None, first: int | None = None, after: str | None = None
) -> PrimaryLeaverConnection | None:
    f = filter or PrimaryLeaverFilter()
    found = await transition_lists.list_primary_leavers(
        info.context, school_year=f.school_year, region_code=f.region_code, first=first, after=after
    )
    edges = [
        PrimaryLeaverEdge(
            cursor=encode_cursor(str(row.child.id)),
            node=PrimaryLeaver(
                student=Student.from_row(row.child),
                finished_primary_on=row.finished_on,
                last_school_code=row.school.code,
                last_school_name=row.school.name,
                proposed_category=PROPOSED_CATEGORY,
                entry=LedgerEntry.from_row(row.entry) if row.entry else None,
            ),
        )
        for row in found.page.rows
    ]
    return PrimaryLeaverConnection(
        edges=edges,
        page_info=page_info(found.page, edges, after),
        total_count=found.page.total,
        school_year=found.school_year,
        listed_from=found.listed_from,
    )


async def exam_registration_gaps(
    info: Info, filter: ExamRegistrationGapFilter | None = None, first: int | None = None, after: str | None = None
) -> ExamRegistrationGapConnection | None:
    f = filter or ExamRegistrationGapFilter()
    found = await transition_lists.list_exam_gaps(
        info.context,
        school_year=f.school_year,
        region_code=f.region_code,
        explained=f.explained,
        first=first,
        after=after,
    )
    edges = [
        ExamRegistrationGapEdge(
            cursor=encode_cursor(str(row.child.id)),
            node=ExamRegistrationGap(
                student=Student.from_row(row.child),
                school_code=row.school.code,
                school_name=row.school.name,
                explanation=_explanation(row.explanation),
                entry=LedgerEntry.from_row(row.entry) if row.entry else None,
            ),
        )
        for row in found.page.rows
    ]
    return ExamRegistrationGapConnection(
        edges=edges,
        page_info=page_info(found.page, edges, after),
        total_count=found.page.total,
        school_year=found.school_year,
    )


def _explanation(row: ExamRegistrationExplanation | None) -> ExamGapExplanation | None:
    if row is None:
        return None
    return ExamGapExplanation(
        key=explanations.explanation_key(row),
        reason=row.reason,
        note=row.note,
        explained_by=row.explained_by,
        explained_at=row.explained_at,
        version=row.version,
    )


Year = Annotated[int | None, strawberry.argument(description="学年（起始年）/ school year by its first year.")]
By = Annotated[AggregateLevel, strawberry.argument(description="汇总到哪一级 / the level rows are summed to.")]
Region = Annotated[str | None, strawberry.argument(description="区划子树 / region subtree.")]


async def primary_leaver_counts(
    info: Info, region_code: Region = None, school_year: Year = None, by: By = AggregateLevel.COUNTY
) -> list[PrimaryLeaverCount] | None:
    rows, _, _ = await transition_lists.primary_leaver_counts(
        info.context, school_year=school_year, region_code=region_code, by=by.name
    )
    return [
        PrimaryLeaverCount(region_code=r.region_path.rsplit("/", 1)[-1], listed=r.listed, on_ledger=r.on_ledger)
        for r in rows
    ]


async def exam_registration_gap_counts(
    info: Info, region_code: Region = None, school_year: Year = None, by: By = AggregateLevel.COUNTY
) -> list[ExamRegistrationGapCount] | None:
    rows, _ = await transition_lists.exam_gap_counts(
        info.context, school_year=school_year, region_code=region_code, by=by.name
    )
    return [
        ExamRegistrationGapCount(
            region_code=r.region_path.rsplit("/", 1)[-1],
            pupils=r.pupils,
            gaps=r.gaps,
            explained=r.explained,
            unexplained=r.gaps - r.explained,
        )
        for r in rows
    ]


@strawberry.input(description="说明未报名中考的原因 / explain a grade-9 pupil's missing 中考 registration.")
class ExplainExamRegistrationGapInput:
    pupil_id: relay.GlobalID = strawberry.field(description="学生 ID / the pupil (a Student's ID).")
    school_year: int = strawberry.field(
        metadata=YEARS, description="学年（起始年）/ the school year, by its first year."
    )
    reason: GapReason = strawberry.field(description="原因 / the reason.")
    note: str = strawberry.field(
        default="",
        metadata=stored_in(ExamRegistrationExplanation, "note"),
        description="说明（原因为 OTHER 时必填）/ what was found (required for OTHER).",
    )
    version: int = strawberry.field(
        description="首次说明为 0，修改时为读取的版本 / 0 for the first explanation, else the version read."
    )


@strawberry.type(description="说明未报名中考的结果 / result of explaining a missing 中考 registration.")
class ExplainExamRegistrationGapPayload:
    explanation: ExamGapExplanation | None = strawberry.field(default=None, description="说明 / as recorded.")
    errors: list[TransitionError] = strawberry.field(default_factory=list, description="错误 / typed errors.")


async def explain_exam_registration_gap(
    info: Info, input: ExplainExamRegistrationGapInput
) -> ExplainExamRegistrationGapPayload:
    given = explanations.Explanation(
        pupil_id=node_id_of(input.pupil_id, "Student"),
        school_year=input.school_year,
        reason=input.reason,
        note=input.note,
        version=input.version,
    )
    return await run_mutation(
        info,
        ExplainExamRegistrationGapPayload,
        lambda: explanations.explain_gap(info.context, given),
        lambda row: ExplainExamRegistrationGapPayload(explanation=_explanation(row)),
    )
