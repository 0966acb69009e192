"""The domain's refusal codes and their rules in Chinese and English: the one table that the GraphQL
enum, its descriptions and the README's code list read (resolvers raise these codes by name)."""

from __future__ import annotations

from ..errors import NOT_FOUND, REQUIRED, UNKNOWN_SCHOOL, ErrorCode


class TermStartErrorCode(ErrorCode):
    """开学报到（未报到名单）操作的错误代码 / error codes of term-start reporting mutations"""

    REQUIRED = REQUIRED
    NOT_FOUND = NOT_FOUND
    UNKNOWN_SCHOOL = UNKNOWN_SCHOOL
    CONFLICT = ("已被他人修改或已核实", "changed since you read it, or already explained")
    BAD_TERM = ("学期格式不对（YYYY-SPRING / YYYY-AUTUMN）", "not a term code")
    NOT_LISTED = ("该学生不在本学期未报到名单中", "the pupil is not on the term's unreported list")
    WINDOW_OPEN = ("开学报到期（15天）尚未结束", "the term-start window is not over yet")
    RECEIVING_SCHOOL_REQUIRED = ("转学须写明转入学校", "a transfer names the receiving school")
    SAME_SCHOOL = ("转入学校不能是本校", "the receiving school is the pupil's own school")
    NOT_AT_RECEIVING_SCHOOL = ("转入学校尚无该生学籍", "the receiving school does not show the pupil")
    NOT_APPLICABLE = ("该原因不填此项", "this reason takes no such value")
    METHOD_NOT_ALLOWED = ("开学劝学为第一步的劝返方式", "a term-start round is a first-step method")
    FUTURE_DATE = ("日期不能晚于今天", "the date is in the future")
    OUT_OF_RANGE = ("日期须在开学之后、本学期之内", "the date lies between the term start and the term end")
    TOO_LONG = ("文字过长", "the text is too long")
