"""Roster imports below the use cases (models/repos/roster_imports.py, ARCHITECTURE §9): rows staged with COPY,
matched exactly or as candidates and never merged, one live batch per file (ARCHITECTURE §12), counts, scope.
Rows are plain dicts, as the roster reader will hand them over."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import polars as pl
import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, or_

from models.child import Child, Gender
from models.region import path_of_code
from models.repos import roster_imports as repo
from models.repos import roster_lookups, roster_staging
from models.repos.paths import within_path
from models.roster_import import ImportStatus, RosterImport, RosterRow, RowMatch, RowStatus
from resolvers.rosters import staging
from resolvers.rosters.rows import CHECKED_COLUMNS
from tests.factories import make_child
from tests.ledger_support import WUDING, WUDING_PRIMARY, WUDING_VILLAGE, YUANMOU, YUANMOU_VILLAGE

WUDING_PATH = path_of_code(WUDING)
YUANMOU_PATH = path_of_code(YUANMOU)


def file_hash() -> str:
    return hashlib.sha256(uuid.uuid4().bytes).hexdigest()


async def create(session: AsyncSession, *, sha256: str | None = None, kind: str = "HOUSEHOLD") -> RosterImport | None:
    return await repo.create_import(
        session, kind=kind, jurisdiction_code=WUDING, jurisdiction_path=WUDING_PATH, as_of=date(2026, 9, 1),
        file_name="532329-household.csv", file_sha256=sha256 or file_hash(), size_bytes=1234,
        created_by="edu-county-532329",
    )  # fmt: skip


async def new_batch(session: AsyncSession, *, sha256: str | None = None, kind: str = "HOUSEHOLD") -> RosterImport:
    batch = await create(session, sha256=sha256, kind=kind)
    assert batch is not None
    return batch


def roster_row(line: int, **fields: Any) -> dict[str, Any]:
    """A valid household row of 狮山村 (the reader's output shape), overridden by `fields`."""
    village = path_of_code(WUDING_VILLAGE)
    row: dict[str, Any] = {
        "line": line, "status": RowStatus.VALID, "problems": [],
        "raw": {"姓名": fields.get("name", f"儿童{line}"), "性别": "男", "出生日期": "2017-05-12"},
        "name": f"儿童{line}", "gender": Gender.MALE, "birth_date": date(2017, 5, 12),
        "household_region_code": WUDING_VILLAGE, "residence_region_code": WUDING_VILLAGE,
        "household_path": village, "residence_path": village,
    }  # fmt: skip
    row.update(fields)
    return row


async def rows_of(session: AsyncSession, batch: RosterImport) -> dict[int, RosterRow]:
    found = await session.scalars(select(RosterRow).where(col(RosterRow.import_id) == batch.id))
    return {r.line: r for r in found}


async def test_copy_lands_thousands_of_rows_with_their_problems_and_raw_cells_intact(session):
    batch = await new_batch(session)
    problem = {
        "column": "公民身份号码",
        "code": "INVALID_CHECK_DIGIT",
        "message": "身份证号校验位错误 / the check digit",
    }

    def generated() -> Iterator[dict[str, Any]]:  # stage_rows never needs the whole list
        for line in range(2, 3002):
            if line % 10 == 0:
                raw = {
                    "姓名": f"错行{line}",
                    "公民身份号码": "53232920170512001X",
                    "备注": 'a "quote", a\ttab\nand\x00',
                }
                yield {"line": line, "status": RowStatus.REFUSED, "problems": [problem], "raw": raw}
            else:
                yield roster_row(line, grade=3, school_code=WUDING_PRIMARY)

    assert await roster_staging.stage_rows(session, batch.id, generated()) == 3000
    rows = await rows_of(session, batch)
    assert len(rows) == 3000
    assert rows[2].status == RowStatus.VALID
    assert rows[2].name == "儿童2"
    assert rows[2].gender == Gender.MALE
    assert rows[2].raw == {"姓名": "儿童2", "性别": "男", "出生日期": "2017-05-12"}
    assert rows[2].problems == []
    assert rows[2].match is None
    assert rows[2].province_code == "53"
    assert rows[2].birth_date == date(2017, 5, 12)
    assert rows[2].grade == 3
    assert rows[2].household_path == path_of_code(WUDING_VILLAGE)
    refused = rows[3000]
    assert (refused.status, refused.name, refused.household_path) == (RowStatus.REFUSED, None, None)
    assert refused.problems == [problem]
    # PostgreSQL cannot store NUL: the cell keeps its place with U+FFFD.
    assert refused.raw == {
        "姓名": "错行3000",
        "公民身份号码": "53232920170512001X",
        "备注": 'a "quote", a\ttab\nand\ufffd',
    }

    downloaded = [r async for r in repo.refused_rows(session, batch.id, chunk=50)]
    assert [r.line for r in downloaded] == list(range(10, 3002, 10))
    assert downloaded[-1].problems == [problem]
    assert downloaded[-1].raw == refused.raw


async def test_a_row_with_a_demo_childs_national_id_matches_that_child_exactly(session):
    child = (
        await session.scalars(
            select(Child).where(
                col(Child.national_id).is_not(None), within_path(col(Child.household_path), WUDING_PATH)
            )
        )
    ).first()
    assert child is not None, "the demo seeds children of 武定县 with national IDs"
    batch = await new_batch(session)
    staged = [roster_row(2, national_id=child.national_id, name=child.name), roster_row(3, national_id=None)]
    await roster_staging.stage_rows(session, batch.id, staged)

    assert await roster_staging.match_exact(session, batch.id) == 1
    rows = await rows_of(session, batch)
    assert (rows[2].child_id, rows[2].match) == (child.id, RowMatch.EXACT)
    assert (rows[3].child_id, rows[3].match) == (None, None)


async def test_a_single_child_of_the_county_with_the_same_name_birth_and_gender_is_a_candidate(session):
    birth = date(2016, 3, 4)
    known = await make_child(session, name="候选甲", birth_date=birth, gender=Gender.FEMALE)
    # Same facts, but registered and living in the neighbouring county: not a candidate for 武定.
    await make_child(
        session, village=YUANMOU_VILLAGE, school=None, name="候选乙", birth_date=birth, gender=Gender.FEMALE
    )
    batch = await new_batch(session)
    staged = [
        roster_row(2, name="候选甲", birth_date=birth, gender=Gender.FEMALE),  # no ID on the roster
        roster_row(3, name="候选甲", birth_date=birth, gender=Gender.MALE),  # another gender
        roster_row(4, name="候选乙", birth_date=birth, gender=Gender.FEMALE),  # only in 元谋
        roster_row(5, status=RowStatus.REFUSED, name="候选甲", birth_date=birth, gender=Gender.FEMALE),
    ]
    await roster_staging.stage_rows(session, batch.id, staged)

    assert await roster_staging.match_exact(session, batch.id) == 0
    assert await roster_staging.match_candidates(session, batch.id, WUDING_PATH) == 1
    rows = await rows_of(session, batch)
    assert (rows[2].match, rows[2].candidate_child_id, rows[2].child_id) == (RowMatch.CANDIDATE, known.id, None)
    assert (rows[3].match, rows[3].candidate_child_id) == (RowMatch.NEW, None)
    assert (rows[4].match, rows[4].candidate_child_id) == (RowMatch.NEW, None)
    assert rows[5].match is None  # refused rows are never matched
    # Nothing merged: the child is as it was.
    assert await session.scalar(select(Child.version).where(col(Child.id) == known.id)) == known.version


async def test_two_children_fitting_the_row_make_it_new_and_a_different_id_is_someone_else(session):
    birth = date(2015, 11, 30)
    await make_child(session, name="同名丙", birth_date=birth)
    await make_child(session, name="同名丙", birth_date=birth, residence=WUDING_VILLAGE, school=None)
    lone = await make_child(session, name="单名丁", birth_date=birth)
    batch = await new_batch(session)
    other_id = "532329201511300999"  # not a child's: no exact match, and it is not `lone`'s either
    staged = [roster_row(2, name="同名丙", birth_date=birth), roster_row(3, name="单名丁", birth_date=birth)]
    staged.append(roster_row(4, name="单名丁", birth_date=birth, national_id=other_id))
    await roster_staging.stage_rows(session, batch.id, staged)

    await roster_staging.match_exact(session, batch.id)
    assert await roster_staging.match_candidates(session, batch.id, WUDING_PATH) == 1
    rows = await rows_of(session, batch)
    assert (rows[2].match, rows[2].candidate_child_id) == (RowMatch.NEW, None)
    assert (rows[3].match, rows[3].candidate_child_id) == (RowMatch.CANDIDATE, lone.id)
    assert (rows[4].match, rows[4].candidate_child_id) == (RowMatch.NEW, None)


async def test_the_same_file_is_live_once_per_jurisdiction_and_kind_until_discarded(session):
    sha = file_hash()
    first = await new_batch(session, sha256=sha)
    # The index refuses a second live batch outright...
    with pytest.raises(IntegrityError, match="ux_roster_import_live_file"):
        async with session.begin_nested():
            session.add(RosterImport(**first.model_dump(exclude={"id", "created_by"}), created_by="gov-county-532329"))
    # ...and create_import answers None, the live batch being the one to name.
    assert await create(session, sha256=sha) is None
    assert (await repo.find_live_duplicate(session, WUDING_PATH, "HOUSEHOLD", sha)) == first
    # Another kind of roster with the same bytes is another batch.
    assert (await new_batch(session, sha256=sha, kind="POVERTY")).id != first.id

    first.status = ImportStatus.DISCARDED
    await session.flush()
    assert await repo.find_live_duplicate(session, WUDING_PATH, "HOUSEHOLD", sha) is None
    again = await new_batch(session, sha256=sha)
    assert again.id != first.id
    assert again.status == ImportStatus.STAGED


async def test_many_batches_on_one_connection_are_each_staged_and_a_repeat_still_named(session):
    # psycopg prepares a statement on its sixth run on a connection and PostgreSQL plans it generically
    # after five more, as on a server's pooled connection after ten uploads: the partial unique index must
    # still decide (it once failed: "no unique or exclusion constraint matching the ON CONFLICT specification").
    hashes = [file_hash() for _ in range(16)]
    batches = [await new_batch(session, sha256=sha) for sha in hashes]
    assert len({b.id for b in batches}) == 16
    assert await create(session, sha256=hashes[-1]) is None


INSERT_BATCH = text(
    "INSERT INTO roster_import (kind, jurisdiction_code, jurisdiction_path, as_of, file_name, file_sha256, size_bytes,"
    " status, rows_read, rows_valid, rows_refused, rows_matched, rows_new, created_by, province_code)"
    " VALUES ('HOUSEHOLD', :code, :path, '2026-09-01', 'a.csv', :sha, 1, 'STAGED', 0, 0, 0, 0, 0, :by, '53')"
)


async def test_two_sessions_staging_the_same_file_at_once_have_exactly_one_winner(engine):
    sha = file_hash()
    params = {"code": WUDING, "path": WUDING_PATH, "sha": sha}
    try:
        async with engine.connect() as first, engine.connect() as second:
            await first.execute(INSERT_BATCH, {**params, "by": "first"})
            losing = asyncio.create_task(second.execute(INSERT_BATCH, {**params, "by": "second"}))
            await asyncio.sleep(0.3)
            assert not losing.done(), "the second insert waits on the unique index for the first to decide"
            await first.commit()
            with pytest.raises(IntegrityError, match="ux_roster_import_live_file"):
                await losing
            await second.rollback()
            # The use case's path: create_import loses quietly and the winner is the batch to name.
            async with AsyncSession(second) as late:
                assert await create(late, sha256=sha) is None
                winner = await repo.find_live_duplicate(late, WUDING_PATH, "HOUSEHOLD", sha)
                assert winner is not None
                assert winner.created_by == "first"
            await second.rollback()
    finally:
        async with engine.begin() as conn:
            await conn.execute(delete(RosterImport).where(col(RosterImport.file_sha256) == sha))


async def test_counts_are_written_onto_the_batch(session):
    known = await make_child(session, name="计数戊")
    batch = await new_batch(session)
    version = batch.version
    staged = [
        roster_row(2, national_id=known.national_id, name="计数戊"),  # matched
        roster_row(3, name="计数戊", birth_date=known.birth_date),  # candidate
        roster_row(4, name="无人己"),  # new
        roster_row(5, name="无人庚"),  # new
        {"line": 6, "status": RowStatus.REFUSED, "problems": [], "raw": {}},
    ]
    await roster_staging.stage_rows(session, batch.id, staged)
    await roster_staging.match_exact(session, batch.id)
    await roster_staging.match_candidates(session, batch.id, WUDING_PATH)

    counts = await repo.count_rows(session, batch.id)
    assert counts == repo.RosterCounts(read=5, valid=4, refused=1, matched=1, new=2)
    await session.refresh(batch)
    assert (batch.rows_read, batch.rows_valid, batch.rows_refused, batch.rows_matched, batch.rows_new) == (
        5, 4, 1, 1, 2,
    )  # fmt: skip
    assert batch.version == version + 1


def scope_of(path: str, columns: dict[str, list[Any]]) -> Any:
    """The predicate authz would compile for grants at `path` on both lines."""
    return or_(*(within_path(c, path) for cols in columns.values() for c in cols))


async def test_lists_take_the_scope_they_are_given_and_another_county_sees_nothing(session):
    batch = await new_batch(session)
    yuanmou_row = roster_row(3, household_region_code=YUANMOU_VILLAGE, household_path=path_of_code(YUANMOU_VILLAGE))
    yuanmou_row["residence_path"] = path_of_code(YUANMOU_VILLAGE)
    await roster_staging.stage_rows(
        session, batch.id, [roster_row(2), yuanmou_row, roster_row(4, status=RowStatus.REFUSED)]
    )

    def rows_in(path: str, **filters: Any) -> Any:
        scope = scope_of(path, repo.ROW_SCOPE_COLUMNS)
        return repo.list_rows(session, import_id=batch.id, scope=scope, limit=10, **{"after": None, **filters})

    def batches_in(path: str) -> Any:
        scope = scope_of(path, repo.IMPORT_SCOPE_COLUMNS)
        return repo.list_imports(session, scope=scope, after=str(batch.id - 1), limit=10)

    wuding = await rows_in(WUDING_PATH)
    assert [r.line for r in wuding.rows] == [2, 4]
    assert wuding.total == 2
    assert [r.line for r in (await rows_in(YUANMOU_PATH)).rows] == [3]
    assert [r.line for r in (await rows_in(WUDING_PATH, status=RowStatus.REFUSED, after="2")).rows] == [4]
    assert [b.id for b in (await batches_in(WUDING_PATH)).rows] == [batch.id]
    other = await batches_in(YUANMOU_PATH)
    assert other.rows == []
    assert other.total == 0


async def test_rows_may_come_from_an_async_reader_and_only_for_a_batch_that_exists(session):
    batch = await new_batch(session)

    async def read() -> Any:
        for line in range(2, 52):
            yield roster_row(line)

    assert await roster_staging.stage_rows(session, batch.id, read()) == 50
    assert len(await rows_of(session, batch)) == 50
    with pytest.raises(LookupError):
        await roster_staging.stage_rows(session, batch.id + 1_000_000, [roster_row(2)])


async def _write_as_the_import_does(session: AsyncSession, batch: RosterImport, rows: list[dict[str, Any]]) -> None:
    """Parsed rows matched and written as `staging.stage_file` writes each block: matched within the county in
    polars (`staging.match`) against the children holding the block's IDs, the county's (`children_holding`)
    and those elsewhere."""
    near = await roster_lookups.near_children(session, WUDING_PATH)
    fields = [c for c in CHECKED_COLUMNS if c not in ("line", "status", "problems", "raw")]
    block = pl.DataFrame(
        {
            "line": [r["line"] for r in rows],
            "status": [str(r["status"]) for r in rows],
            "problems": [json.dumps(r["problems"]) for r in rows],
            "raw": [json.dumps(r["raw"], ensure_ascii=False) for r in rows],
            **{f: [str(r[f]) if isinstance(r.get(f), Gender) else r.get(f) for r in rows] for f in fields},
        },
        schema_overrides={"grade": pl.Int32, "birth_date": pl.Date},
    )
    ids = pl.Series([r["national_id"] for r in rows if r.get("national_id")], dtype=pl.String).unique()
    held, others = staging.children_holding(ids, near.select("national_id", "id").drop_nulls())
    exact = pl.concat([held, await roster_lookups.children_by_national_id(session, others)])
    matched = staging.match(block, exact, staging.candidate_keys(near))
    await roster_lookups.copy_rows(session, staging.block_csv(matched, batch.id, "53"))


async def test_the_imports_matching_gives_what_the_sql_rules_give(session):
    """The import's matching (each block matched in polars as it is written, children elsewhere after) against
    `stage_rows` + `match_exact` + `match_candidates`, over every case of the tests above, and twice in one
    transaction."""
    birth = date(2016, 3, 4)
    known = await make_child(session, name="同路甲", birth_date=birth, gender=Gender.FEMALE)
    await make_child(session, village=YUANMOU_VILLAGE, school=None, name="同路乙", birth_date=birth)
    await make_child(session, name="同路丙", birth_date=birth)
    await make_child(session, name="同路丙", birth_date=birth, residence=WUDING_VILLAGE, school=None)
    staged = [
        roster_row(2, national_id=known.national_id, name="同路甲", birth_date=birth, gender=Gender.FEMALE),
        roster_row(3, name="同路甲", birth_date=birth, gender=Gender.FEMALE),  # candidate: no ID
        roster_row(4, name="同路甲", birth_date=birth, gender=Gender.MALE),  # new: another gender
        roster_row(5, name="同路乙", birth_date=birth),  # new: only in 元谋
        roster_row(6, name="同路丙", birth_date=birth),  # new: two fit
        roster_row(7, name="同路甲", birth_date=birth, gender=Gender.FEMALE, national_id="532329201603040999"),
        roster_row(8, status=RowStatus.REFUSED, national_id=known.national_id, name="同路甲", birth_date=birth),
    ]
    before = await new_batch(session)
    await roster_staging.stage_rows(session, before.id, staged)
    await roster_staging.match_exact(session, before.id)
    await roster_staging.match_candidates(session, before.id, WUDING_PATH)
    for _ in range(2):
        batch = await new_batch(session)
        await _write_as_the_import_does(session, batch, staged)
        expected, got = await rows_of(session, before), await rows_of(session, batch)
        for line, row in expected.items():
            fields = ("status", "match", "child_id", "candidate_child_id", "name", "raw", "household_path")
            assert [getattr(got[line], f) for f in fields] == [getattr(row, f) for f in fields], line
    assert (got[2].match, got[2].child_id) == (RowMatch.EXACT, known.id)
    assert (got[3].match, got[3].candidate_child_id) == (RowMatch.CANDIDATE, known.id)
    assert [got[n].match for n in (4, 5, 6, 7, 8)] == [RowMatch.NEW] * 4 + [None]
    assert await repo.count_rows(session, batch.id) == repo.RosterCounts(read=7, valid=6, refused=1, matched=1, new=4)


async def test_the_countys_children_read_in_several_texts_are_all_of_them(session):
    """The match reads the county's children as several CSV texts, not one (libpq keeps its input buffer as large
    as the largest message a pooled connection received: one text of a county's children left 8 MB in each):
    in texts of two children, the same children, names with quotes and commas included, as in one text."""
    for day in range(1, 6):
        await make_child(session, name=f'引"号,{day}', birth_date=date(2016, 1, day))
    bounds = {"county": WUDING_PATH, "county_end": WUDING_PATH + "0"}
    whole = await roster_lookups.near_children(session, WUDING_PATH, per_text=1_000_000)
    parts = await roster_lookups.near_children(session, WUDING_PATH, per_text=2)
    texts = (await session.scalars(text(roster_lookups.NEAR_CSV_SQL), {**bounds, "per_text": 2})).all()
    assert whole.height >= 5
    assert len(texts) == whole.height // 2 + 1
    assert parts.sort("id").equals(whole.sort("id"))
    assert set(whole.get_column("name")) >= {f'引"号,{day}' for day in range(1, 6)}
