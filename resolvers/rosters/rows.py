"""Checking roster rows: every problem of a row at once (a clerk fixes them all in one go), or its record.

A row is checked against the rules of its kind (`models/roster.py`), the geography (region and school
codes exist: `region_path`, `school_path` give a code's scope path or None) and the importer's
jurisdiction: `in_scope` gets every path of the row (household, residence, school) and answers whether the
importer may hold it, so a row outside is refused (`OUT_OF_SCOPE`) and never stored. On a pushed-down list
(`PUSHED`) an unknown code is not a problem of the row: the row is kept, and routing lists it back.
String lengths are the child table's (`models.child.Child`); NUL bytes are refused (ARCHITECTURE §12).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date
from functools import cache

import sqlalchemy as sa

from models.child import Child, Gender, SpecialGroup, national_id_problem
from models.roster import (
    COLUMNS,
    EXAM_NUMBER,
    EXAM_NUMBER_MAX,
    GENDERS,
    NO_ID_REASON_MAX,
    ONE_OF,
    POVERTY_KINDS,
    Column,
    RosterKind,
    RosterRecord,
    RowProblem,
    birth_date_of_national_id,
    column_of_header,
    gender_of_national_id,
    normalise_national_id,
    parse_date,
    parse_grade,
)

from .errors import RosterErrorCode

Lookup = Callable[[str], str | None]
InScope = Callable[[list[str]], bool]


@cache
def max_length(field: str) -> int | None:
    """The longest value the child table keeps for a field (None: no bound there)."""
    if field == "no_id_reason":
        return NO_ID_REASON_MAX
    if field == EXAM_NUMBER.field:
        return EXAM_NUMBER_MAX
    column = sa.inspect(Child).columns.get(field)
    length = getattr(column.type, "length", None) if column is not None else None
    return length if isinstance(length, int) else None


class _Row:
    """One row being checked: its cells by field and the problems found so far."""

    def __init__(self, kind: RosterKind, line: int, cells: dict[str, str]) -> None:
        self.line, self.problems = line, list[RowProblem]()
        self.headers: dict[str, str] = {}
        self.values: dict[str, str] = {}
        known = _columns_by_header(kind)
        for header, cell in cells.items():
            if (column := known.get(header)) is not None:
                self.headers[column.field] = header
                self.values[column.field] = cell.strip()

    def header(self, column: Column) -> str:
        return self.headers.get(column.field, column.header)

    def value(self, column: Column) -> str | None:
        return self.values.get(column.field) or None

    def refuse(self, column: Column, code: RosterErrorCode, zh: str | None = None, en: str | None = None) -> None:
        self.problems.append(RowProblem(self.line, self.header(column), code.name, zh or code.zh, en or code.en))


@cache
def _columns_by_header(kind: RosterKind) -> dict[str, Column]:
    """`column_of_header` for every header a kind accepts, looked up once per kind instead of once per cell."""
    return {h: c for c in reversed(COLUMNS[kind]) for h in c.headers if column_of_header(kind, h) is c}


@cache
def _columns_by_field(kind: RosterKind) -> dict[str, Column]:
    return {c.field: c for c in COLUMNS[kind]}


@cache
def _text_rules(kind: RosterKind) -> tuple[tuple[Column, int | None], ...]:
    """Each column of a kind with the longest text it keeps (None: no bound, or the ID, checked as an ID)."""
    return tuple((c, None if c.field == "national_id" else max_length(c.field)) for c in COLUMNS[kind])


def _column(kind: RosterKind, field: str) -> Column:
    return next(c for c in COLUMNS[kind] if c.field == field)


def check_row(
    kind: RosterKind, line: int, cells: dict[str, str], *, region_path: Lookup, school_path: Lookup, in_scope: InScope
) -> RosterRecord | list[RowProblem]:
    """The row's record, or every problem it has (each with its line, column, code and message)."""
    row = _Row(kind, line, cells)
    columns = _columns_by_field(kind)
    values = row.values
    for column, limit in _text_rules(kind):
        text = values.get(column.field)
        if not text:
            if column.required and column.field != "national_id":
                row.refuse(column, RosterErrorCode.REQUIRED)
            continue
        if "\x00" in text:
            row.refuse(column, RosterErrorCode.INVALID_TEXT)
        elif limit is not None and len(text) > limit:
            row.refuse(column, RosterErrorCode.TOO_LONG, f"超出最大长度 {limit}", f"longer than {limit} characters")
    group = ONE_OF.get(kind, ())
    if group and not any(row.value(c) for c in group):
        row.refuse(
            group[0], RosterErrorCode.REQUIRED, "户籍地或现住址区划代码必填一项", "a household or residence code"
        )
    gender, birth_date, national_id = _identity(row, columns)
    paths = _places(row, columns, region_path, school_path, keep_unknown=kind is RosterKind.PUSHED)
    if paths and not in_scope(paths):
        place = next(c for c in columns.values() if c.field.endswith("_code") and row.value(c))
        row.refuse(place, RosterErrorCode.OUT_OF_SCOPE)  # on the kind's first place column (the school for 学籍)
    grade = _grade(row, columns)
    group_of_poverty = _poverty(row, columns)
    if row.problems or gender is None or birth_date is None:
        return row.problems
    return RosterRecord(
        line=line,
        name=row.values["name"],
        gender=gender,
        birth_date=birth_date,
        national_id=national_id,
        household_region_code=row.values.get("household_region_code") or None,
        residence_region_code=row.values.get("residence_region_code") or None,
        registry_number=row.values.get("registry_number") or None,
        school_code=row.values.get("school_code") or None,
        grade=grade,
        special_group=group_of_poverty,
        no_id_reason=(row.values.get("no_id_reason") or None) if national_id is None else None,
        raw=dict(cells),
    )


