"""The domain's refusal codes and their rules in Chinese and English: the one table that the GraphQL
enum, its descriptions and the README's code list read (resolvers raise these codes by name)."""

from __future__ import annotations

from ..errors import NOT_FOUND, REQUIRED, UNKNOWN_REGION, UNKNOWN_SCHOOL, ErrorCode


class ComparisonErrorCode(ErrorCode):
    """三比对的错误代码 / error codes of the comparisons"""

    REQUIRED = REQUIRED
    NOT_FOUND = NOT_FOUND
    UNKNOWN_REGION = UNKNOWN_REGION
    UNKNOWN_SCHOOL = UNKNOWN_SCHOOL
    NOT_A_COUNTY = (
        "比对按县进行：须为县、市或省",
        "a comparison runs by county: name a county, or a city or province over its counties",
    )
    FUTURE_DATE = ("日期不能晚于今天", "the date cannot be in the future")
    OUT_OF_RANGE = ("超出允许范围", "out of the allowed range")
    ALREADY_RUNNING = ("该县的比对正在进行，请稍后再试", "a comparison of this county is running; try again later")
    CONFLICT = ("记录已被他人修改", "the record changed since you read it")
    NOT_OPEN = ("只有待处理的发现可以处理", "only an open finding is resolved")
    TOO_MANY = ("一次最多处理 500 条", "at most 500 decisions at once")
    DUPLICATE_ID = ("同一发现在列表中出现两次", "the same finding appears twice in the list")
    TOO_LONG = ("超出最大长度", "longer than allowed")
    INVALID_TEXT = ("含有不允许的字符", "contains a character not allowed (NUL)")
    ELSEWHERE_REQUIRED = (
        "在外地就读须写明学校或省份",
        "studying elsewhere names the school or the province",
    )
    NOT_THIS_CHILD = ("该台账记录不属于这个学生", "the ledger entry is another child's")
    NO_CHILD = ("该发现未对应到学生", "the finding is tied to no child")
    # From opening the ledger entry (resolvers/ledgers/entries.open_entry).
    ALREADY_ON_LEDGER = ("已有未销号的记录，请改为关联", "already has an entry not closed out: link it instead")
    RULE_OWNED = ("由考勤规则自动处理", "the attendance rules do this")
    DEFERRAL_NOT_APPROVED = ("无县级批准的延缓", "no deferral approved at county level")
    BAD_STATUS = ("当前状态不允许此操作", "not allowed in the entry's status")
    CATEGORY_MISMATCH = ("类别与学生记录不符", "the category contradicts the child's record")
