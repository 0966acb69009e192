"""Roster imports at province scale (issue 12 §4): `uv run python -m bench.rosters_1m`.

A household roster (户籍) and a registry roster (学籍) of 1,000,000 rows each (`--rows`), built from the
children of the 1M-child synthetic province (`--children`, seeded once with `baoxue seed synthetic` into the
database `baoxue_bench_rosters`, reused by later runs of the same scale), each imported end to end through
`POST /rosters` on a real server process (`baoxue serve --workers 1`, production settings): upload, read,
check every row, COPY into `roster_row`, match exact and candidates, count. Imports are for a county (the
issue's importers are county bureaus), so the province's roster is its counties' files, one upload each,
one after another, as the counties' `edu-county-<code>` accounts; the rate is all rows over all uploads'
wall time. The server's resident memory is sampled every 0.1 s through the imports, and its own peak
(VmHWM) read at the end.

The rows, from each child in file order: mostly the child as known (EXACT on the national ID); some with
the ID left empty and a reason (无身份证原因), which find the child by name, birth date and gender
(CANDIDATE, or NEW when two children share them); some children no one knew yet (a fresh ID: NEW); and
some refused (a wrong check digit, an ID of no region, a birth date not the ID's, an unknown region or
school, a grade that is none). The registry roster is the enrolled children's, filled up to `--rows`
with new ones.

After the imports, `run_comparison_step` (issue 12 §2) applies the batches (each county's bureau, through
`applyRosterImport`) and runs `runComparison` over the province (the province's bureau), timed
(`comparison_s`), on the same server, whose peak memory through all of it is read at the end.

Writes `roster_import_rows_per_s` (the lower of the two rosters), `comparison_s` and `rosters_1m` into
bench/results.json,
and the section "f. Roster imports at province scale" of bench/RESULTS.md (`--output DIR`: there instead).
`--via usecase` imports in this process through `resolvers/rosters/imports.import_roster` instead of HTTP
(no server RSS then), and `--profile N` prints the N functions with the most own time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import csv
import json
import os
import random
import secrets
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql
from sqlalchemy import make_url
from sqlalchemy import text as text_sql

from datagen.demo.seed import DEMO_PASSWORD
from datagen.synthetic.people import check_digit

from . import province_http as web
from .common import find_server, libpq, log, machine, top_functions
from .province_db import prepare

HERE = Path(__file__).resolve().parent
COMMAND = "uv run python -m bench.rosters_1m"
BENCH_DB = "baoxue_bench_rosters"
AS_OF = date(2026, 9, 1)
SECTION = "## f. Roster imports at province scale"
BEGIN, END = "<!-- rosters_1m: begin -->", "<!-- rosters_1m: end -->"

COMMON = ["姓名", "性别", "公民身份号码", "出生日期"]
HOUSEHOLD_HEADERS = [*COMMON, "户籍地区划代码", "现住址区划代码", "无身份证原因", "监护人", "联系电话"]
REGISTRY_HEADERS = [*COMMON, "学籍号", "学校标识码", "年级", "户籍地区划代码", "无身份证原因"]
GENDER_TEXT = {"MALE": "男", "FEMALE": "女"}
GRADE_TEXT = ["", "一年级", "二年级", "三年级", "四年级", "五年级", "六年级", "初一", "初二", "初三"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "明华强伟芳娜敏静丽军洋勇艳杰娟涛超秀霞平刚桂英"

# Shares of the rows (the rest: the child as known, an exact match).
CANDIDATE, NEW, REFUSED = 0.03, 0.02, 0.03


@dataclass
class Roster:
    kind: str
    files: list[tuple[str, Path, int]] = field(default_factory=list)  # (county code, file, rows)

    @property
    def rows(self) -> int:
        return sum(n for _, _, n in self.files)


@dataclass
class Imported:
    kind: str
    rows: int
    files: int
    seconds: float
    rows_per_s: float
    counts: dict[str, int]
    largest_file_rows: int
    largest_file_rows_per_s: float


def _fresh_id(rng: random.Random, county: str, birth: date, used: set[str]) -> str:
    """A valid national ID no synthetic child has: order codes 990–999 (the generator stops far below); born a
    day later once the ten codes of the day are taken (a county filled up with many new children)."""
    while True:
        for _ in range(50):
            body = f"{county}{birth:%Y%m%d}{990 + rng.randrange(10)}"
            number = body + check_digit(body)
            if number not in used:
                used.add(number)
                return number
        birth += timedelta(days=1)


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)


def _wrong_check_digit(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


def _no_region_id(number: str) -> str:
    """An ID of no region: 999999, or 419999 (a province stdnum knows, a county it does not: once a KeyError)."""
    body = ("999999" if number[16] in "02468" else "419999") + number[6:17]
    return body + check_digit(body)


def household_row(rng: random.Random, child: tuple[Any, ...], used: set[str]) -> list[str]:
    name, gender, birth, national_id, _registry, _school, _grade, household, residence, county = child
    guardian, phone = _name(rng)[:2] + "某", f"138{rng.randrange(10**8):08d}"
    row = [name, GENDER_TEXT[gender], national_id, birth.isoformat(), household, residence, "", guardian, phone]
    draw = rng.random()
    if draw < CANDIDATE:
        row[2], row[6] = "", "未落户"
    elif draw < CANDIDATE + NEW:
        row[0], row[2] = _name(rng), _fresh_id(rng, county, birth, used)
    elif draw < CANDIDATE + NEW + REFUSED:
        problem = rng.randrange(4)
        if problem == 0:
            row[2] = _wrong_check_digit(national_id)
        elif problem == 1:
            row[2] = _no_region_id(national_id)
        elif problem == 2:
            row[3] = (birth + timedelta(days=1)).isoformat()
        else:
            row[4] = household[:9] + "999"  # no such village
    return row


def registry_row(rng: random.Random, child: tuple[Any, ...], used: set[str]) -> list[str]:
    name, gender, birth, national_id, registry, school, grade, household, _residence, county = child
    row = [name, GENDER_TEXT[gender], national_id, birth.isoformat(), registry, school, GRADE_TEXT[grade]]
    row += [household, ""]
    draw = rng.random()
    if draw < CANDIDATE:
        row[2], row[8] = "", "未录入身份证号"
    elif draw < CANDIDATE + NEW:
        fresh = _fresh_id(rng, county, birth, used)
        row[0], row[2], row[4] = _name(rng), fresh, "G" + fresh
    elif draw < CANDIDATE + NEW + REFUSED:
        problem = rng.randrange(4)
        if problem == 0:
            row[2] = _wrong_check_digit(national_id)
        elif problem == 1:
            row[2] = _no_region_id(national_id)
        elif problem == 2:
            row[5] = school[:-3] + "999"  # no such school
        else:
            row[6] = "十年级"
    return row


CHILDREN_SQL = {
    "HOUSEHOLD": (
        "SELECT name, gender, birth_date, national_id, registry_number, school_code, grade, household_region_code,"
        " residence_region_code, split_part(household_path, '/', 3) AS county FROM child"
        " WHERE national_id IS NOT NULL ORDER BY household_path, id"
    ),
    "REGISTRY": (
        "SELECT name, gender, birth_date, national_id, registry_number, school_code, grade, household_region_code,"
        " residence_region_code, split_part(school_path, '/', 3) AS county FROM child"
        " WHERE national_id IS NOT NULL AND school_code IS NOT NULL AND grade IS NOT NULL"
        " ORDER BY school_path, id"
    ),
}


def write_roster(dsn: str, kind: str, rows: int, out_dir: Path, seed: int = 12) -> Roster:
    """One CSV per county (UTF-8, as a county exports it), `rows` rows in all: the children in order, then
    (when there are fewer) new children spread over the counties."""
    rng = random.Random(f"{seed}/{kind}")
    make_row = household_row if kind == "HOUSEHOLD" else registry_row
    headers = HOUSEHOLD_HEADERS if kind == "HOUSEHOLD" else REGISTRY_HEADERS
    roster = Roster(kind)
    used: set[str] = set()
    with psycopg.connect(dsn) as conn:
        counted = conn.execute(f"SELECT count(*) FROM ({CHILDREN_SQL[kind]}) c").fetchone()  # type: ignore[arg-type]  # noqa: S608
        total = int(counted[0]) if counted else 0
        keep = min(1.0, rows / max(total, 1))
        extra_per_child = max(0.0, rows - total) / max(total, 1)
        writer: Any = None
        handle: Any = None
        county, written, budget, path = "", 0, rows, out_dir
        last: tuple[Any, ...] | None = None
        with conn.cursor(name="children") as cur:
            cur.itersize = 20_000
            cur.execute(CHILDREN_SQL[kind])  # type: ignore[arg-type]
            for child in cur:
                if child[-1] != county:
                    if handle is not None:
                        handle.close()
                        roster.files.append((county, path, written))
                    county, written = child[-1], 0
                    path = out_dir / f"{county}-{kind.lower()}.csv"
                    handle = path.open("w", encoding="utf-8", newline="")
                    writer = csv.writer(handle)
                    writer.writerow(headers)
                if budget <= 0 or rng.random() >= keep:
                    continue
                row = make_row(rng, child, used)
                writer.writerow(row)
                written, budget, last = written + 1, budget - 1, child
                if extra_per_child and rng.random() < extra_per_child and budget > 0:
                    writer.writerow(_new_child_row(rng, kind, child, used))
                    written, budget = written + 1, budget - 1
            while budget > 0 and last is not None:  # the rounding's few rows short, to the last county
                writer.writerow(_new_child_row(rng, kind, last, used))
                written, budget = written + 1, budget - 1
            if handle is not None:
                handle.close()
                roster.files.append((county, path, written))
    return roster


def _new_child_row(rng: random.Random, kind: str, like: tuple[Any, ...], used: set[str]) -> list[str]:
    """A child no one knew yet, of the same place (and school) as `like`."""
    _n, gender, birth, _id, _r, school, grade, household, residence, county = like
    fresh = _fresh_id(rng, county, birth, used)
    birth = date(int(fresh[6:10]), int(fresh[10:12]), int(fresh[12:14]))  # the ID's, when the day was full
    gender = "MALE" if int(fresh[16]) % 2 else "FEMALE"
    head = [_name(rng), GENDER_TEXT[gender], fresh, birth.isoformat()]
    if kind == "HOUSEHOLD":
        return [*head, household, residence, "", "", ""]
    return [*head, "G" + fresh, school, GRADE_TEXT[grade], household, ""]


# --- importing -------------------------------------------------------------------------------------------


def import_over_http(base: str, roster: Roster) -> Imported:
    """Each county's file POSTed as that county's bureau; the clock runs from the first upload to the last answer."""
    counts: dict[str, int] = {}
    largest = (0, 0.0)
    tokens: dict[str, str] = {}
    for county, _, _ in roster.files:
        tokens[county] = web.api_token(base, f"edu-county-{county}", DEMO_PASSWORD)
    started = time.perf_counter()
    with httpx.Client(base_url=base, timeout=600) as client:
        for county, path, rows in roster.files:
            began = time.perf_counter()
            with path.open("rb") as f:
                r = client.post(
                    "/rosters",
                    data={"kind": roster.kind, "jurisdiction": county, "asOf": AS_OF.isoformat()},
                    files={"file": (path.name, f, "text/csv")},
                    headers={"authorization": f"Bearer {tokens[county]}"},
                )
            if r.status_code not in (200, 201):
                raise SystemExit(f"POST /rosters {path.name}: {r.status_code} {r.text[:500]}")
            spent = time.perf_counter() - began
            for key, value in r.json()["counts"].items():
                counts[key] = counts.get(key, 0) + int(value)
            if rows > largest[0]:
                largest = (rows, rows / spent)
    seconds = time.perf_counter() - started
    return Imported(roster.kind, roster.rows, len(roster.files), seconds, roster.rows / seconds, counts, *largest)


def import_in_process(url: str, roster: Roster, profiler: cProfile.Profile | None) -> Imported:
    """Each county's file through `import_roster` as the operator, one transaction each (as the CLI does)."""
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from baoxue.database import make_engine
    from models.roster import RosterKind
    from resolvers.context import Context
    from resolvers.rosters.imports import import_roster

    async def go() -> Imported:
        engine = make_engine(url)
        counts: dict[str, int] = {}
        largest = (0, 0.0)
        started = time.perf_counter()
        try:
            for county, path, rows in roster.files:
                began = time.perf_counter()
                async with async_sessionmaker(engine, expire_on_commit=False)() as session:
                    ctx = Context(session=session, principal=None, system_actor="bench", operator=True)
                    with path.open("rb") as stream:
                        result = await import_roster(
                            ctx, kind=RosterKind(roster.kind), jurisdiction_code=county, as_of=AS_OF,
                            file_name=path.name, stream=stream,
                        )  # fmt: skip
                    await session.commit()
                b = result.batch
                spent = time.perf_counter() - began
                for key in ("read", "valid", "refused", "matched", "new"):
                    counts[key] = counts.get(key, 0) + int(getattr(b, f"rows_{key}"))
                if rows > largest[0]:
                    largest = (rows, rows / spent)
        finally:
            await engine.dispose()
        seconds = time.perf_counter() - started
        return Imported(roster.kind, roster.rows, len(roster.files), seconds, roster.rows / seconds, counts, *largest)

    if profiler is None:
        return asyncio.run(go())
    profiler.enable()
    try:
        return asyncio.run(go())
    finally:
        profiler.disable()


