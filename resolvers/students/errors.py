"""The domain's refusal codes and their rules in Chinese and English: the one table that the GraphQL
enum, its descriptions and the README's code list read (resolvers raise these codes by name)."""

from __future__ import annotations

from ..errors import NOT_FOUND, REQUIRED, UNKNOWN_SCHOOL, ErrorCode


class StudentErrorCode(ErrorCode):
    """学生操作的错误代码 / error codes of student mutations"""

    REQUIRED = REQUIRED
    NOT_FOUND = NOT_FOUND
    UNKNOWN_SCHOOL = UNKNOWN_SCHOOL
    NO_NATIONAL_ID = ("无身份证号记录", "no national ID on record")
    CONFLICT = ("记录已被他人修改", "the record changed since you read it")
    DUPLICATE_NATIONAL_ID = ("身份证号已登记", "the national ID is already registered")
    INVALID_CHECK_DIGIT = ("身份证号校验位错误", "bad check digit")
    INVALID_NATIONAL_ID = ("身份证号无效", "not a valid ID")
    BIRTH_DATE_MISMATCH = ("出生日期与身份证号不符", "birth date differs from the ID")
    NOT_A_PLACE = ("须为乡镇或村级区划", "a township or village code")
    SCHOOL_REQUIRED = ("有年级须有学校", "a grade needs a school")
    OUT_OF_RANGE = ("超出允许范围", "out of range")
    STAGE_NOT_TAUGHT = ("学校无此学段", "stage not taught")
    DISABILITY_WITHOUT_GROUP = ("残疾信息须标记残疾儿童", "disability details need DISABLED")
    INVALID_PHONE = ("电话号码无效", "not a phone number")
    FUTURE_DATE = ("日期晚于今天", "the date is in the future")
    BEFORE_BIRTH = ("日期早于出生", "before the child's birth")
    BEFORE_LAST_CHANGE = ("日期早于上一次学籍变动", "before the last enrolment change")
    NOT_ENROLLED_HERE = ("不在此校就读", "not enrolled here")
    ALREADY_ENROLLED = ("已在他校就读，须先转出", "enrolled elsewhere: transfer out first")
    TOO_LONG = ("文字过长", "the text is too long")
    INVALID_TEXT = ("含有不允许的字符", "contains a character not allowed (NUL)")
    REASON_NOT_NEEDED = ("户籍地或身份证号已有，无需原因", "a reason only when the household or ID is missing")
