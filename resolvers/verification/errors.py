"""The domain's refusal codes and their rules in Chinese and English: the one table that the GraphQL
enum, its descriptions and the README's code list read (resolvers raise these codes by name)."""

from __future__ import annotations

from ..errors import NOT_FOUND, REQUIRED, ErrorCode
from ..ledgers.errors import LedgerErrorCode


class VerificationErrorCode(ErrorCode):
    """下发核实的错误代码 / error codes of the verification of pushed-down lists"""

    REQUIRED = REQUIRED
    NOT_FOUND = NOT_FOUND
    CONFLICT = ("任务已被他人修改", "the task changed since you read it")
    NOT_OPEN = ("任务已核实、已转交或无法分派", "the task is already verified, re-routed or unroutable")
    REASON_REQUIRED = ("非辍学须选择原因", "NOT_DROPOUT needs its reason")
    NOTE_REQUIRED = ("须填写核实说明", "a note is required")
    SCHOOL_REQUIRED = ("在校须写明学校", "AT_SCHOOL names the school")
    UNKNOWN_SCHOOL = ("没有这所学校", "no such school")
    NOT_APPLICABLE = ("该字段不适用于此核实结果", "the field belongs to another outcome")
    COUNTY_REQUIRED = ("非本县须写明接收县", "NOT_OURS names the receiving county")
    NOT_A_COUNTY = ("接收方须为县级区划", "the receiving place must be a county")
    SAME_COUNTY = ("接收县不能是本县", "the receiving county cannot be your own")
    CHILD_ELSEWHERE = (
        "该身份证号的儿童不在本县台账范围内，请核实后转交所在县",
        "the child with this national ID is outside your county's ledgers: re-route the task to that county",
    )
    # The ledger's own rules, which a CONFIRMED answer meets when it opens the entry (resolvers/ledgers).
    ALREADY_ON_LEDGER = LedgerErrorCode.ALREADY_ON_LEDGER.zh, LedgerErrorCode.ALREADY_ON_LEDGER.en
    BAD_STATUS = LedgerErrorCode.BAD_STATUS.zh, LedgerErrorCode.BAD_STATUS.en
    CATEGORY_MISMATCH = LedgerErrorCode.CATEGORY_MISMATCH.zh, LedgerErrorCode.CATEGORY_MISMATCH.en
    DEFERRAL_NOT_APPROVED = LedgerErrorCode.DEFERRAL_NOT_APPROVED.zh, LedgerErrorCode.DEFERRAL_NOT_APPROVED.en
    FUTURE_DATE = LedgerErrorCode.FUTURE_DATE.zh, LedgerErrorCode.FUTURE_DATE.en
    RULE_OWNED = LedgerErrorCode.RULE_OWNED.zh, LedgerErrorCode.RULE_OWNED.en