def match_states(dsn: str) -> dict[str, dict[str, int]]:
    """Rows by kind and match (EXACT, CANDIDATE, NEW, refused) over the staged batches, as a check on the data."""
    with psycopg.connect(dsn) as conn:
        found = conn.execute(
            "SELECT i.kind, coalesce(r.match, r.status), count(*) FROM roster_row r"
            " JOIN roster_import i ON i.id = r.import_id WHERE i.status = 'STAGED' GROUP BY 1, 2"
        ).fetchall()
    out: dict[str, dict[str, int]] = {}
    for kind, state, n in found:
        out.setdefault(kind, {})[state] = int(n)
    return out


def discard_staged(dsn: str) -> None:
    """Batches of an earlier run are set aside, so the same files can be staged again (DUPLICATE_FILE), and their
    rows deleted: nothing reads a discarded batch's rows, and a reused database whose `roster_row` grew by two
    million rows a run would COPY into ever larger indexes, so runs could not be compared."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("UPDATE roster_import SET status = 'DISCARDED', decided_by = 'bench' WHERE status <> 'DISCARDED'")
        conn.execute(
            "DELETE FROM roster_row r USING roster_import i WHERE i.id = r.import_id AND i.decided_by = 'bench'"
        )
        conn.execute("VACUUM ANALYZE roster_row")


def run_comparison_step(url: str, dsn: str, server: web.Server | None) -> dict[str, Any] | None:
    """issue 12 §2: the rosters just imported are applied and compared over the province (`comparison_s`).

    Every candidate is first confirmed in SQL (the bench stands in for the person who decides them;
    confirming writes what `resolveRosterMatch` writes). On a server (`server`), each county's bureau then
    applies its staged batches (`applyRosterImport`) and the province's bureau runs `runComparison` over the
    province, both through GraphQL, so the server's peak memory covers them too (`server_peak_mb`); in
    process, `apply_import` and `run_comparison` as the operator. Peak memory of this process: VmHWM."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        confirmed = conn.execute(
            "UPDATE roster_row r SET match = 'CONFIRMED', child_id = r.candidate_child_id FROM roster_import i"
            " WHERE i.id = r.import_id AND i.status = 'STAGED' AND r.match = 'CANDIDATE'"
        ).rowcount
        staged = [(int(r[0]), str(r[1])) for r in conn.execute(
            "SELECT id, jurisdiction_code FROM roster_import WHERE status = 'STAGED' ORDER BY id"
        )]  # fmt: skip
        province_row = conn.execute("SELECT min(province_code) FROM roster_import WHERE status = 'STAGED'").fetchone()
    province = str(province_row[0]) if province_row and province_row[0] else "53"
    if server is not None:
        applied_s, compared_s, found = _apply_and_compare_over_http(server.base, staged, province)
    else:
        applied_s, compared_s, found = asyncio.run(_apply_and_compare_in_process(url, staged, province))
    result = {
        "batches_applied": len(staged),
        "candidates_confirmed": confirmed,
        "apply_s": round(applied_s, 1),
        "comparison_s": round(compared_s, 3),
        "findings": found,
        "bench_process_peak_mb": _vm_hwm_mb(os.getpid()),
        "via": "GraphQL on the server" if server is not None else "in process",
        **({"server_peak_mb": _vm_hwm_mb(server.process.pid)} if server is not None else {}),
    }
    log(f"comparison step: {result}")
    return result


