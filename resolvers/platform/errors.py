"""The domain's refusal codes and their rules in Chinese and English: the one table that the GraphQL
enum, its descriptions and the README's code list read (resolvers raise these codes by name)."""

from __future__ import annotations

from ..errors import NOT_FOUND, REQUIRED, UNKNOWN_REGION, ErrorCode


class PlatformErrorCode(ErrorCode):
    """录入平台操作的错误代码 / error codes of platform-upload mutations"""

    REQUIRED = REQUIRED
    NOT_FOUND = NOT_FOUND
    UNKNOWN_REGION = UNKNOWN_REGION
    NOT_A_COUNTY = ("须为县级区划", "a county's code is needed")
    NOTHING_OWED = ("本县没有待录入平台的变动", "the county owes the platform nothing now")
    BAD_STATUS = ("批次状态不允许此操作", "the batch's status does not allow this")
    TOO_LONG = ("文字过长", "the text is too long")
    CONFLICT = ("批次已被他人修改，请刷新后重试", "the batch changed since you read it; reload and retry")
