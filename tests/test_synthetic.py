"""`baoxue seed synthetic` at a small scale: shares, shape, valid IDs, determinism, refusal, scoped reads."""

from __future__ import annotations

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel
from stdnum.cn import ric

import models  # noqa: F401  (every table on the metadata)
from baoxue.app import create_app
from baoxue.cli import main
from baoxue.database import migrate
from datagen.synthetic.people import BIRTH_DIGITS, check_digit
from datagen.synthetic.places import PROVINCE_CODES, real_divisions
from tests.conftest import gql, make_settings, token_for
from tests.test_child_counts import KEPT, RECOUNT, as_dict
from tests.test_list_counts import PAIRS
from tests.test_list_counts import as_dict as keyed

CHILDREN = 3000
TABLES = {  # what must come out byte-identical for the same seed (the password hash is salted: left out)
    "region": "SELECT md5(string_agg(t::text, '|' ORDER BY code)) FROM region t",
    "school": "SELECT md5(string_agg(t::text, '|' ORDER BY code)) FROM school t",
    "child": "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM child t",
    "guardian": "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM guardian t",
    "ledger_entry": "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM ledger_entry t",
    "persuasion_visit": "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM persuasion_visit t",
    "role_grant": "SELECT md5(string_agg((scope_path, role, account_id)::text, '|' ORDER BY id)) FROM role_grant",
}
ENTRIES = """query($f: LedgerEntryFilter) { ledgerEntries(filter: $f, first: 100) {
  totalCount edges { node { responsibleRegionCode schoolCode ledger status } } } }"""


def _rows(url: str, sql: str, **params: object) -> list[tuple[object, ...]]:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text(sql), params)]
    engine.dispose()
    return rows


def _scalar(url: str, sql: str) -> object:
    return _rows(url, sql)[0][0]


