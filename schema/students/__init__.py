"""Students: every school-age child the system knows, enrolled or not, and changes to their records.

The domain's root fields: `schema/root.py` merges every domain's `Query` and `Mutation`."""

from __future__ import annotations

import strawberry

from ..connection import SCOPED_ORDER, Connection
from . import mutations as student_mutations
from . import types as student_types


@strawberry.type
class Query:
    students: Connection[student_types.Student] = strawberry.field(
        resolver=student_types.students,
        description="学生（含未在校的适龄儿童）/ every child in my scope, enrolled or not: the education line by "
        "school, the government line by household or residence." + SCOPED_ORDER,
    )


@strawberry.type
class Mutation:
    reveal_national_id: student_mutations.RevealNationalIdPayload = strawberry.mutation(
        resolver=student_mutations.reveal_national_id,
        description="查看完整身份证号（记入审计）/ a student's full national ID, with the reason audited.",
    )
    create_student: student_mutations.StudentPayload = strawberry.mutation(
        resolver=student_mutations.create_student, description="登记学生 / register a child, enrolled or out of school."
    )
    update_student: student_mutations.StudentPayload = strawberry.mutation(
        resolver=student_mutations.update_student, description="更正学生信息 / correct a child's record (versioned)."
    )
    record_enrolment_change: student_mutations.StudentPayload = strawberry.mutation(
        resolver=student_mutations.record_enrolment_change, description="学籍变动 / enrol, transfer, graduate, leave."
    )
