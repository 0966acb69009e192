"""Checking roster rows a block at a time, column-wise with polars: every problem of a row at once (a clerk
fixes them all in one go), or its parsed record.

A file's rows arrive as cells (`files.cells_of`); `RowChecks.frame` holds a block of them as one text column
per header (`c0`…, plus `line` and `n`, the row's number of cells: a short row is padded with nulls). The
rules are those of the row's kind (`models/roster.py`), the geography (region and school codes exist in the
importer's province: `Places`) and the importer's jurisdiction: a row with a place, none of whose places lies
inside, is refused (`OUT_OF_SCOPE`) and never stored. On a pushed-down list (`PUSHED`) an unknown code is not
a problem of the row: the row is kept, and routing lists it back. String lengths are the child table's
(`models.child.Child`); a cell holding NUL is refused (PostgreSQL text cannot hold one; its raw copy holds
U+FFFD, ARCHITECTURE §12).

The rules are python-stdnum's and `models/roster.py`'s tables (`GENDERS`, `GRADES`, `POVERTY_KINDS`,
`REGISTRY_STATUSES`), written once here as polars expressions with the forms of a date and of an ID (trimmed as
Python's `str.strip()` trims, full-width, 15 → 18 digits): the ID check digit is stdnum's `calc_check_digit`
(`(1 - 2 · int(first 17, 13)) mod 11`; tests/resolvers/test_roster_rows.py holds the whole ID rule to
`ric.validate` over many IDs), and whether an ID's region prefix existed in its birth year is asked of stdnum
itself, once per distinct (prefix, year) (`models.child.birth_place_known`). The expressions run in polars' own
threads, off the interpreter: about 1 µs a row, where the same rules as SQL cost PostgreSQL about 30
(bench/RESULTS.md §f).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

import polars as pl
import sqlalchemy as sa

from models.child import Child, birth_place_known
from models.roster import (
    COLUMNS,
    EXAM_NUMBER,
    EXAM_NUMBER_MAX,
    GENDERS,
    GRADES,
    NO_ID_REASON_MAX,
    ONE_OF,
    POVERTY_KINDS,
    REGISTRY_STATUSES,
    Column,
    RosterKind,
    column_of_header,
)

from .errors import RosterErrorCode
from .files import Block, Lines

# The characters Python's `str.strip()` and `str.split()` treat as white space: cells are trimmed of them.
WHITE_SPACE = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
_WS_OR_HYPHEN = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in WHITE_SPACE) + "\\-]"
PLACE_FIELDS = ("household_region_code", "residence_region_code", "school_code")
# An input method's full-width digits (０–９) are read as digits in a date.
FULL_WIDTH_DIGITS = [chr(0xFF10 + n) for n in range(10)]
# The date forms offices write: YYYY-MM-DD, YYYY/MM/DD and YYYY.MM.DD with or without leading zeros, and
# YYYYMMDD. A time after a space or a T is ignored.
EIGHT_DIGITS = r"^[0-9]{8}$"
OUT_OF_SCOPE = "OUT_OF_SCOPE"  # the status a row outside the jurisdiction is given before it is dropped

# What a checked block holds for each row kept (in `roster_row`'s names), after `line`.
RECORD_FIELDS = (
    "name", "gender", "birth_date", "national_id", "registry_number", "school_code", "grade",
    "household_region_code", "residence_region_code", "poverty_kind", "no_id_reason", "registry_status", "school_path",
    "household_path", "residence_path",
)  # fmt: skip
CHECKED_COLUMNS = ("line", "status", "problems", "raw", *RECORD_FIELDS)


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


@dataclass
class Places:
    """The scope paths of the region and school codes a file names, looked up as they first appear
    (`staging.FileChecks.learn`, through `models/repos/roster_lookups.paths_of`): None for a code that is no
    region (school) of the province."""

    province: str  # "" for the nation (a pushed-down list of the ministry)
    regions: dict[str, str | None] = field(default_factory=dict)
    schools: dict[str, str | None] = field(default_factory=dict)

    def holds(self, path: str) -> bool:
        return self.province == "" or path == self.province or path.startswith(self.province + "/")


@dataclass(frozen=True)
class Wanted:
    """What a block needs looked up before it can be checked: codes not seen yet, and the (prefix, birth year)
    of its IDs as their first ten digits."""

    regions: list[str]
    schools: list[str]
    birth_places: list[str]


def _text(value: str | None) -> pl.Expr:
    return pl.lit(value, dtype=pl.String)


def _named(exprs: dict[str, pl.Expr]) -> list[pl.Expr]:
    return [e.alias(name) for name, e in exprs.items()]


def _date(digits: pl.Expr) -> pl.Expr:
    """The date of eight digits YYYYMMDD, or null when it does not exist (as Python's `date(y, m, d)` raising;
    year 0 included)."""
    return pl.when(digits.str.slice(0, 4) != "0000").then(digits.str.to_date("%Y%m%d", strict=False))


@dataclass(frozen=True)
class _Plan:
    """A block's checks as polars expressions (`RowChecks._steps`) for one version of the places and birth
    places a file has learnt. Building them (the places' lookups as polars Series among them) took 1.5–4 ms a
    block, more as a file names more codes; they are built again only when a block brings a new code or birth
    place (`FileChecks` replaces the dicts and the set then, never changes them in place)."""

    regions: dict[str, str | None]
    schools: dict[str, str | None]
    birth_places: frozenset[str]
    steps: tuple[list[pl.Expr], ...]

    def fits(self, places: Places, birth_places: frozenset[str]) -> bool:
        return self.regions is places.regions and self.schools is places.schools and self.birth_places is birth_places


class RowChecks:
    """The checks of a file of `kind` with these headers (as `files.cells_of` gives them), for an importer
    holding `jurisdiction` (a path; "" the nation, for a pushed-down list)."""

    def __init__(self, kind: RosterKind, headers: list[str], *, jurisdiction: str) -> None:
        self.kind, self.headers, self.jurisdiction = kind, headers, jurisdiction
        self.width = len(headers)
        self.province = jurisdiction.split("/", 1)[0]
        self.columns = {c.field: c for c in COLUMNS[kind]}
        # The cell of each of the kind's fields: the file's column with one of its headers.
        self.cell: dict[str, int] = {}
        self.header_of: dict[str, str] = {}
        for i, header in enumerate(headers):
            column = column_of_header(kind, header) if header else None
            if column is not None:
                self.cell[column.field] = i
                self.header_of[column.field] = header
        self.id_header = self.header(self.columns["national_id"])
        self.duplicate = "[" + self.problem("national_id", RosterErrorCode.DUPLICATE_IN_FILE) + "]"
        self._plan: _Plan | None = None

    def header(self, column: Column) -> str:
        return self.header_of.get(column.field, column.header)

    def problem(self, field: str, code: RosterErrorCode, zh: str | None = None, en: str | None = None) -> str:
        """A problem's JSON text, `{column, code, message}`."""
        message = f"{zh or code.zh} / {en or code.en}"
        column = self.header(self.columns[field])
        return json.dumps({"column": column, "code": code.name, "message": message}, ensure_ascii=False)

    # A block of rows.

    def frame(self, block: Block) -> pl.DataFrame:
        """The block's non-blank rows as `line`, `n` and one text column per header (a long row cut at the
        headers, a short one padded with nulls), and `short_raw`: a short row's raw cells' JSON, written here
        (they are few)."""
        if isinstance(block, Lines):
            return self._split(block)
        width = self.width
        lines = [line for line, _ in block]
        counts = [len(cells) for _, cells in block]
        full = [cells if len(cells) == width else (cells + [None] * width)[:width] for _, cells in block]
        columns = list(zip(*full, strict=True)) if full else [()] * width
        frame = pl.DataFrame([pl.Series(f"c{i}", column, dtype=pl.String) for i, column in enumerate(columns)])
        short = [self._short_raw(cells) if len(cells) < width else None for _, cells in block]
        return frame.with_columns(
            line=pl.Series(lines, dtype=pl.Int32),
            n=pl.Series(counts, dtype=pl.Int32),
            short_raw=pl.Series(short, dtype=pl.String),
        )

    def _split(self, block: Lines) -> pl.DataFrame:
        """Plain lines (`files.Lines`) split at the delimiter column-wise, the blank ones dropped: the cells
        `csv.reader` reads from them, in `frame`'s columns."""
        d = block.delimiter
        text = pl.Series("text", block.lines, dtype=pl.String).str.strip_chars_end("\r\n")  # a line's ending
        lines = pl.DataFrame([text]).with_columns(line=pl.int_range(block.first, block.first + len(block.lines)))
        # Split once and unnest (the last field: what a long row has beyond): a field taken from the split one
        # expression at a time split each line once per column, quadratic in the width (10,000 columns: 22 s).
        names = [f"c{i}" for i in range(self.width)]
        cells = pl.col("text").str.splitn(d, self.width + 1).struct.rename_fields([*names, "beyond"])
        frame = (
            lines.filter(pl.col("text").str.strip_chars(WHITE_SPACE + d) != "")  # blank rows dropped
            .select(
                cells.alias("cells"),
                pl.col("line").cast(pl.Int32),
                (pl.col("text").str.count_matches(d, literal=True) + 1).cast(pl.Int32).alias("n"),
            )
            .unnest("cells")
            .drop("beyond")
        )
        short = frame.with_row_index("i").filter(pl.col("n") < self.width)
        raws: list[str | None] = [None] * frame.height
        for row in short.iter_rows(named=True):
            raws[row["i"]] = self._short_raw([row[f"c{k}"] for k in range(row["n"])])
        return frame.with_columns(short_raw=pl.Series(raws, dtype=pl.String))

    def _short_raw(self, cells: list[str]) -> str:
        named = [(i, h) for i, h in enumerate(self.headers) if h and i < len(cells)]
        cell = [c.replace("\x00", "\ufffd") for c in cells]
        pairs = (f"{json.dumps(h, ensure_ascii=False)}:{json.dumps(cell[i], ensure_ascii=False)}" for i, h in named)
        return "{" + ",".join(pairs) + "}"

    def values(self, block: pl.DataFrame) -> pl.DataFrame:
        """Each field's trimmed value (null when empty or absent from the file) and whether its cell held a NUL
        (`z_<field>`), the ID normalised (`x`: upper case, without white space and hyphens once NFKC-folded
        unless plain), its 17 digits (`body`, 15 → 18), their check digit (`digit`), the ID in 18 characters
        (`nid`, a 15-digit one given its check digit) and the raw cells' JSON."""
        fields = sorted({c.field for c in COLUMNS[self.kind]} | {"national_id", "birth_date", "gender", "no_id_reason"})
        cells = [f"c{i}" for i in range(self.width)]
        nul = (
            bool(cells)
            and block.select(pl.any_horizontal(pl.col(cells).str.contains("\x00", literal=True)).any()).item()
        )
        exprs: list[pl.Expr] = [pl.col("line"), self._raw(nul=bool(nul)).alias("raw")]
        for f in fields:
            i = self.cell.get(f)
            if i is None:
                exprs += [_text(None).alias(f), pl.lit(False).alias(f"z_{f}")]
            else:
                trimmed = pl.col(f"c{i}").str.strip_chars(WHITE_SPACE)
                has_nul = pl.col(f"c{i}").str.contains("\x00", literal=True).fill_null(False) if nul else pl.lit(False)
                exprs += [pl.when(trimmed != "").then(trimmed).alias(f), has_nul.alias(f"z_{f}")]
        out = block.select(exprs)
        v = pl.col("national_id")
        plain = v.str.contains(r"^[0-9A-Za-z]+$")
        x = v.str.to_uppercase()
        if not out.select((plain | v.is_null()).all()).item():  # NFKC only for a block with an ID that needs it
            x = (
                pl.when(plain)
                .then(x)
                .otherwise(v.str.normalize("NFKC").str.replace_all(_WS_OR_HYPHEN, "").str.to_uppercase())
            )
        out = out.with_columns(x=x)
        x = pl.col("x")
        digits17 = (
            pl.when(x.str.contains(r"^[0-9]{15}$"))
            .then(pl.concat_str(x.str.slice(0, 6), pl.lit("19"), x.str.slice(6)))
            .when((x.str.len_chars() == 18) & x.str.contains(r"^[0-9]{17}"))
            .then(x.str.slice(0, 17))
        )
        out = out.with_columns(body=digits17)
        body = pl.col("body")
        # stdnum's check digit: the 17 digits as one base-13 number (below 13^17, inside Int64), its remainder
        # by 11 taken before doubling so the arithmetic cannot overflow.
        check = ((1 - 2 * (body.str.to_integer(base=13, strict=False) % 11)) % 11 + 11) % 11
        out = out.with_columns(
            digit=check.replace_strict(list(range(11)), list("0123456789X"), default=None, return_dtype=pl.String)
        )
        return out.with_columns(
            nid=pl.when((x.str.len_chars() == 15) & body.is_not_null()).then(body + pl.col("digit")).otherwise(x)
        )

    @staticmethod
    def national_ids(values: pl.DataFrame) -> pl.Series:
        """The block's IDs in their 18-character form, as a valid row would keep them: of every row whose ID is
        17 digits and a digit or X (a superset of the valid rows'; a NUL or any other character in the last
        place is no ID to look for, and PostgreSQL text cannot carry a NUL)."""
        nid = pl.col("nid")
        return (
            values.filter(pl.col("body").is_not_null() & nid.str.contains(r"^[0-9]{17}[0-9X]$"))
            .get_column("nid")
            .unique()
        )

    def wanted(self, values: pl.DataFrame, places: Places) -> Wanted:
        def new(field: str, known: dict[str, str | None]) -> list[str]:
            if field not in self.columns or field not in values.columns:
                return []
            codes = values.get_column(field).drop_nulls().unique().to_list()
            return [c for c in codes if c not in known]

        regions = new("household_region_code", places.regions) + new("residence_region_code", places.regions)
        pairs = values.get_column("body").drop_nulls().str.slice(0, 10).unique().to_list()
        return Wanted(sorted(set(regions)), new("school_code", places.schools), pairs)

    def check(self, values: pl.DataFrame, places: Places, birth_places: frozenset[str]) -> pl.DataFrame:
        """The block checked: `line`, `out_of_scope`, `problems` (their JSON texts joined by commas, "" for
        none), `raw` and the record's fields (as `CHECKED_COLUMNS` names them, valid or not)."""
        plan = self._plan
        if plan is None or not plan.fits(places, birth_places):
            known = Places(places.province, places.regions, places.schools)  # one version: the reading stage may learn
            plan = self._plan = _Plan(known.regions, known.schools, birth_places, self._steps(known, birth_places))
        query = values.lazy()
        for step in plan.steps[:-1]:
            query = query.with_columns(step)
        # A block of 10,000 rows: the streaming engine's set-up costs more than it saves.
        return query.select(plan.steps[-1]).collect(engine="in-memory")

    def _steps(self, places: Places, birth_places: frozenset[str]) -> tuple[list[pl.Expr], ...]:
        """The checks as polars expressions in steps (a later step reads the columns of the one before; each
        column once), the last one the checked block's columns."""
        body = pl.col("body")
        # The cell up to a space or a T (a time after it is ignored), full-width digits read as digits.
        given = pl.col("birth_date").str.replace_many(FULL_WIDTH_DIGITS, list("0123456789"))
        first = [given.str.extract(r"^([^ T]*)", 1).alias("day"), *_named(self._paths(places))]
        day = pl.col("day")
        parts = day.str.extract_groups(r"^([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})$")
        separated = pl.concat_str(
            parts.struct.field("1"), parts.struct.field("2").str.zfill(2), parts.struct.field("3").str.zfill(2)
        )
        second = [pl.when(day.str.contains(EIGHT_DIGITS)).then(day).otherwise(separated).alias("ymd")]
        genders = {k: v.value for k, v in GENDERS.items()}
        third = [
            pl.col("gender").replace_strict(genders, default=None, return_dtype=pl.String).alias("given_gender"),
            _date(pl.col("ymd")).alias("given_date"),
            _date(body.str.slice(6, 8)).alias("born"),
            self._grade().alias("grade_of"),
            self._poverty().alias("poverty_of"),
            self._registry_status().alias("registry_status_of"),
            *_named(self._scope()),
        ]
        nid = pl.col("nid")
        born = pl.col("born")
        id_problem = (
            pl.when(pl.col("national_id").is_null())
            .then(_text(None))
            .when(body.is_null())
            .then(_text("INVALID_NATIONAL_ID"))
            .when(nid.str.slice(17, 1) != pl.col("digit"))
            .then(_text("INVALID_CHECK_DIGIT"))
            .when(born.is_null() | ~body.str.slice(0, 10).is_in(list(birth_places)))
            .then(_text("INVALID_NATIONAL_ID"))
            .when(pl.col("given_date").is_not_null() & (pl.col("given_date") != born))
            .then(_text("BIRTH_DATE_MISMATCH"))
        )
        id_gender = pl.when(nid.str.slice(16, 1).is_in(list("13579"))).then(_text("MALE")).otherwise(_text("FEMALE"))
        fourth = [id_problem.alias("id_problem"), id_gender.alias("id_gender")]
        problems = pl.concat_str(
            [pl.when(c).then(_text(t)) for c, t in self._problems()], separator=",", ignore_nulls=True
        )
        valid_id = pl.col("national_id").is_not_null() & pl.col("id_problem").is_null()
        checked = [
            pl.col("line"),
            pl.col("raw"),
            pl.col("out_of_scope"),
            problems.fill_null("").alias("problems"),
            pl.col("name"),
            pl.coalesce("given_gender", "id_gender").alias("gender"),
            pl.coalesce("given_date", "born").alias("birth_date"),
            pl.when(valid_id).then(nid).alias("national_id"),
            self._field("registry_number"),
            self._field("school_code"),
            (pl.col("grade_of") if "grade" in self.columns else pl.lit(None, pl.Int32)).alias("grade"),
            self._field("household_region_code"),
            self._field("residence_region_code"),
            (pl.col("poverty_of") if "poverty_kind" in self.columns else _text(None)).alias("poverty_kind"),
            pl.when(pl.col("national_id").is_null()).then(pl.col("no_id_reason")).alias("no_id_reason"),
            (pl.col("registry_status_of") if "registry_status" in self.columns else _text(None)).alias(
                "registry_status"
            ),
            self._path("school_code").alias("school_path"),
            self._path("household_region_code").alias("household_path"),
            self._path("residence_region_code").alias("residence_path"),
        ]
        return first, second, third, fourth, checked

    # The parts of a check.

    def _field(self, field: str) -> pl.Expr:
        return (pl.col(field) if field in self.columns else _text(None)).alias(field)

    def _path(self, field: str) -> pl.Expr:
        return pl.col(f"path_{field}") if field in self.columns else _text(None)

    def _grade(self) -> pl.Expr:
        if "grade" not in self.columns:
            return pl.lit(None, pl.Int32)
        return (
            pl.col("grade")
            .str.replace_all(" ", "", literal=True)
            .replace_strict(GRADES, default=None, return_dtype=pl.Int32)
        )

    def _poverty(self) -> pl.Expr:
        if "poverty_kind" not in self.columns:
            return _text(None)
        kinds = {k: v.value for k, v in POVERTY_KINDS.items()}
        return pl.col("poverty_kind").replace_strict(kinds, default=None, return_dtype=pl.String)

    def _registry_status(self) -> pl.Expr:
        if "registry_status" not in self.columns:
            return _text(None)
        statuses = {k: v.value for k, v in REGISTRY_STATUSES.items()}
        return pl.col("registry_status").replace_strict(statuses, default=None, return_dtype=pl.String)

    def _raw(self, *, nul: bool) -> pl.Expr:
        """The row's original cells by header, as JSON in the file's order (a short row's, with only its cells, is
        `short_raw`). In a block with a NUL (`nul`), NUL is written U+FFFD."""
        named = [(i, h) for i, h in enumerate(self.headers) if h]
        if not named:
            return pl.coalesce("short_raw", _text("{}"))
        unique = len({h for _, h in named}) == len(named)
        cells = [
            (pl.col(f"c{i}").str.replace_all("\x00", "\ufffd", literal=True) if nul else pl.col(f"c{i}")).alias(
                h if unique else f"f{k}"
            )
            for k, (i, h) in enumerate(named)
        ]
        encoded = pl.struct(cells).struct.json_encode()
        if not unique:  # a header twice (an unknown column): polars writes {"f0":…,"f1":…}, then the keys become
            # the headers (a key's `,"fK":` cannot occur inside a value, where every quote is escaped)
            keys = [("{" if k == 0 else ",") + f'"f{k}":' for k in range(len(named))]
            heads = [
                ("{" if k == 0 else ",") + json.dumps(h, ensure_ascii=False) + ":" for k, (_, h) in enumerate(named)
            ]
            encoded = encoded.str.replace_many(keys, heads)
        return pl.coalesce("short_raw", encoded)

    def _paths(self, places: Places) -> dict[str, pl.Expr]:
        """Per place field of the kind, `path_<field>`: its path (the province's region or school), or null."""
        out: dict[str, pl.Expr] = {}
        for f in PLACE_FIELDS:
            if f in self.columns:
                known = places.schools if f == "school_code" else places.regions
                paths = {code: path for code, path in known.items() if path is not None}
                path = pl.col(f).replace_strict(paths, default=None, return_dtype=pl.String) if paths else _text(None)
                out[f"path_{f}"] = path
        return out

    def _scope(self) -> dict[str, pl.Expr]:
        """Per place field, whether it is unknown (no path, and not a code of another province, placed by its
        digits); and whether the row gives a place and none inside the jurisdiction (a code of another province
        never is inside, unless the importer is the nation). Over the `_paths` columns."""
        jur = self.jurisdiction
        out: dict[str, pl.Expr] = {}
        has, inside = [], []
        for f in PLACE_FIELDS:
            if f not in self.columns:
                continue
            path = pl.col(f"path_{f}")
            given = pl.col(f).is_not_null() & ~pl.col(f"z_{f}")
            if f == "school_code":
                placed = pl.lit(False)
            else:
                v = pl.col(f)
                placed = (
                    v.str.contains(r"^[0-9]+$")
                    & v.str.len_chars().is_in([2, 4, 6, 9, 12])
                    & (v.str.slice(0, 2) != self.province)
                ).fill_null(False)
            within = pl.lit(True) if jur == "" else (path == jur) | path.str.starts_with(jur + "/")
            out[f"unknown_{f}"] = (given & path.is_null() & ~placed).fill_null(False)
            has.append(given & (path.is_not_null() | placed))
            inside.append(given & ((path.is_not_null() & within) | (placed & pl.lit(jur == ""))))
        if has:
            out["out_of_scope"] = (pl.any_horizontal(has) & ~pl.any_horizontal(inside)).fill_null(False)
        else:
            out["out_of_scope"] = pl.lit(False)
        return out

    def _problems(self) -> list[tuple[pl.Expr, str]]:
        """(condition, problem) in the order a clerk reads them: text rules column by column, the place group,
        identity (gender, date, ID), places, grade, poverty kind."""
        out: list[tuple[pl.Expr, str]] = []

        def v(f: str) -> pl.Expr:
            return pl.col(f)

        for column in COLUMNS[self.kind]:
            f = column.field
            if column.required and f != "national_id":
                out.append((v(f).is_null(), self.problem(f, RosterErrorCode.REQUIRED)))
            out.append((v(f).is_not_null() & v(f"z_{f}"), self.problem(f, RosterErrorCode.INVALID_TEXT)))
            limit = None if f == "national_id" else max_length(f)
            if limit is not None:
                long = self.problem(
                    f, RosterErrorCode.TOO_LONG, f"超出最大长度 {limit}", f"longer than {limit} characters"
                )
                out.append((v(f).is_not_null() & ~v(f"z_{f}") & (v(f).str.len_chars() > limit), long))
        group = ONE_OF.get(self.kind, ())
        if group:
            either = pl.all_horizontal(v(c.field).is_null() for c in group)
            zh, en = "户籍地或现住址区划代码必填一项", "a household or residence code"
            out.append((either, self.problem(group[0].field, RosterErrorCode.REQUIRED, zh, en)))
        out.append(
            (
                v("gender").is_not_null() & v("given_gender").is_null(),
                self.problem("gender", RosterErrorCode.INVALID_GENDER),
            )
        )
        out.append(
            (
                v("birth_date").is_not_null() & v("given_date").is_null(),
                self.problem("birth_date", RosterErrorCode.INVALID_DATE),
            )
        )
        zh, en = "无身份证号时必填", "required without a national ID"
        for f in ("birth_date", "gender", "no_id_reason"):
            out.append((v("national_id").is_null() & v(f).is_null(), self.problem(f, RosterErrorCode.REQUIRED, zh, en)))
        for id_code in ("INVALID_NATIONAL_ID", "INVALID_CHECK_DIGIT", "BIRTH_DATE_MISMATCH"):
            f = "birth_date" if id_code == "BIRTH_DATE_MISMATCH" else "national_id"
            out.append((v("id_problem") == id_code, self.problem(f, RosterErrorCode[id_code])))
        mismatch = v("national_id").is_not_null() & v("id_problem").is_null() & (v("given_gender") != v("id_gender"))
        out.append((mismatch, self.problem("gender", RosterErrorCode.GENDER_MISMATCH)))
        if self.kind is not RosterKind.PUSHED:  # a pushed-down list keeps a row of unknown places: routing lists it
            for f in PLACE_FIELDS:
                if f in self.columns:
                    code = RosterErrorCode.UNKNOWN_SCHOOL if f == "school_code" else RosterErrorCode.UNKNOWN_REGION
                    out.append((v(f"unknown_{f}"), self.problem(f, code)))
        if "grade" in self.columns:
            out.append(
                (
                    v("grade").is_not_null() & v("grade_of").is_null(),
                    self.problem("grade", RosterErrorCode.INVALID_GRADE),
                )
            )
        if "poverty_kind" in self.columns:
            bad = self.problem("poverty_kind", RosterErrorCode.INVALID_POVERTY_KIND)
            out.append((v("poverty_kind").is_not_null() & v("poverty_of").is_null(), bad))
        if "registry_status" in self.columns:
            bad = self.problem("registry_status", RosterErrorCode.INVALID_REGISTRY_STATUS)
            out.append((v("registry_status").is_not_null() & v("registry_status_of").is_null(), bad))
        return [(cond.fill_null(False), text) for cond, text in out]


def known_birth_places(pairs: Sequence[str]) -> set[str]:
    """Of IDs' first ten digits (region prefix and birth year), those whose region stdnum knows for that year."""
    return {p for p in pairs if p[6:].isdigit() and 1 <= int(p[6:]) <= 9999 and birth_place_known(p[:6], int(p[6:]))}
