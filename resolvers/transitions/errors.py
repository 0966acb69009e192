"""The domain's refusal codes and their rules in Chinese and English: the one table that the GraphQL
enum, its descriptions and the README's code list read (resolvers raise these codes by name)."""

from __future__ import annotations

from ..errors import NOT_FOUND, REQUIRED, ErrorCode


class TransitionErrorCode(ErrorCode):
    """关键学段操作的错误代码 / error codes of key-transition mutations (中考 registration gaps)"""

    REQUIRED = REQUIRED
    NOT_FOUND = NOT_FOUND
    OUT_OF_RANGE = ("学年须在 2000–2100 之间", "the school year lies in 2000–2100")
    NOT_A_GAP = (
        "该学生不是本学年未报名中考的初三学生",
        "the pupil is not a grade-9 pupil of that school year missing from the 中考 registrations",
    )
    NOTE_REQUIRED = ("原因为“其他”时须写明情况", "the reason OTHER needs a note saying what")
    LEDGER_ENTRY_REQUIRED = (
        "原因为辍学时，该学生须已在疑似辍学或辍学台账上",
        "the reason DROPOUT needs the pupil on the suspected or dropout ledger",
    )
    TOO_LONG = ("说明不超过 500 字", "the note has at most 500 characters")
    INVALID_TEXT = ("含有不允许的字符", "the text holds a NUL or control character")
    CONFLICT = (
        "说明已被他人记录或修改，请刷新后重试",
        "an explanation was recorded or changed since you read it; reload and retry",
    )