STAGED_BATCHES = (
    """query { rosterImports(filter: {status: STAGED}, first: 100) { edges { node { id number version } } } }"""
)
APPLY = """mutation($input: ApplyRosterImportInput!) { applyRosterImport(input: $input) {
  rosterImport { status } errors { code: __typename message } } }"""
RUN = """mutation($input: RunComparisonInput!) { runComparison(input: $input) {
  runs { countyCode counts { kind found } } errors { message } } }"""


def _apply_and_compare_over_http(base: str, staged: list[tuple[int, str]], province: str) -> tuple[float, float, int]:
    """Each county's bureau applies its staged batches, then the province's bureau compares the province."""
    began, applied = time.perf_counter(), set()
    for county in sorted({code for _, code in staged}):
        token = web.api_token(base, f"edu-county-{county}", DEMO_PASSWORD)
        listed = web.graphql(base, STAGED_BATCHES, {}, token)["data"]["rosterImports"]["edges"]
        for node in (e["node"] for e in listed if (e["node"]["number"], county) in staged):
            payload = web.graphql(base, APPLY, {"input": {"id": node["id"], "version": node["version"]}}, token)
            outcome = payload["data"]["applyRosterImport"]
            if outcome["errors"] or outcome["rosterImport"]["status"] != "APPLIED":
                raise SystemExit(f"apply of batch {node['number']} refused: {outcome}")
            applied.add(node["number"])
    if missed := sorted({number for number, _ in staged} - applied):
        raise SystemExit(f"staged batches their county's bureau did not find to apply: {missed}")
    applied_s = time.perf_counter() - began
    token = web.api_token(base, f"edu-province-{province}", DEMO_PASSWORD)
    began = time.perf_counter()
    ran = web.graphql(base, RUN, {"input": {"regionCode": province, "asOf": AS_OF.isoformat()}}, token)
    compared_s = time.perf_counter() - began
    outcome = ran["data"]["runComparison"]
    if outcome["errors"]:
        raise SystemExit(f"runComparison refused: {outcome['errors']}")
    found = sum(c["found"] for run in outcome["runs"] for c in run["counts"])
    return applied_s, compared_s, found


