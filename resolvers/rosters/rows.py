"""Checking roster rows, set-based in PostgreSQL: every problem of a row at once (a clerk fixes them all in
one go), or its parsed record.

A file's cells are COPYed as read into a temporary table, `roster_cells` (`line`, `n` the row's number of
cells, `nul` the columns whose cell held a NUL as `,0,3,` (the NUL itself replaced by U+FFFD, as the raw
cells' JSON writes it), then `c0`…: one text column per header of the file). `cell_checks` writes, for one
file's headers, the SELECT that checks those rows against the rules of their kind (`models/roster.py`), the
geography (region and school codes exist in the importer's province) and the importer's jurisdiction: a
row with a place, none of whose places lies inside, is refused (`OUT_OF_SCOPE`) and never stored. On a
pushed-down list (`PUSHED`) an unknown code is not a problem of the row: the row is kept, and routing lists
it back. String lengths are the child table's (`models.child.Child`); NUL bytes are refused (ARCHITECTURE
§12).

The rules are python-stdnum's and `models/roster.py`'s tables (`GENDERS`, `GRADES`, `POVERTY_KINDS`),
written once here as SQL with the forms of a date and of an ID (trimmed, full-width, 15 → 18 digits): the
ID check digit is stdnum's `calc_check_digit` (`(1 - 2 · int(first 17, 13)) mod 11`;
tests/resolvers/test_roster_rows.py holds the whole ID rule to `ric.validate` over many IDs), and whether
an ID's region prefix existed in its birth year is asked of stdnum itself, once per distinct (prefix,
year) of the file (`models.child.birth_place_known`; the known ones are the parameter `birth_places`,
prefix and year as the ID's first ten digits, which PostgreSQL looks up in a hash of them); Python gathers
the pairs of the plain ID cells as it writes them (`cells.cell_blocks`), PostgreSQL those of the other cells, which
it alone normalises. Python only reads the file and writes its cells (about 5–10 µs of CPU a row where
checking in Python took 60–90); PostgreSQL's checks cost about as much per row as Python's did, but in one
statement, and a large file is checked in two halves on two connections (bench/RESULTS.md §f).
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import sqlalchemy as sa

from models.child import Child
from models.repos.roster_cells import CellChecks
from models.roster import (
    COLUMNS,
    EXAM_NUMBER,
    EXAM_NUMBER_MAX,
    GENDERS,
    GRADES,
    NO_ID_REASON_MAX,
    ONE_OF,
    POVERTY_KINDS,
    Column,
    RosterKind,
    column_of_header,
)

from .errors import RosterErrorCode

# The characters Python's `str.strip()` and `str.split()` treat as white space: cells are trimmed of them.
WHITE_SPACE = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
# stdnum's check digit reads the first 17 digits as one base-13 number: each digit's weight modulo 11.
CHECK_WEIGHTS = tuple(pow(13, 16 - i, 11) for i in range(17))
PLACE_FIELDS = ("household_region_code", "residence_region_code", "school_code")
# An input method's full-width digits (０–９) are read as digits in a date.
FULL_WIDTH_DIGITS = "".join(chr(0xFF10 + n) for n in range(10))
# The date forms offices write, as the cell's shape, its digits written 9 and its separators -: YYYY-MM-DD,
# YYYY/MM/DD and YYYY.MM.DD with or without leading zeros, and YYYYMMDD (comparing shapes costs a tenth of a
# regular expression with groups). A time after a space or a T is ignored.
SEPARATED_DATES = "('9999-9-9', '9999-9-99', '9999-99-9', '9999-99-99')"
OUT_OF_SCOPE = "OUT_OF_SCOPE"  # the status a row outside the jurisdiction is given before it is dropped


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


STAGE_COLUMNS = (
    "line", "status", "problems", "raw", "name", "gender", "birth_date", "national_id", "registry_number",
    "school_code", "grade", "household_region_code", "residence_region_code", "poverty_kind", "no_id_reason",
    "school_path", "household_path", "residence_path",
)  # fmt: skip


def cell_checks(kind: RosterKind, headers: list[str], *, jurisdiction: str) -> CellChecks:
    """The checks of a file of `kind` with these headers (as `files.cells_of` gives them), for an importer
    holding `jurisdiction` (a path; "" the nation, for a pushed-down list)."""
    return _Plan(kind, headers, jurisdiction).build()


class _Plan:
    def __init__(self, kind: RosterKind, headers: list[str], jurisdiction: str) -> None:
        self.kind, self.headers, self.jurisdiction = kind, headers, jurisdiction
        self.params: dict[str, Any] = {
            "ws": WHITE_SPACE,
            "full_width_digits": FULL_WIDTH_DIGITS,
            "ws_or_hyphen": "[" + WHITE_SPACE + "-]",
            "jur": jurisdiction,
            "province": jurisdiction.split("/", 1)[0],
            "genders": json.dumps({k: v.value for k, v in GENDERS.items()}, ensure_ascii=False),
            "grades": json.dumps(GRADES, ensure_ascii=False),
            "poverty": json.dumps({k: v.value for k, v in POVERTY_KINDS.items()}, ensure_ascii=False),
        }
        self.columns = {c.field: c for c in COLUMNS[kind]}
        # The cell of each of the kind's fields: the file's column with one of its headers.
        self.cell: dict[str, int] = {}
        self.header_of: dict[str, str] = {}
        for i, header in enumerate(headers):
            column = column_of_header(kind, header) if header else None
            if column is not None:
                self.cell[column.field] = i
                self.header_of[column.field] = header

    def param(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"(:{name})::text"

    def header(self, column: Column) -> str:
        return self.header_of.get(column.field, column.header)

    def problem(self, field: str, code: RosterErrorCode, zh: str | None = None, en: str | None = None) -> str:
        """A problem's JSON text, `{column, code, message}`, as a parameter."""
        column = self.columns[field]
        message = f"{zh or code.zh} / {en or code.en}"
        text = json.dumps({"column": self.header(column), "code": code.name, "message": message}, ensure_ascii=False)
        return self.param(text)

    def value(self, field: str) -> str:
        """The field's trimmed cell, NULL when empty or absent from the file."""
        i = self.cell.get(field)
        return "NULL::text" if i is None else f"nullif(btrim(r.c{i}, :ws), '')"

    def nul(self, field: str) -> str:
        i = self.cell.get(field)
        return "false" if i is None else f"(r.nul <> '' AND strpos(r.nul, ',{i},') > 0)"

    def raw(self) -> str:
        """The row's original cells by header, as JSON in the file's order; a short row has only its cells."""
        named = [(i, h) for i, h in enumerate(self.headers) if h]
        if not named:
            return "'{}'::json"
        keys = f"CAST(:p{len(self.params)} AS text[])"
        self.params[f"p{len(self.params)}"] = [h for _, h in named]
        whole = ", ".join(f"r.c{i}" for i, _ in named)
        cut = [i for i, _ in named if i]  # the columns a short row may lack (it has at least one cell)
        if not cut:
            return f"json_object({keys}, ARRAY[{whole}])"
        short = ", ".join(f"CASE WHEN r.n > {i} THEN r.c{i} END" for i, _ in named)
        return (
            f"CASE WHEN r.n >= {len(self.headers)} THEN json_object({keys}, ARRAY[{whole}]) "
            f"ELSE json_strip_nulls(json_object({keys}, ARRAY[{short}])) END"
        )

    def national_id(self) -> str:
        """The ID as `models.roster.normalise_national_id` writes it, before a 15-digit one is converted."""
        v = self.value("national_id")
        return (
            f"CASE WHEN {v} ~ '^[0-9A-Za-z]+$' THEN upper({v}) "
            f"ELSE upper(regexp_replace(normalize({v}, NFKC), :ws_or_hyphen, '', 'g')) END"
        )

    def problems(self) -> list[tuple[str, str]]:
        """(condition, problem) in the order a clerk reads them: text rules column by column, the place
        group, identity (gender, date, ID), places, grade, poverty kind."""
        out: list[tuple[str, str]] = []
        for column in COLUMNS[self.kind]:
            f = column.field
            if column.required and f != "national_id":
                out.append((f"v.{f} IS NULL", self.problem(f, RosterErrorCode.REQUIRED)))
            out.append((f"v.{f} IS NOT NULL AND v.z_{f}", self.problem(f, RosterErrorCode.INVALID_TEXT)))
            limit = None if f == "national_id" else max_length(f)
            if limit is not None:
                long = self.problem(
                    f, RosterErrorCode.TOO_LONG, f"超出最大长度 {limit}", f"longer than {limit} characters"
                )
                out.append((f"v.{f} IS NOT NULL AND NOT v.z_{f} AND length(v.{f}) > {limit}", long))
        group = ONE_OF.get(self.kind, ())
        if group:
            either = " AND ".join(f"v.{c.field} IS NULL" for c in group)
            zh, en = "户籍地或现住址区划代码必填一项", "a household or residence code"
            out.append((either, self.problem(group[0].field, RosterErrorCode.REQUIRED, zh, en)))
        out.append(
            ("v.gender IS NOT NULL AND a.given_gender IS NULL", self.problem("gender", RosterErrorCode.INVALID_GENDER))
        )
        out.append(
            (
                "v.birth_date IS NOT NULL AND a.birth_date IS NULL",
                self.problem("birth_date", RosterErrorCode.INVALID_DATE),
            )
        )
        zh, en = "无身份证号时必填", "required without a national ID"
        for f in ("birth_date", "gender", "no_id_reason"):
            out.append((f"v.national_id IS NULL AND v.{f} IS NULL", self.problem(f, RosterErrorCode.REQUIRED, zh, en)))
        for id_code in ("INVALID_NATIONAL_ID", "INVALID_CHECK_DIGIT", "BIRTH_DATE_MISMATCH"):
            field = "birth_date" if id_code == "BIRTH_DATE_MISMATCH" else "national_id"
            out.append((f"i.problem = '{id_code}'", self.problem(field, RosterErrorCode[id_code])))
        mismatch = "v.national_id IS NOT NULL AND i.problem IS NULL AND a.given_gender <> i.gender"
        out.append((mismatch, self.problem("gender", RosterErrorCode.GENDER_MISMATCH)))
        if self.kind is not RosterKind.PUSHED:  # a pushed-down list keeps a row of unknown places: routing lists it
            for f in PLACE_FIELDS:
                if f in self.columns:
                    code = RosterErrorCode.UNKNOWN_SCHOOL if f == "school_code" else RosterErrorCode.UNKNOWN_REGION
                    out.append((f"p.unknown_{f}", self.problem(f, code)))
        if "grade" in self.columns:
            out.append(
                ("v.grade IS NOT NULL AND a.grade IS NULL", self.problem("grade", RosterErrorCode.INVALID_GRADE))
            )
        if "poverty_kind" in self.columns:
            bad = self.problem("poverty_kind", RosterErrorCode.INVALID_POVERTY_KIND)
            out.append(("v.poverty_kind IS NOT NULL AND a.poverty_kind IS NULL", bad))
        return out

    def places(self) -> str:
        """Per place field: its path (the province's region or school), whether it is unknown (no path, and
        not a code of another province, placed by its digits), whether it gives a path and whether that path
        is inside the jurisdiction (a code of another province never is, unless the importer is the nation)."""
        within = "(:jur = '' OR {p} = :jur OR starts_with({p}, :jur || '/'))"
        parts, has, inside = [], [], []
        for f in PLACE_FIELDS:
            if f not in self.columns:
                continue
            table = "s" if f == "school_code" else f[0] + "r"
            given = f"(v.{f} IS NOT NULL AND NOT v.z_{f})"
            placed = (
                "false"
                if f == "school_code"
                else f"(v.{f} ~ '^[0-9]+$' AND length(v.{f}) IN (2, 4, 6, 9, 12) AND left(v.{f}, 2) <> :province)"
            )
            parts.append(f"{table}.path AS path_{f}")
            parts.append(f"{given} AND {table}.path IS NULL AND NOT {placed} AS unknown_{f}")
            has.append(f"({given} AND ({table}.path IS NOT NULL OR {placed}))")
            known_inside = f"{table}.path IS NOT NULL AND {within.format(p=table + '.path')}"
            inside.append(f"({given} AND ({known_inside} OR {placed} AND :jur = ''))")
        if has:
            parts.append(f"({' OR '.join(has)}) AND NOT ({' OR '.join(inside)}) AS out_of_scope")
        else:
            parts.append("false AS out_of_scope")
        return ", ".join(parts)

    def joins(self) -> str:
        in_province = "(:province = '' OR {t}.path = :province OR starts_with({t}.path, :province || '/'))"
        out = []
        for f in PLACE_FIELDS:
            if f not in self.columns:
                continue
            if f == "school_code":
                out.append(f"LEFT JOIN school s ON s.code = v.school_code AND {in_province.format(t='s')}")
            else:
                t = f[0] + "r"
                out.append(f"LEFT JOIN region {t} ON {t}.code = v.{f} AND {in_province.format(t=t)}")
        return "\n".join(out)

    def path(self, field: str) -> str:
        return f"p.path_{field}" if field in self.columns else "NULL"

    def field(self, field: str) -> str:
        return f"v.{field}" if field in self.columns else "NULL"

    def build(self) -> CellChecks:
        fields = sorted({c.field for c in COLUMNS[self.kind]} | {"national_id", "birth_date", "gender", "no_id_reason"})
        values = ", ".join(f"{self.value(f)} AS {f}, {self.nul(f)} AS z_{f}" for f in fields)
        digits = " + ".join(f"substr(a.body, {i + 1}, 1)::int * {w}" for i, w in enumerate(CHECK_WEIGHTS))
        check = f"((1 - 2 * ({digits})) % 11 + 11) % 11"
        problems = self.problems()
        listed = ", ".join(f"CASE WHEN {cond} THEN {text} END" for cond, text in problems)
        grade = "a.grade" if "grade" in self.columns else "NULL::int"
        poverty = "a.poverty_kind" if "poverty_kind" in self.columns else "NULL"
        id_header = self.header(self.columns["national_id"])
        duplicate_text = (
            "["
            + json.dumps(
                {
                    "column": id_header,
                    "code": RosterErrorCode.DUPLICATE_IN_FILE.name,
                    "message": f"{RosterErrorCode.DUPLICATE_IN_FILE.zh} / {RosterErrorCode.DUPLICATE_IN_FILE.en}",
                },
                ensure_ascii=False,
            )
            + "]"
        )
        duplicate = self.param(duplicate_text)
        grade_of = "((:grades)::jsonb ->> replace(v.grade, ' ', ''))::int" if "grade" in self.columns else "NULL::int"
        poverty_of = "(:poverty)::jsonb ->> v.poverty_kind" if "poverty_kind" in self.columns else "NULL::text"
        date_of_cell = _date("dp.y", "dp.m", "dp.d")
        date_parts = ", ".join(
            f"(CASE WHEN q.shape = '99999999' THEN substr(a0.day, {start}, {length}) "
            f"WHEN q.shape IN {SEPARATED_DATES} THEN split_part(q.dashed, '-', {part}) END)::int AS {name}"
            for name, start, length, part in (("y", 1, 4, 1), ("m", 5, 2, 2), ("d", 7, 2, 3))
        )
        born_of_id = _date("substr(b.body, 7, 4)::int", "substr(b.body, 11, 2)::int", "substr(b.body, 13, 2)::int")
        valid = "k.problems = '' AND (d.first IS NULL OR d.first = k.line)"
        kept = ", ".join(f"CASE WHEN {valid} THEN k.{c} END" for c in STAGE_COLUMNS[4:])
        select = f"""
WITH checked AS MATERIALIZED (
SELECT r.line, {self.raw()} AS raw, concat_ws(',', {listed}) AS problems, p.out_of_scope,
       v.name, coalesce(a.given_gender, i.gender) AS gender, coalesce(a.birth_date, i.born) AS birth_date,
       CASE WHEN v.national_id IS NOT NULL AND i.problem IS NULL THEN i.nid END AS national_id,
       {self.field("registry_number")} AS registry_number, {self.field("school_code")} AS school_code, {grade} AS grade,
       {self.field("household_region_code")} AS household_region_code,
       {self.field("residence_region_code")} AS residence_region_code, {poverty} AS poverty_kind,
       CASE WHEN v.national_id IS NULL THEN v.no_id_reason END AS no_id_reason,
       {self.path("school_code")} AS school_path, {self.path("household_region_code")} AS household_path,
       {self.path("residence_region_code")} AS residence_path
  FROM roster_cells r
 CROSS JOIN LATERAL (SELECT {values} OFFSET 0) v
 CROSS JOIN LATERAL (SELECT {self.national_id()} AS x,
        split_part(split_part(translate(v.birth_date, :full_width_digits, '0123456789'), ' ', 1), 'T', 1) AS day,
        (:genders)::jsonb ->> v.gender AS given_gender,
        {grade_of} AS grade, {poverty_of} AS poverty_kind OFFSET 0) a0
 CROSS JOIN LATERAL (SELECT {date_parts}
        FROM (SELECT translate(a0.day, '0123456789/.', '9999999999--') AS shape, translate(a0.day, '/.', '--') AS dashed
              OFFSET 0) q OFFSET 0) dp
 CROSS JOIN LATERAL (SELECT a0.given_gender, a0.grade, a0.poverty_kind,
        {date_of_cell} AS birth_date,
        CASE WHEN a0.x ~ '^[0-9]{{15}}$' THEN left(a0.x, 6) || '19' || substr(a0.x, 7)
             WHEN length(a0.x) = 18 AND a0.x ~ '^[0-9]{{17}}' THEN left(a0.x, 17) END AS body OFFSET 0) a
 CROSS JOIN LATERAL (SELECT a.body, substr('0123456789X', {check} + 1, 1) AS digit OFFSET 0) b
 CROSS JOIN LATERAL (SELECT {born_of_id} AS born,
        CASE WHEN length(a0.x) = 15 AND b.body IS NOT NULL THEN b.body || b.digit ELSE a0.x END AS nid OFFSET 0) c
 CROSS JOIN LATERAL (SELECT c.nid,  c.born,
        CASE WHEN substr(c.nid, 17, 1) IN ('1', '3', '5', '7', '9') THEN 'MALE' ELSE 'FEMALE' END AS gender,
        CASE WHEN v.national_id IS NULL THEN NULL
             WHEN b.body IS NULL THEN 'INVALID_NATIONAL_ID'
             WHEN right(c.nid, 1) <> b.digit THEN 'INVALID_CHECK_DIGIT'
             WHEN c.born IS NULL OR NOT left(b.body, 10) = ANY(CAST(:birth_places AS text[]))
                  THEN 'INVALID_NATIONAL_ID'
             WHEN a.birth_date IS NOT NULL AND a.birth_date <> c.born THEN 'BIRTH_DATE_MISMATCH' END AS problem
        OFFSET 0) i
 {self.joins()}
 CROSS JOIN LATERAL (SELECT {self.places()}) p
), doubles AS (
SELECT national_id, min(line) AS first FROM checked
 WHERE problems = '' AND NOT out_of_scope AND national_id IS NOT NULL GROUP BY national_id HAVING count(*) > 1
)
SELECT k.line,
       CASE WHEN k.out_of_scope THEN '{OUT_OF_SCOPE}'
            WHEN k.problems <> '' OR d.first < k.line THEN 'REFUSED' ELSE 'VALID' END,
       CASE WHEN k.problems <> '' THEN ('[' || k.problems || ']')::jsonb
            WHEN d.first < k.line THEN ({duplicate})::jsonb ELSE '[]'::jsonb END,
       k.raw, {kept}
  FROM checked k LEFT JOIN doubles d ON d.national_id = k.national_id AND k.problems = '' AND NOT k.out_of_scope
"""  # noqa: S608 (the table's own names; every value is a parameter)
        # The (region prefix, birth year) of every well-formed ID whose cell is not plain (`cell_blocks` has the
        # plain ones'), for stdnum to say which places existed then.
        id_cell = self.cell.get("national_id")
        plain = "true" if id_cell is None else f"r.c{id_cell} ~ '^[0-9A-Za-z]*$'"
        places = f"""
SELECT DISTINCT left(a.body, 6), substr(a.body, 7, 4)::int
  FROM (SELECT * FROM roster_cells r WHERE NOT {plain}) r
 CROSS JOIN LATERAL (SELECT {self.value("national_id")} AS national_id OFFSET 0) v
 CROSS JOIN LATERAL (SELECT {self.national_id()} AS x OFFSET 0) a0
 CROSS JOIN LATERAL (SELECT CASE WHEN a0.x ~ '^[0-9]{{15}}$' THEN left(a0.x, 6) || '19' || substr(a0.x, 7)
                                 WHEN length(a0.x) = 18 AND a0.x ~ '^[0-9]{{17}}' THEN left(a0.x, 17) END AS body) a
 WHERE a.body IS NOT NULL
"""  # noqa: S608 (idem)
        return CellChecks(
            width=len(self.headers), id_cell=id_cell, birth_places_sql=_typed(places), select_sql=_typed(select),
            columns=STAGE_COLUMNS, params=self.params, out_of_scope=OUT_OF_SCOPE, duplicate=duplicate_text,
        )  # fmt: skip


def _typed(sql: str) -> str:
    """The plan's text parameters as text: PostgreSQL cannot type a bare parameter in `||` or `= ''`."""
    return re.sub(
        r"(?<!:):(jur|province|ws|ws_or_hyphen|genders|grades|poverty|full_width_digits)\b(?!\)::)", r"(:\1)::text", sql
    )


def _date(year: str, month: str, day: str) -> str:
    """The date, or NULL when it does not exist (Python's `date(year, month, day)` raising ValueError)."""
    return (
        f"CASE WHEN {year} BETWEEN 1 AND 9999 AND {month} BETWEEN 1 AND 12 AND {day} >= 1 AND {day} <= "
        f"extract(day FROM make_date({year}, {month}, 1) + interval '1 month' - interval '1 day') "
        f"THEN make_date({year}, {month}, {day}) END"
    )
