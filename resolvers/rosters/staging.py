"""A roster file staged: its rows read, checked, matched and written into `roster_row`, a block at a time, in the
caller's transaction (ARCHITECTURE §9).

Each block of `ROWS_PER_BLOCK` rows goes through: the cells into a polars frame and each field's value
(`RowChecks.values`, in a worker thread, the next block's while PostgreSQL writes this one); the codes and
birth places not seen yet looked up, and the children holding the block's IDs picked (the county's) or asked
for (elsewhere); the checks (`RowChecks.check`); the rows outside the jurisdiction dropped (counted, never
stored); a later row of an ID seen earlier in the file refused (`DUPLICATE_IN_FILE`); each valid row matched
(`match`); then COPY, `ROWS_PER_COPY` rows at a time. Memory stays at one block a stage (three), plus the
county's children for the match and the file's IDs seen so far (integers in a polars Series, 8 bytes an ID).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

import polars as pl
from sqlalchemy.ext.asyncio import AsyncSession

from models.repos import roster_lookups as lookups
from models.roster_import import COPY_COLUMNS

from .files import Block
from .rows import CHECKED_COLUMNS, OUT_OF_SCOPE, RECORD_FIELDS, Places, RowChecks, Wanted, known_birth_places

ROWS_PER_BLOCK = 10_000
ROWS_PER_COPY = 2_500  # a block is COPYed in parts, so the reading stage's lookups wait for a part at most
_NO_ROWS = pl.DataFrame()
T = TypeVar("T")
Q = TypeVar("Q")
P = ParamSpec("P")


@dataclass(frozen=True)
class Staged:
    rows: int  # written into roster_row
    out_of_scope: int  # refused as outside the jurisdiction: counted, never stored


class FileChecks:
    """A file's blocks checked one after another: the codes and birth places looked up as they first appear,
    the IDs seen so far for the file's doubles.

    The reading stage learns a block's places while the checking stage checks the block before: what it
    learns replaces `places`' dicts and `born_known` (never changes them in place), so a check running in its
    thread reads one consistent version."""

    def __init__(self, checks: RowChecks) -> None:
        self.checks = checks
        self.places = Places(checks.province)
        self.born_known: frozenset[str] = frozenset()
        self.born_asked: set[str] = set()
        self.seen = pl.Series("key", [], dtype=pl.Int64)  # the IDs of the file's valid rows so far, as integers

    def wanted(self, values: pl.DataFrame) -> Wanted:
        """What the block names that was not looked up yet; asks stdnum about its birth places meanwhile
        (`learn_births`: no statement)."""
        wanted = self.checks.wanted(values, self.places)
        self.learn_births(wanted.birth_places)
        return wanted

    def learn_births(self, pairs: list[str]) -> None:
        """Ask stdnum about the (region prefix, birth year) pairs not asked yet."""
        asked = [p for p in pairs if p not in self.born_asked]
        self.born_asked.update(asked)
        if known := known_birth_places(asked):
            self.born_known = self.born_known | known

    async def learn_places(self, session: AsyncSession, wanted: Wanted) -> None:
        """Look up the codes not seen yet (None: no region or school of the importer's province)."""
        places = self.places
        if wanted.regions:
            places.regions = {**places.regions, **await self._paths(session, "region", wanted.regions)}
        if wanted.schools:
            places.schools = {**places.schools, **await self._paths(session, "school", wanted.schools)}

    async def _paths(self, session: AsyncSession, table: str, codes: list[str]) -> dict[str, str | None]:
        found = await lookups.paths_of(session, table, [c for c in codes if "\x00" not in c])
        paths = {code: found.get(code) for code in codes}
        return {code: path if path is not None and self.places.holds(path) else None for code, path in paths.items()}

    async def learn(self, session: AsyncSession, values: pl.DataFrame) -> None:
        """Look up what the block names that was not looked up yet (a statement only when it names a code)."""
        wanted = self.wanted(values)
        if wanted.regions or wanted.schools:
            await self.learn_places(session, wanted)

    def check_block(self, values: pl.DataFrame) -> pl.DataFrame:
        """A block (`RowChecks.values`, its codes learnt) checked: `line`, `status` (VALID, REFUSED or
        OUT_OF_SCOPE), `problems` (JSON), `raw` and the record's fields, kept only on a valid row."""
        checked = self.checks.check(values, self.places, self.born_known)
        checked, self.seen = refuse_doubles(checked, self.seen, self.checks.duplicate)
        return checked

    async def check(self, session: AsyncSession, values: pl.DataFrame) -> pl.DataFrame:
        await self.learn(session, values)
        return await asyncio.to_thread(self.check_block, values)


async def stage_file(
    session: AsyncSession,
    import_id: int,
    province_code: str,
    blocks: Iterator[Block],
    checks: RowChecks,
    county_path: str | None,
) -> Staged:
    """Check, match and COPY every row of a file for the batch; a `RosterFileError` met while reading (a
    field too long for the reader) is raised as it comes, the caller's transaction then rolled back.

    Three stages run at once, a block apart: a worker thread reads blocks, and the reading stage looks up the
    codes a block names that were not seen yet and the children outside the county holding its IDs; another
    checks and matches them in turn, without the connection; PostgreSQL writes them, `ROWS_PER_COPY` rows a
    COPY, so a lookup waits for one part at most (the session's connection is taken by one statement at a
    time). A valid row is matched within the county as it is written: the county's children were read once,
    while the first block was, and a block's IDs that none of them holds were asked of the children elsewhere
    before its COPY."""
    file = FileChecks(checks)
    connection = asyncio.Lock()
    to_check: asyncio.Queue[tuple[pl.DataFrame, pl.DataFrame] | None] = asyncio.Queue(maxsize=1)
    to_copy: asyncio.Queue[Prepared | None] = asyncio.Queue(maxsize=1)
    totals = Prepared(_NO_ROWS, 0, 0)

    async def on_connection(statement: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T:
        """One statement at a time on the session's connection, and never cut off midway: a statement cancelled
        while PostgreSQL runs it (another stage failed: the file refused part-way) leaves the connection
        unusable, the caller's rollback included, so the cancellation waits for it. The statement is called
        once the connection is free (a stage cancelled while waiting leaves no coroutine behind)."""
        async with connection:
            return await _finished(statement(*args, **kwargs))

    async def read_county() -> tuple[pl.DataFrame, pl.DataFrame]:
        """The county's children: (national_id, id) of those with an ID, and the candidate rule's keys."""
        near = await on_connection(lookups.near_children, session, county_path)
        return near.select("national_id", "id").drop_nulls("national_id"), await _finished(
            asyncio.to_thread(candidate_keys, near)
        )

    def next_values() -> tuple[pl.DataFrame, Wanted] | None:
        block = next(blocks, None)
        if block is None:
            return None
        values = checks.values(checks.frame(block))
        return values, file.wanted(values)

    async def read() -> None:
        """Read a block, learn its places and find the children outside the county holding its IDs (on the
        connection between two COPYs, while the block before is checked: the check never waits for a COPY)."""
        while (read := await _finished(asyncio.to_thread(next_values))) is not None:
            values, wanted = read
            del read
            if wanted.regions or wanted.schools:
                await on_connection(file.learn_places, session, wanted)
            near_ids, _ = await county  # read while the first block was
            near, elsewhere = await _finished(asyncio.to_thread(_ids_held, values, near_ids))
            found = await on_connection(lookups.children_by_national_id, session, elsewhere) if elsewhere else None
            await _hand_over(to_check, (values, pl.concat([near, found]) if found is not None else near))
            del values, found  # each stage holds one block at a time (a loop variable would hold two)
        await to_check.put(None)

    async def check() -> None:
        _, candidates = await county
        while (taken := await _take(to_check)) is not None:
            values, exact = taken
            del taken
            block = await _finished(asyncio.to_thread(_checked, file, values))
            del values  # not held while the COPY before is still running
            prepared = await _finished(asyncio.to_thread(_matched, block, exact, candidates))
            del block, exact
            await _hand_over(to_copy, prepared)
            del prepared
        await to_copy.put(None)

    async def copy() -> None:
        nonlocal totals
        while (prepared := await _take(to_copy)) is not None:
            totals = totals + prepared
            await copy_parts(prepared.matched)
            del prepared

    async def copy_parts(matched: pl.DataFrame) -> None:
        """The block's COPY CSV made a part at a time, the next one while this one is written (two parts of text
        at most, not a block's); a lookup waiting for the connection waits for one part only."""

        def make(at: int) -> asyncio.Future[bytes]:
            part = matched.slice(at, ROWS_PER_COPY)  # a view: no copy
            return asyncio.ensure_future(asyncio.to_thread(block_csv, part, import_id, province_code))

        starts = range(0, matched.height, ROWS_PER_COPY)
        making = [make(at) for at in starts[:1]]
        try:
            for following in [*starts[1:], None]:
                text = await _finished(making.pop())
                if following is not None:
                    making.append(make(following))
                await on_connection(lookups.copy_rows, session, text)
                del text
        finally:
            for task in making:  # the stage cancelled: the part's text is not wanted
                task.cancel()

    try:
        async with asyncio.TaskGroup() as group:  # one failing cancels the others
            county = group.create_task(read_county())  # awaited by the reading and the checking stage
            for stage in (read, check, copy):
                group.create_task(stage())
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from failed
    return Staged(rows=totals.rows, out_of_scope=totals.out_of_scope)


@dataclass(frozen=True)
class Prepared:
    """A block ready for COPY: its rows matched, how many, and its rows out of scope (counted, never stored)."""

    matched: pl.DataFrame
    rows: int
    out_of_scope: int

    def __add__(self, other: Prepared) -> Prepared:
        return Prepared(_NO_ROWS, self.rows + other.rows, self.out_of_scope + other.out_of_scope)


def _checked(file: FileChecks, values: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """The block checked, without its rows out of scope, and how many those were."""
    checked = file.check_block(values)
    block = checked.filter(pl.col("status") != OUT_OF_SCOPE)
    return block, checked.height - block.height


def _ids_held(values: pl.DataFrame, near_ids: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    return children_holding(RowChecks.national_ids(values), near_ids)


def children_holding(ids: pl.Series, near_ids: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """Of a block's national IDs (`RowChecks.national_ids`: every well-formed one, valid or not), the county's
    children holding some, (national_id, id), and the rest, which a child elsewhere may hold. The match then
    joins the block with these few rows, not with all the county's children."""
    near = near_ids.filter(pl.col("national_id").is_in(ids.implode()))
    return near, ids.filter(~ids.is_in(near.get_column("national_id").implode())).to_list()


def _matched(checked: tuple[pl.DataFrame, int], exact: pl.DataFrame, candidates: pl.DataFrame) -> Prepared:
    block, outside = checked
    matched = match(block, exact, candidates)
    return Prepared(matched, matched.height, outside)


async def _hand_over(queue: asyncio.Queue[Q], item: Q) -> None:
    """Pass a block to the next stage and wait until it is taken: a stage holds one block at a time, so no more
    than three are in memory (about 25 MB each of the allocator's, at 10,000 rows)."""
    await queue.put(item)
    await queue.join()


async def _take(queue: asyncio.Queue[Q]) -> Q:
    item = await queue.get()
    queue.task_done()
    return item


async def _finished(work: Awaitable[T]) -> T:
    """Await a worker thread's result or a statement; if cancelled meanwhile (once or more), let it finish first,
    then raise the cancellation (a reader must not outlive its file, which the caller closes once this returns;
    a statement must not be cut off on the connection the caller rolls back)."""
    future = asyncio.ensure_future(work)
    cancelled = False
    while not future.done():
        try:
            await asyncio.shield(future)
        except asyncio.CancelledError:
            cancelled = True
        except Exception:  # the future holds it: raised below, unless cancelled
            break
    if cancelled:
        raise asyncio.CancelledError
    return future.result()


def refuse_doubles(checked: pl.DataFrame, seen: pl.Series, duplicate: str) -> tuple[pl.DataFrame, pl.Series]:
    """Status and problems of each row, the record's fields kept only on a valid row: a row outside the
    jurisdiction is OUT_OF_SCOPE; one with problems REFUSED; so is a later row of a national ID an earlier row
    of the file had valid (the first one keeps it). `seen`: the keys of the IDs the file's earlier rows had
    valid; returned with this block's added (8 bytes an ID, kept by polars: a Python set took about 60)."""
    nid = pl.col("national_id")
    eligible = nid.is_not_null() & (pl.col("problems") == "") & ~pl.col("out_of_scope")
    # The ID as one integer: its 17 digits, then the check character (X is 10).
    last = pl.when(nid.str.slice(17, 1) == "X").then(10).otherwise(nid.str.slice(17, 1).cast(pl.Int64, strict=False))
    keys = checked.select(pl.when(eligible).then(nid.str.slice(0, 17).cast(pl.Int64) * 11 + last).alias("key"))
    key = pl.col("key")
    double = (key.is_not_null() & (key.is_in(seen.implode()) | ~key.is_first_distinct())).alias("double")
    doubles = keys.select(key, double)
    seen = pl.concat([seen, doubles.filter(key.is_not_null() & ~pl.col("double")).get_column("key")])
    checked = checked.with_columns(doubles.get_column("double"))
    valid = (pl.col("problems") == "") & ~pl.col("double") & ~pl.col("out_of_scope")
    return checked.select(
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
    ), seen


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


def match(block: pl.DataFrame, exact: pl.DataFrame, candidates: pl.DataFrame) -> pl.DataFrame:
    """Each valid row's match: EXACT to the child holding its national ID (`exact`: the children, of the county
    or elsewhere, holding the block's IDs); else CANDIDATE when exactly one child of the county fits its
    name, birth date and gender (`candidate_child_id`, for a person to confirm or reject); else NEW. The same
    rules as `roster_staging.match_exact` and `match_candidates`, which the tests hold them to."""
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


def block_csv(matched: pl.DataFrame, import_id: int, province_code: str) -> bytes:
    """The block as COPY's CSV in `roster_lookups.COPY_SQL`'s columns (null an unquoted empty field), UTF-8."""
    batch = {"import_id": pl.lit(import_id), "province_code": pl.lit(province_code)}
    columns = (*COPY_COLUMNS, *lookups.MATCH_COLUMNS)
    out = io.BytesIO()
    matched.select(batch[c].alias(c) if c in batch else pl.col(c) for c in columns).write_csv(out, include_header=False)
    return out.getvalue()
