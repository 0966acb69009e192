"""Month-end statistics (`ledgerStatistics`, `baoxue stats snapshot`): counts and rates per region,
month, stage, category and special group, taken from the ledgers' history. Each test checks the
dashboard the way a bureau would: against its ledger list, its students, or a recount of the entries.

POLICY 004 §2 (the ledgers match the people, 人账相符) and §4–§7 (each level reads its own jurisdiction's
figures); Guyuan Table 1 (POLICY 003 annex 1) counts an entry until it is closed out, and so do these.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from authz.errors import Forbidden
from baoxue.cli import main
from models.base import CHINA_TIME, today
from models.child import SpecialGroup
from models.period_statistics import month_code, months_through
from models.repos import period_statistics
from resolvers.context import Context
from resolvers.ledgers.counts import take_statistics
from tests.conftest import error_codes, gql, token_for
from tests.ledger_support import (
    COUNTY_EDU,
    ENTRIES,
    STAFF,
    WUDING,
    YUANMOU,
    make_student,
    open_entry,
    record_absent,
    run_rules,
    school_days,
)

FIELDS = """regionCode period stage specialGroup category enrolled population suspected dropouts deferred cases
  returned awaitingCloseOut placed closedOut dropoutRate suspectedRate returnRate takenAt"""
STATS = f"""query($r: String, $by: AggregateLevel! = CITY, $p: [String!], $d: [StatisticDimension!]! = []) {{
  ledgerStatistics(regionCode: $r, by: $by, periods: $p, dimensions: $d) {{
    periods missingPeriods rows {{ {FIELDS} }} }} }}"""
STUDENTS = """query($f: StudentFilter) { students(filter: $f) { totalCount } }"""
RETURNED = """mutation($input: MarkReturnedInput!) { markReturned(input: $input) {
  entry { id version } errors { code } } }"""
PLACE = """mutation($input: RecordPlacementInput!) { recordPlacement(input: $input) {
  entry { id version } errors { code } } }"""
CLOSE = """mutation($input: CloseOutLedgerEntryInput!) { closeOutLedgerEntry(input: $input) {
  entry { id version } errors { code } } }"""
NOT_CLOSED = ["OPEN", "RETURNED", "DEFERRED", "TRANSFERRED"]
COUNTS = (
    "enrolled",
    "population",
    "suspected",
    "dropouts",
    "deferred",
    "cases",
    "returned",
    "awaitingCloseOut",
    "placed",
    "closedOut",
)
FIRST_DEMO_MONTH = date(2025, 9, 1)


def month_start(day: date, back: int = 0) -> date:
    """The first day of the month `back` months before `day`'s."""
    n = day.year * 12 + day.month - 1 - back
    return date(n // 12, n % 12 + 1, 1)


async def take(sessions: Any, first: date, last: date) -> None:
    """Take the months inside the test's transaction, as `baoxue stats snapshot` would."""
    async with sessions() as session:
        await period_statistics.snapshot(session, first, last)
        await session.commit()


async def statistics(client: Any, token: str, **variables: Any) -> dict[str, Any]:
    result = await gql(client, STATS, variables, token)
    assert not result.get("errors"), result["errors"]
    return result["data"]["ledgerStatistics"]


async def total(client: Any, token: str, query: str, name: str, f: dict[str, Any]) -> int:
    result = await gql(client, query, {"f": f, "first": 1}, token)
    return int(result["data"][name]["totalCount"])


async def scalar(sessions: Any, sql: str, **params: Any) -> Any:
    async with sessions() as session:
        return await session.scalar(text(sql), params)


async def test_this_months_figures_match_the_county_ledger_list_and_its_students(client, sessions):
    """The county bureau's dashboard for this month against its own lists: the ledgers it keeps and the
    students holding a place at its schools (less those on the dropout ledger, who are not 在校)."""
    token = await token_for(client, COUNTY_EDU)
    await take(sessions, today(), today())
    found = await statistics(client, token, r=WUDING, by="COUNTY", p=[month_code(today())])
    assert found["missingPeriods"] == []
    (row,) = found["rows"]
    assert (row["regionCode"], row["period"], row["stage"], row["category"]) == (
        WUDING,
        month_code(today()),
        None,
        None,
    )
    # Wuding's demo cases are all answered for in Wuding (no migrant case in or out), so its ledger list
    # and its statistics count the same entries.
    crossing = await scalar(
        sessions,
        "SELECT count(*) FROM ledger_entry WHERE status <> 'CLOSED' AND (responsible_path = :c) <> "
        "(coalesce(school_path, responsible_path) LIKE :p AND household_path LIKE :p AND residence_path LIKE :p)",
        c=f"53/5323/{WUDING}",
        p=f"53/5323/{WUDING}%",
    )
    assert crossing == 0
    for ledger, field in (("SUSPECTED", "suspected"), ("DROPOUT", "dropouts")):
        listed = await total(client, token, ENTRIES, "ledgerEntries", {"ledger": ledger, "status": NOT_CLOSED})
        assert row[field] == listed > 0
    assert row["deferred"] == await total(client, token, ENTRIES, "ledgerEntries", {"status": ["DEFERRED"]})
    holding_a_place = await total(client, token, STUDENTS, "students", {"regionCode": WUDING, "enrolled": True})
    out_with_a_place = await scalar(
        sessions,
        "SELECT count(*) FROM child c WHERE c.school_path LIKE :p AND c.id IN "
        "(SELECT child_id FROM ledger_entry WHERE ledger = 'DROPOUT' AND status <> 'CLOSED')",
        p=f"53/5323/{WUDING}/%",
    )
    assert row["enrolled"] == holding_a_place - out_with_a_place
    assert row["population"] == row["enrolled"] + row["dropouts"]
    assert row["dropoutRate"] == pytest.approx(row["dropouts"] / row["population"])
    assert row["suspectedRate"] == pytest.approx(row["suspected"] / row["population"])


async def by_month(client: Any, token: str, periods: list[str]) -> dict[str, dict[str, int]]:
    rows = (await statistics(client, token, r=WUDING, by="COUNTY", p=periods))["rows"]
    return {r["period"]: {k: r[k] for k in COUNTS} for r in rows}


async def step(client: Any, token: str, mutation: str, name: str, entry: dict[str, Any], **input: Any) -> Any:
    result = await gql(
        client, mutation, {"input": {"entryId": entry["id"], "version": entry["version"], **input}}, token
    )
    payload = result["data"][name]
    assert payload["errors"] == []
    return payload["entry"]


async def test_a_case_counts_in_the_months_it_was_on_the_ledger_and_nowhere_else(client, sessions):
    """A dropout opened four months ago, back at school two months ago and placed, closed out today: on the
    dropout ledger at the end of each month from its opening until it is back at school; from then until its
    close-out it counts as returned, awaiting close-out, and in school (Table 1 counts who is absent now,
    issue 14 §2); returned and placed in its month, closed out in this one. Enrolment has no history: the
    new child counts as enrolled in the earlier months too, except while a dropout not back at school."""
    token = await token_for(client, COUNTY_EDU)
    this = today()
    months = [month_code(month_start(this, n)) for n in (5, 4, 3, 2, 1, 0)]
    await take(sessions, month_start(this, 5), this)
    before = await by_month(client, token, months)
    student = await make_student(client, token)
    opened = month_start(this, 4) + timedelta(days=9)
    entry = (await open_entry(client, token, student["id"], ledger="DROPOUT", opened_on=opened, category="F"))["entry"]
    back = month_start(this, 2) + timedelta(days=11)
    entry = await step(client, token, RETURNED, "markReturned", entry, returnedOn=back.isoformat())
    entry = await step(
        client,
        token,
        PLACE,
        "recordPlacement",
        entry,
        placement="JOIN_CLASS",
        placedOn=(back + timedelta(2)).isoformat(),
    )
    await step(client, token, CLOSE, "closeOutLedgerEntry", entry, reason="RETURNED_AND_PLACED")
    await take(sessions, month_start(this, 5), this)
    after = await by_month(client, token, months)
    change = {m: {k: after[m][k] - before[m][k] for k in COUNTS} for m in months}
    none = dict.fromkeys(COUNTS, 0)
    out = none | {"dropouts": 1, "cases": 1, "population": 1}
    back_at_school = none | {"enrolled": 1, "population": 1, "cases": 1, "awaitingCloseOut": 1}
    assert change == {
        months[0]: none | {"enrolled": 1, "population": 1},
        months[1]: out,
        months[2]: out,
        months[3]: back_at_school | {"returned": 1, "placed": 1},
        months[4]: back_at_school,
        months[5]: none | {"enrolled": 1, "population": 1, "cases": 1, "closedOut": 1},
    }


async def test_an_escalation_recorded_late_moves_the_child_to_the_dropout_ledger_on_the_day_it_opened(client, sessions):
    """POLICY 003 annex 1 notes 1–2: absent every school day since two months ago, the child is a suspected
    dropout from the 6th school day and a dropout a month later. Entered late (latest day first, so no batch
    sees the run) and swept only today, the suspected entry is closed today, but the child left the suspected
    ledger the day the dropout entry opened: counted on one ledger at a time."""
    county, staff = await token_for(client, COUNTY_EDU), await token_for(client, STAFF)
    this = today()
    months = [month_code(month_start(this, n)) for n in (3, 2, 1, 0)]
    await take(sessions, month_start(this, 3), this)
    before = await by_month(client, county, months)
    student = await make_student(client, county)
    monday = month_start(this, 2) + timedelta(days=(7 - month_start(this, 2).weekday()) % 7)
    backlog = await record_absent(client, staff, student["id"], school_days(monday, this - timedelta(days=1))[::-1])
    assert not any(p["opened"] or p["escalated"] for p in backlog)
    swept = await run_rules(client, county, this)
    [dropout] = [e for e in swept["escalated"] if e["student"]["id"] == student["id"]]
    assert month_code(date.fromisoformat(dropout["openedOn"])) == months[2]
    await take(sessions, month_start(this, 3), this)
    after = await by_month(client, county, months)
    change = {m: {k: after[m][k] - before[m][k] for k in COUNTS} for m in months}
    none = dict.fromkeys(COUNTS, 0)
    out = none | {"dropouts": 1, "cases": 1, "population": 1}
    assert change == {
        months[0]: none | {"enrolled": 1, "population": 1},
        months[1]: none | {"enrolled": 1, "population": 1, "suspected": 1, "cases": 1},
        months[2]: out,
        months[3]: out,
    }


async def test_special_group_rows_match_the_students_and_ledgers_of_each_group(client, sessions):
    """Special groups (POLICY 004 §3): each group's row against the students and ledger entries of that group;
    a child in two groups counts once in each and once in all."""
    token = await token_for(client, COUNTY_EDU)
    now = month_code(today())
    await take(sessions, today(), today())
    groups = ["LEFT_BEHIND", "DISABLED"]

    async def rows() -> dict[str | None, dict[str, Any]]:
        every = await statistics(client, token, r=WUDING, by="COUNTY", p=[now])
        split = await statistics(client, token, r=WUDING, by="COUNTY", p=[now], d=["SPECIAL_GROUP"])
        return {r["specialGroup"]: r for r in [*every["rows"], *split["rows"]]}

    before = await rows()
    student = await make_student(client, token, special_groups=groups)
    assert (await open_entry(client, token, student["id"], opened_on=today()))["entry"]
    await take(sessions, today(), today())
    after = await rows()
    for group in (None, *groups):
        assert after[group]["suspected"] == before.get(group, {}).get("suspected", 0) + 1
        assert after[group]["enrolled"] == before.get(group, {}).get("enrolled", 0) + 1
    assert set(after) - {None} <= {g.value for g in SpecialGroup}
    for group in SpecialGroup:
        row = after.get(group.value, dict.fromkeys(COUNTS, 0))
        f = {"specialGroup": group.value, "status": NOT_CLOSED}
        assert row["suspected"] == await total(client, token, ENTRIES, "ledgerEntries", f | {"ledger": "SUSPECTED"})
        assert row["dropouts"] == await total(client, token, ENTRIES, "ledgerEntries", f | {"ledger": "DROPOUT"})
        places = await total(
            client, token, STUDENTS, "students", {"regionCode": WUDING, "enrolled": True, "specialGroup": group.value}
        )
        out = await scalar(
            sessions,
            "SELECT count(*) FROM child c WHERE c.school_path LIKE :p AND :g = ANY(c.special_groups) AND c.id IN "
            "(SELECT child_id FROM ledger_entry WHERE ledger = 'DROPOUT' AND status <> 'CLOSED')",
            p=f"53/5323/{WUDING}/%",
            g=group.value,
        )
        assert row["enrolled"] == places - out


async def test_category_rows_add_up_to_the_total_and_every_rate_is_its_fraction(client, sessions):
    """Categories A–T (POLICY 003 annex 1 note 3) split the entries, with a row (category null) for those with
    none yet; enrolment is not split, so each category's rate is its share of the same population."""
    token = await token_for(client, "edu-city-5323")
    periods = months_through(FIRST_DEMO_MONTH, today())
    whole = await statistics(client, token, p=periods, d=["STAGE"])
    split = await statistics(client, token, p=periods, d=["STAGE", "CATEGORY"])
    totals = {(r["regionCode"], r["period"], r["stage"]): r for r in whole["rows"]}
    assert {r["regionCode"] for r in whole["rows"]} == {"5323"}
    assert len(totals) == 2 * len(periods)
    summed: dict[tuple[str, str, str], Counter[str]] = {}
    for row in split["rows"]:
        key = (row["regionCode"], row["period"], row["stage"])
        summed.setdefault(key, Counter()).update({k: row[k] for k in COUNTS if k not in ("enrolled", "population")})
        assert (row["enrolled"], row["population"]) == (totals[key]["enrolled"], totals[key]["population"])
        assert row["dropoutRate"] == pytest.approx(row["dropouts"] / row["population"])
    for key, counts in summed.items():
        assert {k: totals[key][k] for k in counts} == dict(counts)
    uncategorized = [r for r in split["rows"] if r["category"] is None]
    assert uncategorized
    assert sum(r["suspected"] for r in uncategorized) > 0
    assert {r["category"] for r in split["rows"]} > {None, "F"}
    for row in whole["rows"]:
        assert row["population"] == row["enrolled"] + row["dropouts"]
        assert row["dropoutRate"] == pytest.approx(row["dropouts"] / row["population"])
        assert row["suspectedRate"] == pytest.approx(row["suspected"] / row["population"])
        assert row["returnRate"] == (pytest.approx(row["returned"] / row["cases"]) if row["cases"] else None)
    assert any(r["returnRate"] is None for r in whole["rows"])
    assert any(r["returnRate"] for r in whole["rows"])


def china_day(moment: datetime | None) -> date | None:
    return moment.astimezone(CHINA_TIME).date() if moment else None


def recount(entries: list[dict[str, Any]], approved: dict[int, date], months: list[str]) -> dict[Any, Counter[str]]:
    """Per (province, month), the ledger figures recounted entry by entry, in Python."""
    opened_from = {e["escalated_from_id"]: e["opened_on"] for e in entries if e["escalated_from_id"]}
    out: dict[Any, Counter[str]] = {}
    for code in months:
        first = date(int(code[:4]), int(code[5:]), 1)
        last = month_start(first, -1) - timedelta(days=1)
        for e in entries:
            closed = china_day(e["closed_at"])
            superseded = e["close_reason"] == "ESCALATED_TO_DROPOUT"
            gone = min(closed, opened_from.get(e["id"], closed)) if superseded and closed else closed
            if e["opened_on"] > last or (gone is not None and gone < first):
                continue
            on_ledger = gone is None or gone > last
            c = out.setdefault((e["responsible_path"][:2], code), Counter())
            back = e["returned_on"]
            back_at_end = on_ledger and bool(back and back <= last)
            c["suspected"] += on_ledger and not back_at_end and e["ledger"] == "SUSPECTED"
            c["dropouts"] += on_ledger and not back_at_end and e["ledger"] == "DROPOUT"
            c["awaitingCloseOut"] += back_at_end
            c["deferred"] += (
                on_ledger and e["id"] in approved and approved[e["id"]] <= last and not (back and back <= last)
            )
            c["cases"] += on_ledger or not superseded
            c["returned"] += bool(back and first <= back <= last)
            c["placed"] += bool(e["placed_on"] and first <= e["placed_on"] <= last)
            c["closedOut"] += bool(not superseded and closed and first <= closed <= last)
    return out


async def test_the_national_series_matches_a_recount_of_every_entry_month_by_month(client, sessions):
    """The ministry's series by province, every month of the demo, against the entries recounted one by one
    (a suspected entry superseded by its dropout entry leaves the suspected ledger the day that one opens)."""
    token = await token_for(client, "edu-nation-CN")
    months = months_through(FIRST_DEMO_MONTH, today())
    found = await statistics(client, token, by="PROVINCE", p=months)
    assert found["periods"] == months
    assert found["missingPeriods"] == []
    async with sessions() as session:
        entries = [dict(r) for r in (await session.execute(text("SELECT * FROM ledger_entry"))).mappings()]
        decided = await session.execute(
            text("SELECT entry_id, min(decided_at) FROM deferral_request WHERE status = 'APPROVED' GROUP BY 1")
        )
        approved = {entry_id: china_day(at) for entry_id, at in decided.all()}
        places = await session.execute(
            text(
                "SELECT left(c.school_path, 2), e.opened_on, e.closed_at, e.returned_on FROM child c "
                "JOIN ledger_entry e ON e.child_id = c.id WHERE e.ledger = 'DROPOUT' AND c.school_path IS NOT NULL"
            )
        )
        withdrawn = places.all()
        holding = dict(
            (await session.execute(text("SELECT left(school_path, 2), count(*) FROM child GROUP BY 1"))).all()
        )
    expected = recount(entries, approved, months)
    assert any(c["deferred"] for c in expected.values())
    assert any(c["closedOut"] for c in expected.values())
    rows = {(r["regionCode"], r["period"]): r for r in found["rows"]}
    assert set(rows) == {(p, m) for p in ("22", "53", "64") for m in months}
    for (province, month), row in rows.items():
        counts = expected.get((province, month), Counter())
        assert {k: row[k] for k in COUNTS[2:]} == {k: counts[k] for k in COUNTS[2:]}, (province, month)
        last = month_start(date(int(month[:4]), int(month[5:]), 1), -1) - timedelta(days=1)
        out = sum(
            1
            for code, opened, closed, back in withdrawn
            if code == province
            and opened <= last
            and (closed is None or china_day(closed) > last)
            and not (back and back <= last)  # back at school: in school again (issue 14 §2)
        )
        assert row["enrolled"] == holding[province] - out


async def test_months_not_taken_are_named_and_bad_months_refused(client):
    token = await token_for(client, "edu-province-53")
    default = await statistics(client, token)
    assert default["periods"] == months_through(month_start(today(), 11), today())
    assert default["missingPeriods"] == []
    assert {r["period"] for r in default["rows"]} == set(default["periods"])
    found = await statistics(client, token, p=["2020-01", month_code(today()), "2020-01"])
    assert found["periods"] == ["2020-01", month_code(today())]
    assert found["missingPeriods"] == ["2020-01"]
    assert {r["period"] for r in found["rows"]} == {month_code(today())}
    for bad in (["2026-13"], ["2026-1"], [f"{2000 + n // 12}-{n % 12 + 1:02d}" for n in range(61)]):
        refused = await gql(client, STATS, {"p": bad}, token)
        assert error_codes(refused) == ["BAD_USER_INPUT"]
        assert refused["errors"][0]["extensions"]["field"] == "periods"
        assert refused["data"] == {"ledgerStatistics": None}


async def test_a_county_reads_its_own_figures_and_not_its_neighbours(client, sessions):
    """Each level sees only its own jurisdiction (双线四级, ARCHITECTURE §4): the neighbouring county is refused as
    `ledgerCounts` refuses it, and summing to the province gives the county's own figures only."""
    token = await token_for(client, COUNTY_EDU)
    refused = await gql(client, STATS, {"r": YUANMOU, "by": "COUNTY"}, token)
    assert error_codes(refused) == ["BAD_USER_INPUT"]
    assert refused["errors"][0]["extensions"]["field"] == "filter.regionCode"
    assert refused["data"] == {"ledgerStatistics": None}
    own = await statistics(client, token, r=WUDING, by="COUNTY")
    province = await statistics(client, token, by="PROVINCE")
    assert {r["regionCode"] for r in province["rows"]} == {"53"}
    strip = ("regionCode", "takenAt")
    assert [{k: v for k, v in r.items() if k not in strip} for r in province["rows"]] == [
        {k: v for k, v in r.items() if k not in strip} for r in own["rows"]
    ]


async def test_a_school_account_without_aggregate_rights_is_forbidden(client, sessions):
    token = await token_for(client, STAFF)
    refused = await gql(client, STATS, {}, token)
    assert error_codes(refused) == ["FORBIDDEN"]
    assert refused["data"] == {"ledgerStatistics": None}
    async with sessions() as session:
        with pytest.raises(Forbidden):
            await take_statistics(Context(session=session, principal=None, system_actor="x"), today(), today())


def test_cli_takes_the_months_asked_for_and_the_sweep_takes_this_month_and_the_last(databases, monkeypatch, capsys):
    url = databases.create("stats")
    monkeypatch.setenv("DATABASE_URL", url)
    main(["migrate"])
    main(["seed", "demo"])
    engine = create_engine(url, poolclass=NullPool)

    def taken() -> list[str]:
        with engine.begin() as conn:
            return list(conn.scalars(text("SELECT DISTINCT period FROM period_statistic ORDER BY 1")))

    try:
        assert taken() == months_through(FIRST_DEMO_MONTH, today())
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM period_statistic"))
        main(["stats", "snapshot", "--from", "2026-01", "--to", "2026-03"])
        assert "statistics 2026-01 to 2026-03" in capsys.readouterr().out
        assert taken() == ["2026-01", "2026-02", "2026-03"]
        main(["ledger", "sweep", "--as-of", "2026-10-05"])
        assert taken() == ["2026-01", "2026-02", "2026-03", "2026-09", "2026-10"]
        with pytest.raises(SystemExit) as exit_info:
            main(["stats", "snapshot", "--from", "2026-13"])
        assert exit_info.value.code == 2
        with engine.begin() as conn:
            stamp = conn.scalar(text("SELECT max(taken_at) FROM period_statistic"))
        assert stamp is not None
        assert stamp > datetime.now(UTC) - timedelta(minutes=5)
    finally:
        engine.dispose()
