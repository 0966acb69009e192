"""Key transitions (关键学段, POLICY 003 二(二)): 小升初 and 中考 registration.

The domain's root fields: `schema/root.py` merges every domain's `Query` and `Mutation`."""

from __future__ import annotations

import strawberry

from . import types as transition_types


@strawberry.type
class Query:
    primary_leavers_not_enrolled: transition_types.PrimaryLeaverConnection | None = strawberry.field(
        resolver=transition_types.primary_leavers_not_enrolled,
        description="小升初未入学名单（县、学校；TRANSITION:READ，按最后就读小学或户籍/居住地）/ pupils who finished "
        "primary and hold no junior-school place, listed from the next autumn term start plus primaryLeaverDays; "
        "category S is proposed for each. The county's list (a city reads primaryLeaverCounts).",
    )
    primary_leaver_counts: list[transition_types.PrimaryLeaverCount] | None = strawberry.field(
        resolver=transition_types.primary_leaver_counts,
        description="小升初名单按区划汇总（AGGREGATE:READ，无个人信息）/ the 小升初 list counted by region.",
    )
    exam_registration_gaps: transition_types.ExamRegistrationGapConnection | None = strawberry.field(
        resolver=transition_types.exam_registration_gaps,
        description="未报名中考的初三学生（县、学校；TRANSITION:READ）/ grade-9 pupils of the school year missing "
        "from the county's applied EXAM_REGISTRATION rosters, with their explanations. The county's list (a city "
        "reads examRegistrationGapCounts).",
    )
    exam_registration_gap_counts: list[transition_types.ExamRegistrationGapCount] | None = strawberry.field(
        resolver=transition_types.exam_registration_gap_counts,
        description="中考报名按区划汇总（AGGREGATE:READ，无个人信息）/ grade-9 pupils, gaps and explained gaps by "
        "region.",
    )


@strawberry.type
class Mutation:
    explain_exam_registration_gap: transition_types.ExplainExamRegistrationGapPayload = strawberry.mutation(
        resolver=transition_types.explain_exam_registration_gap,
        description="说明初三学生未报名中考的原因（学校或县教育局；TRANSITION:EXPLAIN）/ record or revise why a "
        "grade-9 pupil did not register for 中考: version 0 first, then the version read (stale or a second "
        "first: CONFLICT); audited. The county's report of the graduation term waits for every one.",
    )
