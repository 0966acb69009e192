"""The domain's refusal codes and their rules in Chinese and English: the one table that the GraphQL
enum, its descriptions and the README's code list read (resolvers raise these codes by name)."""

from __future__ import annotations

from ..errors import NOT_FOUND, REQUIRED, UNKNOWN_REGION, UNKNOWN_SCHOOL, ErrorCode


class LedgerErrorCode(ErrorCode):
    """台账操作的错误代码 / error codes of ledger mutations"""

    REQUIRED = REQUIRED
    NOT_FOUND = NOT_FOUND
    CONFLICT = ("记录已被他人修改", "the record changed since you read it")
    OUT_OF_RANGE = ("超出允许范围", "out of the allowed range")
    FUTURE_DATE = ("日期晚于今天", "the date is in the future")
    NOT_IN_CLASS = ("学生不在此学校或班级", "the student is not in this school or class")
    RULE_OWNED = ("由考勤规则自动处理", "the attendance rules do this")
    ALREADY_ON_LEDGER = ("已有未销号的记录", "already has an entry not closed out")
    CLOSED = ("已销号", "closed out")
    BAD_STATUS = ("当前状态不允许此操作", "not allowed in the entry's status")
    CATEGORY_REQUIRED = ("辍学记录须先定类别", "a dropout entry needs its category")
    DEFERRAL_NOT_APPROVED = ("无县级批准的延缓", "no deferral approved at county level")
    PLACEMENT_REQUIRED = ("返校须先安置", "a returned child must be placed first")
    NOT_RETURNED = ("尚未返校", "the child has not returned")
    NOT_DISABLED = ("仅适用于残疾儿童", "for disabled children only")
    STILL_SCHOOL_AGE = ("仍在义务教育年龄内", "still of compulsory-school age")
    METHOD_NEEDS_STAGE = ("方式与四步法阶段不符", "the method belongs to a later step")
    STAGE_SKIPPED = ("四步法不能跳步", "the four steps go in order")
    JOINT_NEEDS_DEPARTMENTS = ("联合劝返须两个以上部门", "two or more departments")
    TOO_FEW_JOINT_VISITS = ("联合劝返不足三次", "fewer than three joint visits")
    DOCUMENT_REQUIRED = ("须附文书", "the document is required")
    ALREADY_REQUESTED = ("已有待审批申请", "a request awaits approval")
    ALREADY_DECIDED = ("已审批", "already decided")
    OWN_REQUEST = ("不能审批自己的申请", "nobody approves their own request")
    HANDOVER_PENDING = ("移交待接收", "a handover awaits acknowledgement")
    NOT_A_COUNTY = ("须移交给县级及以上", "hand over to a county or above")
    UNKNOWN_REGION = UNKNOWN_REGION
    UNKNOWN_SCHOOL = UNKNOWN_SCHOOL
    SAME_REGION = ("已由该地区负责", "that region is already responsible")
    ALREADY_ACKNOWLEDGED = ("已接收", "already acknowledged")
    NOT_ISSUER = (
        "责令限期改正由乡镇政府或县教育局作出",
        "only the township government or the county education bureau orders correction",
    )
    NOT_OVERDUE = ("责令改正尚未逾期", "the order's time limit has not passed without return")
    NOT_APPLICABLE = ("该字段不适用于此方式", "the field belongs to another method")
    CATEGORY_MISMATCH = ("类别与学生记录不符", "the category contradicts the child's record")
    # The school calendar and attendance on school days only (issue 14 §1).
    NOT_A_SCHOOL_DAY = ("不是上课日", "not a school day")
    PROVINCE_ONLY = ("学期和调课上课日由省级设定", "terms and make-up school days are set by the province")
    NOT_PROVINCE_OR_COUNTY = ("校历由省或县设定", "a calendar belongs to a province or a county")
    NOT_IN_YEAR = ("日期不在该年度内", "the date is not in the calendar's year")
    TERMS_OVERLAP = ("学期重叠或首尾颠倒", "terms overlap, or a term ends before it starts")
