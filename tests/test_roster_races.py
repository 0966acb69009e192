"""Rosters and comparisons raced through a real server process (ARCHITECTURE §12): one winner, typed losers.

Concurrent clients send the same write at once to `python -m baoxue serve` on a demo database of its own:
one roster file uploaded ten times, one staged batch applied (or discarded) ten times, the county's
comparison run ten times, one finding decided ten times. Each race ends with one winner (a run may win
more than once, one after another, as nothing overlaps them), every loser answered with its typed code,
nothing stored twice, one audit row per decision, and no internal error in any answer or the server log; the
neighbouring county's bureau, racing among them, is refused (403, or NOT_FOUND as if the batch or finding
did not exist).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from datetime import date, timedelta

import httpx
import pytest

from datagen.demo.people import national_id
from models.base import today
from tests.conftest import Databases, gql
from tests.ledger_support import COUNTY_EDU, gid
from tests.persuasion_support import COUNTY_GOV
from tests.roster_support import HOUSEHOLD, SHISHAN_SCHOOL, SHISHAN_VILLAGE, csv_bytes
from tests.test_races import Served, at_once, internal_errors, outcome, serve_demo

NEIGHBOUR = "edu-county-532328"  # 元谋县's bureau: may neither import for 武定 nor decide its batches or findings
VERSION = "query($id: ID!) { node(id: $id) { ... on RosterImport { version } } }"
APPLY = """mutation($input: ApplyRosterImportInput!) { applyRosterImport(input: $input) {
  rosterImport { status } errors { field code message } } }"""
DISCARD = """mutation($input: DiscardRosterImportInput!) { discardRosterImport(input: $input) {
  rosterImport { status } errors { field code message } } }"""
RUN = """mutation($input: RunComparisonInput!) { runComparison(input: $input) {
  runs { number } errors { field code message } } }"""
RESOLVE = """mutation($input: ResolveFindingsInput!) { resolveFindings(input: $input) {
  findings { state } errors { field code message } } }"""


@pytest.fixture(scope="module")
def served(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve_demo(databases, tmp_path_factory, "roster_races")


def children(first: int, count: int) -> list[tuple[str, date, str]]:
    """Children no one has registered: (name, birth date, national ID), born 2017, a day apart from `first`."""
    digits = "零一二三四五六七八九"
    born = [date(2017, 1, 1) + timedelta(days=n) for n in range(first, first + count)]
    return [
        ("童" + "".join(digits[int(d)] for d in str(n)), day, national_id("532329", day, 499, male=True))
        for n, day in zip(range(first, first + count), born, strict=True)
    ]


def household_roster(kids: list[tuple[str, date, str]]) -> bytes:
    return csv_bytes(
        [HOUSEHOLD[0]]
        + [[name, "男", id_, day.isoformat(), SHISHAN_VILLAGE, SHISHAN_VILLAGE] for name, day, id_ in kids]
    )


def registry_roster(kids: list[tuple[str, date, str]]) -> bytes:
    """The kids on the registry of 狮山镇中心小学, grade 3."""
    header = ["姓名", "公民身份号码", "学籍号", "学校标识码", "年级"]
    return csv_bytes([header] + [[name, id_, "G" + id_, SHISHAN_SCHOOL, "3"] for name, _, id_ in kids])


async def upload(
    client: httpx.AsyncClient, token: str, data: bytes, file_name: str, kind: str = "HOUSEHOLD"
) -> httpx.Response:
    return await client.post(
        "/rosters",
        data={"kind": kind, "jurisdiction": "532329", "asOf": today().isoformat()},
        files={"file": (file_name, data, "text/csv")},
        headers={"Authorization": f"Bearer {token}"},
    )


async def staged_batch(
    client: httpx.AsyncClient, token: str, data: bytes, kind: str = "HOUSEHOLD"
) -> tuple[str, int, int]:
    """Upload a roster: (the batch's global id, its number, its version)."""
    answer = await upload(client, token, data, f"532329-{kind.lower()}.csv", kind)
    assert answer.status_code == 201, answer.text
    batch = answer.json()["id"]
    version = (await gql(client, VERSION, {"id": batch}, token))["data"]["node"]["version"]
    return batch, int(answer.json()["number"]), int(version)


def registered(served: Served, kids: list[tuple[str, date, str]]) -> int:
    return int(served.scalar("SELECT count(*) FROM child WHERE national_id = ANY(:ids)", ids=[k[2] for k in kids]))


def audited(served: Served, actions: tuple[str, ...], target: int) -> int:
    sql = "SELECT count(*) FROM audit_log WHERE action = ANY(:actions) AND target_id = :target"
    return int(served.scalar(sql, actions=list(actions), target=str(target)))


async def test_ten_uploads_of_one_roster_at_once_stage_it_once_and_name_it_to_the_rest(served: Served) -> None:
    """Both of the county's importers (bureau and government) send the same file: one batch, nine
    DUPLICATE_FILE answers naming it, its rows stored once; the neighbouring county's bureau, sending it
    among them, is refused."""
    kids = children(0, 20)
    data = household_roster(kids)
    async with served.client() as client:
        tokens = [await served.token(client, COUNTY_EDU), await served.token(client, COUNTY_GOV)]
        neighbour = await served.token(client, NEIGHBOUR)
        sent = [upload(client, tokens[n % 2], data, f"户籍{n}.csv") for n in range(10)]
        sent[3:3] = [upload(client, neighbour, data, "户籍.csv") for _ in range(3)]
        answers = list(await asyncio.gather(*sent))
    assert [a.status_code for a in answers[3:6]] == [403] * 3
    answers[3:6] = []
    [staged] = [a for a in answers if a.status_code == 201]
    body = staged.json()
    assert (body["status"], body["counts"]["valid"], body["counts"]["new"]) == ("STAGED", 20, 20)
    refused = [a for a in answers if a is not staged]
    assert [a.status_code for a in refused] == [400] * 9, [a.text for a in refused]
    number = body["number"]
    for answer in refused:
        assert (answer.json()["field"], answer.json()["code"]) == ("file", "DUPLICATE_FILE")
        assert f"批次 {number}" in answer.json()["message"]
        assert f"batch {number}" in answer.json()["message"]
    digest = hashlib.sha256(data).hexdigest()
    assert served.scalar("SELECT count(*) FROM roster_import WHERE file_sha256 = :h", h=digest) == 1
    assert served.scalar("SELECT count(*) FROM roster_row WHERE import_id = :i", i=number) == 20
    assert audited(served, ("roster.import",), number) == 1


@pytest.mark.parametrize(("applies", "discards", "first"), [(10, 0, 100), (5, 5, 200)])
async def test_applies_and_discards_of_one_batch_at_once_decide_it_once(
    served: Served, applies: int, discards: int, first: int
) -> None:
    """Ten decisions on one staged batch at once (all applies, or applies and discards interleaved): one
    stands, and an applied batch registers each new child once."""
    kids = children(first, 20)
    async with served.client() as client:
        county = await served.token(client, COUNTY_EDU)
        batch, number, version = await staged_batch(client, county, household_roster(kids))
        apply, discard = {"id": batch, "version": version}, {"id": batch, "version": version, "note": "重复上传"}
        sent = [gql(client, APPLY, {"input": apply}, county) for _ in range(applies)]
        for n in range(discards):
            sent.insert(2 * n + 1, gql(client, DISCARD, {"input": discard}, county))
        neighbour = await served.token(client, NEIGHBOUR)
        results, refused = await asyncio.gather(asyncio.gather(*sent), at_once(client, neighbour, APPLY, [apply] * 3))
    assert outcome(refused, "applyRosterImport") == (0, ["NOT_FOUND"] * 3)  # as if it did not exist
    assert internal_errors(results) == []
    payloads = [r["data"].get("applyRosterImport") or r["data"]["discardRosterImport"] for r in results]
    winners = [p["rosterImport"]["status"] for p in payloads if p["errors"] == []]
    assert len(winners) == 1, payloads
    lost = [e["code"] for p in payloads for e in p["errors"]]
    assert len(lost) == 9
    assert set(lost) <= {"CONFLICT", "NOT_STAGED"}, lost
    assert served.scalar("SELECT status FROM roster_import WHERE id = :i", i=number) == winners[0]
    assert registered(served, kids) == (20 if winners == ["APPLIED"] else 0)
    assert audited(served, ("roster.apply", "roster.discard"), number) == 1


async def test_ten_runs_at_once_find_each_child_once_and_ten_decisions_on_a_finding_make_one(served: Served) -> None:
    """The county's children from an applied household roster, on no registry (one pupil is) and at no
    school, are found out of school however many runs overlap; then ten dismissals of one finding at once:
    one stands."""
    kids, pupil = children(300, 5), children(305, 1)
    async with served.client() as client:
        county = await served.token(client, COUNTY_EDU)
        for kind, data in (("HOUSEHOLD", household_roster(kids)), ("REGISTRY", registry_roster(pupil))):
            batch, _, version = await staged_batch(client, county, data, kind)
            applied = await gql(client, APPLY, {"input": {"id": batch, "version": version}}, county)
            assert applied["data"]["applyRosterImport"]["errors"] == [], applied
        runs_before = int(served.scalar("SELECT count(*) FROM comparison_run WHERE county_code = '532329'"))
        run = {"regionCode": "532329", "asOf": today().isoformat()}
        results = await at_once(client, county, RUN, [run] * 10)
        assert internal_errors(results) == []
        won, lost = outcome(results, "runComparison")
        assert won >= 1
        assert lost == ["ALREADY_RUNNING"] * (10 - won)
        runs = served.scalar("SELECT count(*) FROM comparison_run WHERE county_code = '532329'") - runs_before
        assert runs == won
        found = served.rows(
            "SELECT f.id, f.version, f.state FROM comparison_finding f JOIN child c ON c.id = f.child_id"
            " WHERE f.kind = 'OUT_OF_SCHOOL' AND c.national_id = ANY(:ids) ORDER BY f.id",
            ids=[k[2] for k in kids],
        )
        assert [state for _, _, state in found] == ["OPEN"] * 5  # each child once, however many runs

        finding, finding_version, _ = found[0]
        decisions = [
            {"decisions": [{"id": gid("ComparisonFinding", finding), "version": finding_version, "action": "DISMISS",
                            "reason": "MOVED_ABROAD", "note": f"核实 {n}"}]}
            for n in range(10)
        ]  # fmt: skip
        neighbour = await served.token(client, NEIGHBOUR)
        refused = at_once(client, neighbour, RESOLVE, decisions[:3])
        decided, refused_answers = await asyncio.gather(at_once(client, county, RESOLVE, decisions), refused)
    assert outcome(refused_answers, "resolveFindings") == (0, ["NOT_FOUND"] * 3)  # as if it did not exist
    assert internal_errors(decided) == []
    won, lost = outcome(decided, "resolveFindings")
    assert (won, lost) == (1, ["CONFLICT"] * 9)
    [winner] = [n for n, r in enumerate(decided) if r["data"]["resolveFindings"]["errors"] == []]
    state, note = served.rows("SELECT state, dismiss_note FROM comparison_finding WHERE id = :f", f=finding)[0]
    assert (state, note) == ("DISMISSED", f"核实 {winner}")
    assert audited(served, ("comparison.dismiss",), finding) == 1