async def _apply_and_compare_in_process(
    url: str, staged: list[tuple[int, str]], province: str
) -> tuple[float, float, int]:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from baoxue.database import make_engine
    from resolvers.comparisons.running import run_comparison
    from resolvers.context import Context
    from resolvers.rosters.decisions import apply_import

    engine = make_engine(url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        began = time.perf_counter()
        for number, _ in staged:
            async with sessions() as session:
                ctx = Context(session=session, principal=None, system_actor="bench", operator=True)
                version = (await session.execute(text_sql("SELECT version FROM roster_import WHERE id = :i"),
                                                 {"i": number})).scalar_one()  # fmt: skip
                await apply_import(ctx, import_id=str(number), version=version)
                await session.commit()
        applied_s = time.perf_counter() - began
        began = time.perf_counter()
        async with sessions() as session:
            ctx = Context(session=session, principal=None, system_actor="bench", operator=True)
            runs = await run_comparison(ctx, region_code=province, as_of=AS_OF)
            await session.commit()
        compared_s = time.perf_counter() - began
        found = sum(c.get("found", 0) for run in runs for c in (run.counts or {}).values() if isinstance(c, dict))
        return applied_s, compared_s, found
    finally:
        await engine.dispose()


def own_database(database_url: str | None, embedded: bool) -> str:
    if database_url:
        return database_url
    server, _ = find_server(embedded)
    with psycopg.connect(libpq(server), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (BENCH_DB,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DB)))
    return make_url(server).set(database=BENCH_DB).render_as_string(hide_password=False)