def _seeded(databases, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    url = databases.create("synthetic")
    migrate(url)
    monkeypatch.setenv("DATABASE_URL", url)
    main(["seed", "synthetic", "--children", str(CHILDREN), *args])
    return url


@pytest.fixture(scope="module")
def synthetic_db(databases):
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield _seeded(databases, monkeypatch, "--seed", "7")


def test_the_counts_and_shares_follow_the_demo(synthetic_db):
    share = dict(
        _rows(
            synthetic_db,
            """
            SELECT 'out_of_school', avg((school_code IS NULL)::int) FROM child
            UNION ALL SELECT 'migrant', avg(('MIGRANT' = ANY(special_groups))::int) FROM child
            UNION ALL SELECT 'suspected', count(*) FILTER (WHERE ledger = 'SUSPECTED' AND status <> 'CLOSED')
                                          / (SELECT count(*) FROM child)::numeric FROM ledger_entry
            UNION ALL SELECT 'dropout', count(*) FILTER (WHERE ledger = 'DROPOUT' AND status <> 'CLOSED')
                                        / (SELECT count(*) FROM child)::numeric FROM ledger_entry
            """,
        )
    )
    assert _scalar(synthetic_db, "SELECT count(*) FROM child") == CHILDREN
    assert _scalar(synthetic_db, "SELECT count(*) FROM guardian") == CHILDREN
    assert 0.004 <= share["out_of_school"] <= 0.02
    assert 0.05 <= share["migrant"] <= 0.09
    assert 0.015 <= share["suspected"] <= 0.035
    assert 0.003 <= share["dropout"] <= 0.014
    open_cases, visited = _rows(
        synthetic_db,
        """SELECT count(*), count(*) FILTER (WHERE last_visit_on IS NOT NULL) FROM ledger_entry
           WHERE status <> 'CLOSED'""",
    )[0]
    assert visited > 0.7 * open_cases  # type: ignore[operator]
    categories = _scalar(synthetic_db, "SELECT count(DISTINCT category) FROM ledger_entry WHERE ledger = 'DROPOUT'")
    assert categories >= 5  # type: ignore[operator]


def test_every_county_has_schools_of_both_stages_and_children_sit_in_storage_order(synthetic_db):
    counties = _rows(
        synthetic_db,
        """
        SELECT r.code,
               count(*) FILTER (WHERE s.stages && ARRAY['PRIMARY', 'NINE_YEAR']::varchar[]),
               count(*) FILTER (WHERE s.stages && ARRAY['JUNIOR', 'NINE_YEAR']::varchar[])
          FROM region r JOIN school s ON s.path LIKE r.path || '/%'
         WHERE r.level = 'COUNTY' GROUP BY r.code
        """,
    )
    assert len(counties) >= 2
    assert all(primary and junior for _, primary, junior in counties)
    out_of_order = """SELECT count(*) FROM (SELECT coalesce(school_path, residence_path) || ' ' || household_path AS k,
                      lag(coalesce(school_path, residence_path) || ' ' || household_path) OVER (ORDER BY id) AS p
                      FROM child) s WHERE p > k"""
    assert _scalar(synthetic_db, out_of_order) == 0


def test_national_ids_are_valid_unique_and_match_the_birth_date(synthetic_db):
    rows = _rows(synthetic_db, "SELECT national_id, birth_date, household_region_code FROM child")
    assert len({nid for nid, _, _ in rows}) == len(rows)
    for nid, birth, household in rows:
        assert ric.validate(nid) == nid
        assert ric.get_birth_date(nid) == birth
        assert nid[:6] == household[:6]


def test_every_county_of_every_synthetic_province_issues_ids_that_validate():
    for province in PROVINCE_CODES:
        _, _, counties = real_divisions()[province]
        for county, _ in counties:
            for birth in (BIRTH_DIGITS[0], BIRTH_DIGITS[-1]):  # the oldest and the youngest child
                body = f"{county}{birth}001"
                assert ric.is_valid(body + check_digit(body)), county


def test_entries_carry_the_childs_paths_and_one_is_open_per_child(synthetic_db):
    mismatched = """
        SELECT count(*) FROM ledger_entry e JOIN child c ON c.id = e.child_id
         WHERE e.school_path IS DISTINCT FROM c.school_path OR e.household_path <> c.household_path
            OR e.residence_path <> c.residence_path OR e.province_code <> c.province_code
            OR e.responsible_path <> array_to_string(
                   (string_to_array(coalesce(c.school_path, c.residence_path), '/'))[1:3], '/')
    """
    assert _scalar(synthetic_db, mismatched) == 0
    twice = """SELECT count(*) FROM (SELECT child_id FROM ledger_entry WHERE status <> 'CLOSED'
               GROUP BY 1 HAVING count(*) > 1) s"""
    assert _scalar(synthetic_db, twice) == 0


def test_the_schema_still_matches_the_migrations_after_the_load(synthetic_db):
    engine = create_engine(synthetic_db, poolclass=NullPool)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
    engine.dispose()
    assert diff == []


def test_a_second_load_of_the_same_provinces_is_refused_and_adds_nothing(synthetic_db, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", synthetic_db)
    with pytest.raises(SystemExit) as exit_info:
        main(["seed", "synthetic", "--children", "10"])
    assert exit_info.value.code == 2
    assert "41" in capsys.readouterr().err
    assert _scalar(synthetic_db, "SELECT count(*) FROM child") == CHILDREN


async def test_a_county_bureau_logs_in_and_sees_only_its_county(synthetic_db):
    county, other = (
        str(code) for (code,) in _rows(synthetic_db, "SELECT code FROM region WHERE level = 'COUNTY' ORDER BY code")[:2]
    )
    # The bureau keeps the ledgers of every child studying or living in the county, or registered there.
    expected, elsewhere = _rows(
        synthetic_db,
        """
        SELECT count(*) FILTER (WHERE inside), count(*) FILTER (WHERE NOT inside) FROM (
          SELECT EXISTS (SELECT 1 FROM unnest(ARRAY[school_path, household_path, residence_path, responsible_path]) p
                          WHERE p LIKE '%/' || :county OR p LIKE '%/' || :county || '/%') AS inside
            FROM ledger_entry) s
        """,
        county=county,
    )[0]
    assert elsewhere
    engine = create_async_engine(synthetic_db, poolclass=NullPool)
    app = create_app(make_settings(), sessions=async_sessionmaker(engine, expire_on_commit=False))
    transport = httpx.ASGITransport(app=app, client=("10.0.0.1", 1234))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://baoxue.test") as client:
            token = await token_for(client, f"edu-county-{county}")
            mine = (await gql(client, ENTRIES, token=token))["data"]["ledgerEntries"]
            assert mine["totalCount"] == expected > 0
            assert county in {e["node"]["responsibleRegionCode"] for e in mine["edges"]}
            theirs = await gql(client, ENTRIES, {"f": {"regionCode": other}}, token=token)
            # Refused: nothing of a county outside the grant shows.
            assert theirs["data"] == {"ledgerEntries": None}
    finally:
        await engine.dispose()


def test_the_same_seed_gives_the_same_rows_and_another_seed_others(synthetic_db, databases, monkeypatch):
    same = _seeded(databases, monkeypatch, "--seed", "7")
    other = _seeded(databases, monkeypatch, "--seed", "8")
    for table, digest in TABLES.items():
        assert _scalar(same, digest) == _scalar(synthetic_db, digest), table
    assert _scalar(other, TABLES["child"]) != _scalar(synthetic_db, TABLES["child"])
    assert _scalar(other, TABLES["ledger_entry"]) != _scalar(synthetic_db, TABLES["ledger_entry"])


def test_the_childrens_counts_are_rebuilt_after_the_load(synthetic_db):
    """The COPY bypasses the count triggers (session_replication_role = replica); the seed recounts."""
    kept = as_dict(_rows(synthetic_db, KEPT))
    assert sum(n for (column, _, _), n in kept.items() if column == "household_path") == CHILDREN
    assert kept == as_dict(_rows(synthetic_db, RECOUNT))
    for kept_rows, recount in PAIRS:  # migration 0029's counts: by birth month, and the entries'
        assert keyed(_rows(synthetic_db, kept_rows)) == keyed(_rows(synthetic_db, recount))
