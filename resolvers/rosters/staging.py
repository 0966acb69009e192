"""A roster file staged: its rows read, checked, matched and written into `roster_row`, a block at a time, in the
caller's transaction (ARCHITECTURE §9).

Each block of `ROWS_PER_BLOCK` rows goes through: the cells into a polars frame and each field's value
(`RowChecks.values`, in a worker thread, the next block's while PostgreSQL writes this one); the codes and
birth places not seen yet looked up; the checks (`RowChecks.check`); the rows outside the jurisdiction dropped
(counted, never stored); a later row of an ID seen earlier in the file refused (`DUPLICATE_IN_FILE`); each valid
row matched (`match`); then one COPY. Memory stays at a block, plus the county's children for the candidate
rule and the file's IDs seen so far (a set of integers, about 60 bytes an ID).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

import polars as pl
from sqlalchemy.ext.asyncio import AsyncSession

from models.repos import roster_lookups as lookups
from models.roster_import import COPY_COLUMNS

from .rows import CHECKED_COLUMNS, OUT_OF_SCOPE, RECORD_FIELDS, Places, RowChecks, known_birth_places

ROWS_PER_BLOCK = 10_000


@dataclass(frozen=True)
class Staged:
    rows: int  # written into roster_row
    out_of_scope: int  # refused as outside the jurisdiction: counted, never stored


class FileChecks:
    """A file's blocks checked one after another: the codes and birth places looked up as they first appear,
    the IDs seen so far for the file's doubles."""

    def __init__(self, checks: RowChecks) -> None:
        self.checks = checks
        self.places = Places(checks.province)
        self.born_known: set[str] = set()
        self.born_asked: set[str] = set()
        self.seen: set[int] = set()

    async def check(self, session: AsyncSession, values: pl.DataFrame) -> pl.DataFrame:
        """A block (`RowChecks.values`) checked: `line`, `status` (VALID, REFUSED or OUT_OF_SCOPE), `problems` (JSON),
        `raw` and the record's fields, kept only on a valid row."""
        wanted = self.checks.wanted(values, self.places)
        await _learn_places(session, self.places, wanted.regions, wanted.schools)
        asked = [p for p in wanted.birth_places if p not in self.born_asked]
        self.born_asked.update(asked)
        self.born_known |= known_birth_places(asked)
        checked = await asyncio.to_thread(self.checks.check, values, self.places, self.born_known)
        return refuse_doubles(checked, self.seen, self.checks.duplicate)


async def stage_file(
    session: AsyncSession,
    import_id: int,
    province_code: str,
    rows: Iterator[tuple[int, list[str]]],
    checks: RowChecks,
    county_path: str | None,
) -> Staged:
    """Check, match and COPY every row of a file for the batch; a `RosterFileError` met while reading (a
    field too long for the reader) is raised as it comes, the caller's transaction then rolled back."""
    file = FileChecks(checks)
    near = await lookups.near_children(session, county_path)
    candidates = candidate_keys(near)
    written = dropped = 0

    def next_values() -> pl.DataFrame | None:
        block = list(islice(rows, ROWS_PER_BLOCK))
        return checks.values(checks.frame(block)) if block else None

    ahead = asyncio.ensure_future(asyncio.to_thread(next_values))
    try:
        while (values := await ahead) is not None:
            ahead = asyncio.ensure_future(asyncio.to_thread(next_values))
            checked = await file.check(session, values)
            block = checked.filter(pl.col("status") != OUT_OF_SCOPE)
            dropped += checked.height - block.height
            exact = await _exact(session, block, near)
            matched = match(block, exact, candidates)
            csv_text = await asyncio.to_thread(_csv, matched, import_id, province_code)
            await lookups.copy_rows(session, csv_text)
            written += matched.height
    finally:
        if not ahead.done():
            ahead.cancel()
        await asyncio.gather(ahead, return_exceptions=True)  # the reader's thread ends before the file closes
    return Staged(rows=written, out_of_scope=dropped)


async def _learn_places(session: AsyncSession, places: Places, regions: list[str], schools: list[str]) -> None:
    """Look up the codes not seen yet (None: no region or school of the importer's province)."""
    for table, codes, known in (("region", regions, places.regions), ("school", schools, places.schools)):
        found = await lookups.paths_of(session, table, [c for c in codes if "\x00" not in c])
        for code in codes:
            path = found.get(code)
            known[code] = path if path is not None and places.holds(path) else None