def _identity(row: _Row, columns: dict[str, Column]) -> tuple[Gender | None, date | None, str | None]:
    """Gender, birth date and national ID: the ID checked, and the others against it or derived from it."""
    gender_text, date_text = row.value(columns["gender"]), row.value(columns["birth_date"])
    gender = GENDERS.get(gender_text) if gender_text else None
    if gender_text and gender is None:
        row.refuse(columns["gender"], RosterErrorCode.INVALID_GENDER)
    birth_date = parse_date(date_text) if date_text else None
    if date_text and birth_date is None:
        row.refuse(columns["birth_date"], RosterErrorCode.INVALID_DATE)
    id_text = row.value(columns["national_id"])
    if id_text is None:
        for field in ("birth_date", "gender", "no_id_reason"):
            if row.value(columns[field]) is None:
                row.refuse(
                    columns[field], RosterErrorCode.REQUIRED, "无身份证号时必填", "required without a national ID"
                )
        return gender, birth_date, None
    national_id = normalise_national_id(id_text)
    problem = national_id_problem(national_id, birth_date or date.min)
    if problem is not None and problem[0] == "BIRTH_DATE_MISMATCH" and birth_date is None:
        problem = None
    if problem is not None:
        code = RosterErrorCode[problem[0]]
        row.refuse(columns["birth_date" if code is RosterErrorCode.BIRTH_DATE_MISMATCH else "national_id"], code)
        return gender, birth_date, None
    if gender is not None and gender != gender_of_national_id(national_id):
        row.refuse(columns["gender"], RosterErrorCode.GENDER_MISMATCH)
    return (
        gender or gender_of_national_id(national_id),
        birth_date or birth_date_of_national_id(national_id),
        national_id,
    )


def _places(
    row: _Row, columns: dict[str, Column], region_path: Lookup, school_path: Lookup, *, keep_unknown: bool = False
) -> list[str]:
    """The scope paths of the row's regions and school; an unknown code is refused, except on a pushed-down
    list (`keep_unknown`), where it only fails to route: the row is then listed back to the sender."""
    paths = []
    for field in ("household_region_code", "residence_region_code", "school_code"):
        code = row.value(columns[field]) if field in columns else None
        if code is None or "\x00" in code:
            continue
        school = field == "school_code"
        path = (school_path if school else region_path)(code)
        if path is None and not keep_unknown:
            row.refuse(columns[field], RosterErrorCode.UNKNOWN_SCHOOL if school else RosterErrorCode.UNKNOWN_REGION)
        elif path is not None:
            paths.append(path)
    return paths


def _grade(row: _Row, columns: dict[str, Column]) -> int | None:
    text = row.value(columns["grade"]) if "grade" in columns else None
    grade = parse_grade(text) if text else None
    if text and grade is None:
        row.refuse(columns["grade"], RosterErrorCode.INVALID_GRADE)
    return grade


def _poverty(row: _Row, columns: dict[str, Column]) -> SpecialGroup | None:
    text = row.value(columns["poverty_kind"]) if "poverty_kind" in columns else None
    group = POVERTY_KINDS.get(text) if text else None
    if text and group is None:
        row.refuse(columns["poverty_kind"], RosterErrorCode.INVALID_POVERTY_KIND)
    return group


def check_rows(
    kind: RosterKind,
    rows: Iterable[tuple[int, dict[str, str]]],
    *,
    region_path: Lookup,
    school_path: Lookup,
    in_scope: InScope,
) -> Iterator[RosterRecord | list[RowProblem]]:
    """`check_row` over a file's rows, plus `DUPLICATE_IN_FILE` for a national ID seen on an earlier line.

    Constant memory apart from the IDs seen, each kept as one integer (a set of 1,000,000 takes about
    66 MB; as strings with their lines it took 123 MB). A repeated ID refuses the later row only.
    """
    seen: set[int] = set()
    for line, cells in rows:
        result = check_row(kind, line, cells, region_path=region_path, school_path=school_path, in_scope=in_scope)
        if isinstance(result, RosterRecord) and result.national_id is not None:
            key = _id_key(result.national_id)
            if key in seen:
                column = _column(kind, "national_id")
                header = next((h for h in cells if h.strip() in column.headers), column.header)
                code = RosterErrorCode.DUPLICATE_IN_FILE
                result = [RowProblem(line, header, code.name, code.zh, code.en)]
            seen.add(key)
        yield result


def _id_key(national_id: str) -> int:
    """A valid 18-character ID as one integer: the 17 digits, then the check character (X is 10)."""
    return int(national_id[:17]) * 11 + (10 if national_id[17] == "X" else int(national_id[17]))
