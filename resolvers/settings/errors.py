"""The domain's refusal codes and their rules in Chinese and English: the one table that the GraphQL
enum, its descriptions and the README's code list read (resolvers raise these codes by name)."""

from __future__ import annotations

from ..errors import NOT_FOUND, ErrorCode


class SettingErrorCode(ErrorCode):
    """设置操作的错误代码 / error codes of settings mutations"""

    NOT_FOUND = NOT_FOUND
    NOT_A_PROVINCE = ("须为省级行政区划代码", "the code is not a province's")
    NOT_A_CITY = ("须为地市级行政区划代码", "the code is not a city's")
    OUT_OF_SCOPE = (
        "只能由本级设置：省级设置由本省教育厅或权限管理员，市级设置由本市教育局",
        "only the level itself sets these: the province's department or permission admin, the city's bureau",
    )
    NOTHING_TO_CHANGE = ("未给出要修改的设置", "no setting given to change")
    INVALID_CUTOFF = (
        "截止日须为该月每年都有的一天（不含 2 月 29 日）",
        "the cut-off must be a day of its month every year",
    )
    CONFLICT = ("设置已被他人修改，请刷新后重试", "the settings changed since you read them; reload and retry")