def refuse_doubles(checked: pl.DataFrame, seen: set[int], duplicate: str) -> pl.DataFrame:
    """Status and problems of each row, the record's fields kept only on a valid row: a row outside the
    jurisdiction is OUT_OF_SCOPE; one with problems REFUSED; so is a later row of a national ID an earlier row
    of the file had valid (the first one keeps it)."""
    ids = checked.get_column("national_id").to_list()
    clean = checked.get_column("problems").to_list()
    outside = checked.get_column("out_of_scope").to_list()
    doubles = []
    for national_id, problems, out in zip(ids, clean, outside, strict=True):
        if national_id is None or problems or out:
            doubles.append(False)
            continue
        key = int(national_id[:17]) * 11 + (10 if national_id[17] == "X" else int(national_id[17]))
        doubles.append(key in seen)
        seen.add(key)
    double = pl.Series("double", doubles, dtype=pl.Boolean)
    valid = (pl.col("problems") == "") & ~pl.col("double") & ~pl.col("out_of_scope")
    return checked.with_columns(double).select(
        "line",
        pl.when(pl.col("out_of_scope"))
        .then(pl.lit(OUT_OF_SCOPE))
        .when(valid)
        .then(pl.lit("VALID"))
        .otherwise(pl.lit("REFUSED"))
        .alias("status"),
        pl.when(pl.col("problems") != "")
        .then(pl.concat_str(pl.lit("["), pl.col("problems"), pl.lit("]")))
        .when(pl.col("double"))
        .then(pl.lit(duplicate))
        .otherwise(pl.lit("[]"))
        .alias("problems"),
        "raw",
        *(pl.when(valid).then(pl.col(f)).alias(f) for f in RECORD_FIELDS),
    )


def candidate_keys(near: pl.DataFrame) -> pl.DataFrame:
    """The county's children by (name, birth date, gender): how many there are and the first id, of all of them
    (for a row without an ID) and of those without an ID (for a row with one: a child whose ID differs is someone
    else)."""
    no_id = pl.col("national_id").is_null()
    return near.group_by("name", "birth_date", "gender").agg(
        pl.len().alias("n_all"),
        pl.col("id").min().alias("id_all"),
        no_id.sum().alias("n_no_id"),
        pl.col("id").filter(no_id).min().alias("id_no_id"),
    )


async def _exact(session: AsyncSession, block: pl.DataFrame, near: pl.DataFrame) -> pl.DataFrame:
    """(national_id, id) of the children holding the valid rows' IDs: the county's from `near`, the others asked."""
    ids = block.filter(pl.col("status") == "VALID").select(pl.col("national_id").drop_nulls())
    local = ids.join(near.select("national_id", "id").drop_nulls("national_id"), on="national_id", how="inner")
    missing = ids.join(local, on="national_id", how="anti").get_column("national_id").to_list()
    elsewhere = await lookups.children_by_national_id(session, missing)
    return pl.concat([local, elsewhere])


def match(block: pl.DataFrame, exact: pl.DataFrame, candidates: pl.DataFrame) -> pl.DataFrame:
    """Each valid row's match: EXACT to the child holding its national ID; else CANDIDATE when exactly one child
    of the county fits its name, birth date and gender (`candidate_child_id`, for a person to confirm or reject);
    else NEW. The same rules as `roster_staging.match_exact` and `match_candidates`, which the tests hold it to."""
    joined = block.join(exact.rename({"id": "exact_id"}), on="national_id", how="left").join(
        candidates, on=["name", "birth_date", "gender"], how="left"
    )
    n = pl.when(pl.col("national_id").is_null()).then(pl.col("n_all")).otherwise(pl.col("n_no_id")).fill_null(0)
    fit = pl.when(pl.col("national_id").is_null()).then(pl.col("id_all")).otherwise(pl.col("id_no_id"))
    valid = pl.col("status") == "VALID"
    exact_id = pl.col("exact_id")
    return joined.select(
        *CHECKED_COLUMNS,
        pl.when(valid).then(exact_id).alias("child_id"),
        pl.when(~valid)
        .then(pl.lit(None, pl.String))
        .when(exact_id.is_not_null())
        .then(pl.lit("EXACT"))
        .when(n == 1)
        .then(pl.lit("CANDIDATE"))
        .otherwise(pl.lit("NEW"))
        .alias("match"),
        pl.when(valid & exact_id.is_null() & (n == 1)).then(fit).alias("candidate_child_id"),
    ).sort("line")


def _csv(matched: pl.DataFrame, import_id: int, province_code: str) -> str:
    """The block as COPY's CSV in `roster_lookups.COPY_SQL`'s columns (null an unquoted empty field)."""
    batch = {"import_id": pl.lit(import_id), "province_code": pl.lit(province_code)}
    columns = (*COPY_COLUMNS, *lookups.MATCH_COLUMNS)
    return matched.select(batch[c].alias(c) if c in batch else pl.col(c) for c in columns).write_csv(
        include_header=False
    )
