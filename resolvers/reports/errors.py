"""The domain's refusal codes and their rules in Chinese and English: the one table that the GraphQL
enum, its descriptions and the README's code list read (resolvers raise these codes by name)."""

from __future__ import annotations

from ..errors import NOT_FOUND, REQUIRED, UNKNOWN_SCHOOL, ErrorCode


class ReportErrorCode(ErrorCode):
    """报告操作的错误代码 / error codes of report mutations"""

    REQUIRED = REQUIRED
    NOT_FOUND = NOT_FOUND
    CONFLICT = ("报告已被他人修改", "the report changed since you read it")
    BAD_PERIOD = ("报告期格式不对", "not a period of this cadence")
    PERIOD_NOT_OVER = ("报告期尚未结束", "the period is not over yet")
    NOT_A_COUNTY = ("须为县级区划", "a county's code is needed")
    NOT_A_CITY = ("须为地市级区划", "a city's code is needed")
    NOT_A_PROVINCE = ("须为省级区划", "a province's code is needed")
    TERM_SURVEY_OFF = ("本市未启用学期摸排", "the city keeps no term survey")
    NOT_ASSESSED = ("该报告不评价下级", "this report does not assess units below")
    NOT_A_SUBJECT = ("不是直属下级单位", "not a unit directly below")
    DUPLICATE_UNIT = ("同一单位重复", "the same unit twice")
    TOO_LONG = ("文字过长", "the text is too long")
    LISTS_NOT_VISIBLE = ("无台账查看权，不能逐人复核", "no per-child review, no ledgers")
    NOT_IN_UNIT = ("该学生不属于本报告单位", "the student is not the reporting unit's")
    ASSESSMENTS_MISSING = ("有下级单位未评价", "a unit below is not assessed yet")
    LOCKED = ("已报送或已通过，不能修改", "submitted or approved: it cannot change")
    NOT_DRAFT = ("退回的报告须先生成新版本", "a returned report needs a new version first")
    NOT_SUBMITTED = ("尚未报送", "not submitted")
    NOT_REVIEWER = ("只能由上一级复核", "only the level directly above re-checks it")
    OWN_SUBMISSION = ("不能复核或会签自己的报告", "not one's own submission")
    REASONS_REQUIRED = ("退回须写明理由", "a return needs its reasons")
    COMMENT_REQUIRED = ("存疑须说明", "a disputed child needs a comment")
    NOT_LISTED = ("不在名单中", "the student is not listed")
    ALREADY_LISTED = ("已在名单中", "the student is already listed")
    DUPLICATE_STUDENT = ("同一学生重复", "the same student twice")
    VERDICTS_MISSING = ("名单中有学生未作结论", "a listed child has no verdict")
    UNRESOLVED = ("有存疑或遗漏，应退回", "disputes or findings: return it")
    COSIGN_REQUIRED = ("须县级政府会签", "the county government must countersign")
    ALREADY_COSIGNED = ("已会签", "already countersigned")
    NOT_COSIGNER = ("由本县政府会签本县报告", "the county's own government countersigns")
    DEADLINE_PASSED = ("已过截止日，本省不接受逾期", "late, and the province refuses it")
    STATISTICS_MISSING = ("月末统计尚未生成", "the month-end statistics are not taken yet")
    SOURCES_CHANGED = ("汇总来源已变更，须重新生成", "what it summed changed: generate it again")
    EXAM_GAPS_UNEXPLAINED = (
        "尚有未报名中考且未说明原因的初三学生（003 二(二)）",
        "grade-9 pupils missing from the 中考 registrations have no explanation (POLICY 003 二(二))",
    )
    UNEXPLAINED = ("未报到名单中有学生未核实原因", "a listed pupil has no verified reason")
    LIST_CHANGED = ("未报到名单已变化，须重新生成", "the unreported list changed: generate it again")


class TermVisitErrorCode(ErrorCode):
    """开学调研操作的错误代码 / error codes of term-visit mutations"""

    NOT_FOUND = NOT_FOUND
    UNKNOWN_SCHOOL = UNKNOWN_SCHOOL
    CONFLICT = ("已被他人修改或已登记", "changed since you read it, or already recorded")
    BAD_PERIOD = ("学期格式不对（YYYY-SPRING / YYYY-AUTUMN）", "not a term code")
    FUTURE_DATE = ("日期不能晚于今天", "the date is in the future")
    VISIT_OUT_OF_TERM = ("调研日期不在本学期内", "the visit falls outside the term")
    OUT_OF_RANGE = ("人数不能为负", "a count is negative")
    TOO_LONG = ("文字过长", "the text is too long")
