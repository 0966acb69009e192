"""The domain's refusal codes and their rules in Chinese and English: the one table that the GraphQL
enum, its descriptions and the README's code list read (resolvers raise these codes by name)."""

from __future__ import annotations

from ..errors import NOT_FOUND, REQUIRED, ErrorCode


class RosterErrorCode(ErrorCode):
    """名册导入的错误代码 / error codes of roster imports"""

    REQUIRED = REQUIRED
    NOT_FOUND = NOT_FOUND
    # A row's problems (with its line and column).
    INVALID_NATIONAL_ID = ("身份证号无效", "not a valid national ID")
    INVALID_CHECK_DIGIT = ("身份证号校验位错误", "the national ID check digit is wrong")
    BIRTH_DATE_MISMATCH = ("出生日期与身份证号不符", "the birth date does not match the national ID")
    GENDER_MISMATCH = ("性别与身份证号不符", "the gender does not match the national ID")
    INVALID_DATE = ("日期格式应为 YYYY-MM-DD、YYYY/MM/DD 或 YYYYMMDD", "a date as YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD")
    INVALID_GENDER = ("性别应为男或女", "the gender is 男 or 女")
    INVALID_GRADE = ("年级应为 1–9 或一年级至九年级", "the grade is 1–9 or 一年级 to 九年级")
    INVALID_POVERTY_KIND = ("帮扶类型应为脱贫户、监测户或低保", "脱贫户, 监测户 or 低保")
    INVALID_REGISTRY_STATUS = (
        "学籍状态应为在读、休学、辍学、其他离校、转出、毕业或死亡",
        "the registry status is 在读, 休学, 辍学, 其他离校, 转出, 毕业 or 死亡",
    )
    INVALID_TEXT = ("含有不允许的字符", "contains a character not allowed (NUL)")
    UNKNOWN_REGION = ("没有这个区划", "no such region")
    UNKNOWN_SCHOOL = ("没有这个学校", "no such school")
    OUT_OF_SCOPE = ("不在本辖区内", "outside your jurisdiction")
    DUPLICATE_IN_FILE = ("身份证号在本文件中重复", "the national ID appears earlier in this file")
    TOO_LONG = ("超出最大长度", "longer than allowed")
    # Whole-file errors (the batch fails, nothing is stored).
    BAD_ENCODING = ("文件编码无法识别，请另存为 UTF-8 或 GB18030", "unreadable encoding: save as UTF-8 or GB18030")
    MISSING_COLUMN = ("缺少必需的列", "a required column is missing")
    DUPLICATE_COLUMN = ("同一列出现两次", "the same column appears twice")
    EMPTY_FILE = ("文件没有数据行", "the file has no data rows")
    TOO_LARGE = ("文件超过大小上限", "the file is over the size limit")
    UNKNOWN_FORMAT = ("文件须为 CSV 或 XLSX", "the file must be CSV or XLSX")
    DUPLICATE_FILE = ("同一文件已导入", "the same file was already imported")
    # The upload itself (POST /rosters).
    UNEXPECTED_FIELD = (
        "上传只接受 kind、jurisdiction、asOf 和一个 file",
        "the upload takes kind, jurisdiction, asOf and one file only",
    )
    # The batch itself.
    INVALID_KIND = (
        "名册类型应为 HOUSEHOLD、REGISTRY、IN_SCHOOL、POVERTY、EXAM_REGISTRATION 或 PUSHED",
        "the kind is HOUSEHOLD, REGISTRY, IN_SCHOOL, POVERTY, EXAM_REGISTRATION or PUSHED",
    )
    NOT_A_SENDER = (
        "下发名单由教育部（全国 CN）或省级教育部门（本省）导入",
        "a pushed-down list is imported for the nation (CN) or a province",
    )
    NOT_A_COUNTY = ("名册按县级及以下辖区导入", "a roster is imported for a county or an area within one")
    HOUSEHOLD_ONLY = (
        "乡镇、村只导入入户摸排的户籍名册",
        "townships and villages import door-to-door HOUSEHOLD lists only",
    )
    FUTURE_DATE = ("名册日期不能晚于今天", "the roster's date cannot be in the future")
    CONFLICT = ("批次已被他人修改", "the batch changed since you read it")
    NOT_STAGED = ("只有暂存的批次可以应用或放弃", "only a staged batch is applied or discarded")
    UNDECIDED_CANDIDATES = (
        "尚有疑似对应待确认或否定，不能应用",
        "candidate matches still await a decision: the batch cannot be applied yet",
    )
    # Decisions on candidate matches.
    TOO_MANY = ("一次决定的行数超过上限", "too many decisions at once")
    DUPLICATE_DECISION = ("同一行出现两次", "the same line is decided twice")
    MIXED_BATCHES = ("一次只决定同一批次的行", "the decisions of one request are for rows of one batch")
    ALREADY_DECIDED = ("该行不是待确认的疑似对应（已决定或无候选）", "the line is not an undecided candidate")