def write_results(out_dir: Path, data: dict[str, Any]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)  # `--output` may name a directory not made yet
    json_path, md_path = out_dir / "results.json", out_dir / "RESULTS.md"
    existing = json.loads(json_path.read_text(encoding="utf-8")) if json_path.exists() else {}
    existing["roster_import_rows_per_s"] = data["roster_import_rows_per_s"]
    if data.get("comparison"):
        existing["comparison_s"] = data["comparison"]["comparison_s"]
    existing["rosters_1m"] = data
    json_path.write_text(json.dumps(existing, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    text = md_path.read_text(encoding="utf-8") if md_path.exists() else "# Benchmarks\n"
    block = f"{BEGIN}\n{markdown(data)}\n{END}"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    md_path.write_text(text, encoding="utf-8")
    log(f"wrote {json_path} and {md_path}")


def markdown(d: dict[str, Any]) -> str:
    m = d["machine"]
    lines = [
        SECTION,
        "",
        f"`{COMMAND}` ({d['date']}, {m['cpu_model']}, {m['cores']} cores, {m['memory_gib']} GiB, shared; "
        f"PostgreSQL on 127.0.0.1:5432; commit {m['git_commit']}{' dirty' if m['git_tree_dirty'] else ''}). "
        f"{d['children']:,} synthetic children; each roster is the province's counties' files "
        f"(one `POST /rosters` each, as the county's bureau, one after another) through {d['via']}. "
        "Target: ≥ 50,000 rows/s each, server RSS ≤ 300 MB.",
        "",
        "| roster | rows | files | wall | rows/s | largest file: rows, rows/s | valid | refused | matched | new |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in d["rosters"]:
        c = r["counts"]
        lines.append(
            f"| {r['kind']} | {r['rows']:,} | {r['files']} | {r['seconds']:.1f} s | {r['rows_per_s']:,.0f} | "
            f"{r['largest_file_rows']:,}, {r['largest_file_rows_per_s']:,.0f} | {c.get('valid', 0):,} | "
            f"{c.get('refused', 0):,} | {c.get('matched', 0):,} | {c.get('new', 0):,} |"
        )
    rss = d.get("server_rss_mb")
    lines += [
        "",
        f"`roster_import_rows_per_s` = {d['roster_import_rows_per_s']:,.0f} (the lower of the two). "
        + (
            f"Server RSS: peak {rss['peak_mb']:.0f} MB (VmHWM), sampled max {rss['sampled_max_mb']:.0f} MB, "
            f"idle before {rss['idle_mb']:.0f} MB."
            if rss
            else "No server process (in-process run): no server RSS."
        ),
        "",
        _cpu_line(d),
        "",
        "Rows by match state over the staged batches: "
        + "; ".join(f"{k}: " + ", ".join(f"{s} {n:,}" for s, n in sorted(v.items())) for k, v in d["states"].items()),
    ]
    c = d.get("comparison")
    if c:
        lines += [
            "",
            f"Then every candidate confirmed ({c['candidates_confirmed']:,}), the {c['batches_applied']} batches "
            f"applied in {c['apply_s']:.1f} s (`applyRosterImport`, registering the new children), and "
            f"`runComparison` over the province in **{c['comparison_s']:.1f} s** (`comparison_s`; target ≤ 60 s), "
            f"{c['findings']:,} found, {c.get('via', 'in process')}"
            + (
                f"; the server's peak RSS through imports, applies and comparison **{c['server_peak_mb']:.0f} MB**."
                if "server_peak_mb" in c
                else f"; the bench process peaked at {c['bench_process_peak_mb']:.0f} MB."
            )
            + " Only household and registry rosters are imported (issue 12 §4): of the three comparisons, household"
            " vs registry runs; the other two do not (no roll or poverty roster is in).",
        ]
    return "\n".join(lines)


def _cpu_line(d: dict[str, Any]) -> str:
    """CPU seconds of the server process and of PostgreSQL over both rosters: the figure a shared machine's
    load does not distort as it does the wall clock (PostgreSQL's includes anything else it served)."""
    cpu, rows = d.get("cpu_s"), sum(r["rows"] for r in d["rosters"])
    if not cpu:
        return "CPU: not sampled (in-process run)."
    return (
        f"CPU over both rosters: the server process {cpu['server']:.0f} s ({rows / cpu['server']:,.0f} rows per "
        f"CPU-second), PostgreSQL {cpu['postgres']:.0f} s ({rows / cpu['postgres']:,.0f} rows per CPU-second, "
        f"all its processes{_own_backends(cpu, rows)}), wall {cpu['wall']:.0f} s; "
        f"load average {cpu['loadavg_before']:.1f} before and "
        f"{cpu['loadavg_after']:.1f} after on {d['machine']['cores']} cores (the machine is shared)."
    )


def _own_backends(cpu: dict[str, float], rows: int) -> str:
    own = cpu.get("postgres_db")
    return f"; the bench database's backends alone {own:.0f} s, {rows / own:,.0f} rows per CPU-second" if own else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of each roster")
    parser.add_argument("--database-url", default=None, help="use this database (else baoxue_bench_rosters)")
    parser.add_argument("--embedded", action="store_true")
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--via", choices=("http", "usecase"), default="http")
    parser.add_argument("--kinds", default="HOUSEHOLD,REGISTRY")
    parser.add_argument("--profile", type=int, default=0, help="print the N functions with the most own time")
    parser.add_argument("--output", default=None, help="directory for RESULTS.md and results.json (default bench/)")
    parser.add_argument("--no-write", action="store_true", help="print the numbers only")
    parser.add_argument(
        "--imports-only", action="store_true", help="no comparison step: nothing applied, the database stays as it was"
    )
    args = parser.parse_args()
    began = datetime.now(UTC)
    data = prepare(
        database_url=own_database(args.database_url, args.embedded), embedded=args.embedded, seeder="synthetic",
        children=args.children, provinces=1, seed_value=1, reseed=args.reseed,
    )  # fmt: skip
    discard_staged(data.dsn)
    work = Path(tempfile.mkdtemp(prefix="baoxue-rosters-"))
    rosters: list[Imported] = []
    rss: dict[str, float] | None = None
    cpu: dict[str, float] | None = None
    profiler = cProfile.Profile() if args.profile else None
    try:
        files = []
        for kind in args.kinds.split(","):
            t0 = time.perf_counter()
            roster = write_roster(data.dsn, kind, args.rows, work)
            log(f"{kind}: {roster.rows:,} rows in {len(roster.files)} county files ({time.perf_counter() - t0:.0f} s)")
            files.append(roster)
        if args.via == "http":
            server = web.start_api(data.url, secrets.token_urlsafe(32))
            load_before = os.getloadavg()[0]
            try:
                idle = web.rss_mb(server.process.pid)
                with web.Sampler(server.process.pid, database=make_url(data.url).database) as sampler:
                    for roster in files:
                        rosters.append(import_over_http(server.base, roster))
                        log(f"{roster.kind}: {rosters[-1].rows_per_s:,.0f} rows/s ({rosters[-1].seconds:.1f} s)")
                hwm = _vm_hwm_mb(server.process.pid)
                rss = {"peak_mb": hwm, "sampled_max_mb": sampler.max_mb, "idle_mb": idle}
                cpu = {**sampler.cpu_s, "loadavg_after": os.getloadavg()[0], "loadavg_before": load_before}
                log(f"server RSS: peak {hwm:.0f} MB, sampled max {sampler.max_mb:.0f} MB, idle {idle:.0f} MB")
                states = match_states(data.dsn)  # before the apply: the states the import gave
                comparison = None if args.imports_only else run_comparison_step(data.url, data.dsn, server)
            finally:
                server.stop()
        else:
            for roster in files:
                rosters.append(import_in_process(data.url, roster, profiler))
                log(f"{roster.kind}: {rosters[-1].rows_per_s:,.0f} rows/s ({rosters[-1].seconds:.1f} s)")
            states = match_states(data.dsn)
            comparison = None if args.imports_only else run_comparison_step(data.url, data.dsn, None)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if profiler is not None:
        print(top_functions(profiler, args.profile))
    result = {
        "roster_import_rows_per_s": min(r.rows_per_s for r in rosters),
        "rosters": [asdict(r) for r in rosters],
        "server_rss_mb": rss,
        "cpu_s": cpu,
        "states": states,
        "comparison": comparison,
        "children": data.children,
        "via": "POST /rosters on `baoxue serve --workers 1`" if args.via == "http" else "import_roster in process",
        "date": began.date().isoformat(),
        "elapsed_s": round((datetime.now(UTC) - began).total_seconds(), 1),
        "machine": machine(),
        "command": COMMAND,
    }
    log(f"roster_import_rows_per_s: {result['roster_import_rows_per_s']:,.0f} (target ≥ 50,000)")
    if not args.no_write:
        write_results(Path(args.output) if args.output else HERE, result)


def _vm_hwm_mb(pid: int) -> float:
    """The process's own peak resident set (VmHWM), which no sampling can miss."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


if __name__ == "__main__":
    main()
