"""One error base: the `UserError` interface every payload error implements, and each domain's error
type, which adds only its `code` enum (the domain's table in `resolvers/<domain>/errors.py`)."""

from __future__ import annotations

from typing import TypeVar

import strawberry

from resolvers.admin.errors import AdminErrorCode
from resolvers.comparisons.errors import ComparisonErrorCode
from resolvers.errors import ErrorCode
from resolvers.ledgers.errors import LedgerErrorCode
from resolvers.platform.errors import PlatformErrorCode
from resolvers.reports.errors import ReportErrorCode, TermVisitErrorCode
from resolvers.rosters.errors import RosterErrorCode
from resolvers.settings.errors import SettingErrorCode
from resolvers.students.errors import StudentErrorCode
from resolvers.term_start.errors import TermStartErrorCode
from resolvers.transitions.errors import TransitionErrorCode
from resolvers.verification.errors import VerificationErrorCode

C = TypeVar("C", bound=type[ErrorCode])


def expose(codes: C) -> C:
    """The table as a GraphQL enum: its docstring the description, each code's rule the value's."""
    strawberry.enum(codes, description=(codes.__doc__ or "").strip())
    for value in codes.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = codes[value.name].message
    return codes


for table in (
    AdminErrorCode,
    ComparisonErrorCode,
    LedgerErrorCode,
    PlatformErrorCode,
    ReportErrorCode,
    RosterErrorCode,
    SettingErrorCode,
    StudentErrorCode,
    TermVisitErrorCode,
    TransitionErrorCode,
    TermStartErrorCode,
    VerificationErrorCode,
):
    expose(table)


@strawberry.interface(description="用户错误 / a typed, bilingual error naming the input field and the rule broken.")
class UserError:
    field: str = strawberry.field(
        description="出错的输入字段 / the input field (a path such as `absences.0.studentId`)."
    )
    message: str = strawberry.field(description="中英文说明 / what is wrong, in Chinese and English.")

    @strawberry.field(
        description="错误代码的名称（与本类型的 `code` 相同；与顶层错误的 `extensions.reason` 同义）/ the code's "
        "name as text: the same as this type's `code`, and the same vocabulary as a top-level error's "
        "`extensions.reason`, so one client handler reads every refusal. (GraphQL lets no interface field narrow "
        "to each domain's enum, so the enum itself is `code` on each type.)"
    )  # type: ignore[untyped-decorator]
    def reason(self) -> str:
        return str(self.code.name)  # type: ignore[attr-defined]


@strawberry.type(description="管理操作的错误 / an error of an administration mutation.")
class AdminError(UserError):
    code: AdminErrorCode = strawberry.field(description="错误代码 / the rule broken.")


@strawberry.type(description="三比对操作的错误 / an error of a comparison mutation.")
class ComparisonError(UserError):
    code: ComparisonErrorCode = strawberry.field(description="错误代码 / the rule broken.")


@strawberry.type(description="台账操作的错误 / an error of a ledger mutation, citing the rule.")
class LedgerError(UserError):
    code: LedgerErrorCode = strawberry.field(description="错误代码 / the rule broken.")


@strawberry.type(description="录入平台操作的错误 / an error of a platform-upload mutation.")
class PlatformError(UserError):
    code: PlatformErrorCode = strawberry.field(description="错误代码 / the rule broken.")


@strawberry.type(description="报告操作的错误 / an error of a report mutation.")
class ReportError(UserError):
    code: ReportErrorCode = strawberry.field(description="错误代码 / the rule broken.")


@strawberry.type(description="名册操作的错误 / an error of a roster mutation.")
class RosterError(UserError):
    code: RosterErrorCode = strawberry.field(description="错误代码 / the rule broken.")


@strawberry.type(description="设置操作的错误 / an error of a settings mutation.")
class SettingError(UserError):
    code: SettingErrorCode = strawberry.field(description="错误代码 / the rule broken.")


@strawberry.type(description="学生操作的错误 / an error of a student mutation.")
class StudentError(UserError):
    code: StudentErrorCode = strawberry.field(description="错误代码 / the rule broken.")


@strawberry.type(description="开学调研操作的错误 / an error of a term-visit mutation.")
class TermVisitError(UserError):
    code: TermVisitErrorCode = strawberry.field(description="错误代码 / the rule broken.")


@strawberry.type(description="关键学段操作的错误 / an error of a key-transition mutation (中考 registration gaps).")
class TransitionError(UserError):
    code: TransitionErrorCode = strawberry.field(description="错误代码 / the rule broken.")


@strawberry.type(description="开学报到（未报到名单）操作的错误 / an error of a term-start reporting mutation.")
class TermStartError(UserError):
    code: TermStartErrorCode = strawberry.field(description="错误代码 / the rule broken.")


@strawberry.type(description="下发核实操作的错误 / an error of a verification mutation.")
class VerificationError(UserError):
    code: VerificationErrorCode = strawberry.field(description="错误代码 / the rule broken.")


# Each error type and the table its codes come from.
CODES: dict[type[UserError], type[ErrorCode]] = {
    AdminError: AdminErrorCode,
    ComparisonError: ComparisonErrorCode,
    LedgerError: LedgerErrorCode,
    PlatformError: PlatformErrorCode,
    ReportError: ReportErrorCode,
    RosterError: RosterErrorCode,
    SettingError: SettingErrorCode,
    StudentError: StudentErrorCode,
    TermVisitError: TermVisitErrorCode,
    TransitionError: TransitionErrorCode,
    TermStartError: TermStartErrorCode,
    VerificationError: VerificationErrorCode,
}


README_BEGIN = "<!-- error codes: generated from resolvers/*/errors.py by `uv run baoxue export-schema` -->"
README_END = "<!-- end of error codes -->"


def codes_markdown() -> str:
    """The README's list of every domain's codes, written from the tables (never by hand)."""
    lines = [README_BEGIN]
    for error_type, table in CODES.items():
        lines += ["", f"**{error_type.__name__}** (`{table.__name__}`): {(table.__doc__ or '').strip()}", ""]
        lines += ["| code | 中文 | English |", "|---|---|---|"]
        lines += [f"| `{code.name}` | {code.zh} | {code.en} |" for code in table]
    return "\n".join([*lines, "", README_END])
