"""`baoxue seed synthetic`: province-scale synthetic data, loaded with COPY in one transaction.

    baoxue seed synthetic --children 7000000 [--provinces 1] [--seed 1]

What is generated: places.py (the tree and its schools), people.py (children and
guardians), cases.py (ledger entries, visits, deferrals); here the accounts and grants at every
level, named as the demo names them (`edu-county-410102`, `gov-township-…`, …), with the demo password.

How it is loaded (load.py): one transaction on one connection. A worker process generates the
rows city by city while this process COPYs the previous city's, so generating and loading overlap on two
cores. Children go in the order county-scoped reads want them on disk (school path, then household path:
ARCHITECTURE, known traps), with ids from the tables' own sequences. Into empty tables the rows go with
COPY FREEZE after a TRUNCATE in the same transaction (exact order, frozen, all-visible); secondary indexes
are dropped first when a table more than doubles and re-created afterwards from their own definitions;
everything is ANALYZEd at the end.

Deterministic: the same --children/--provinces/--seed give the same rows (only the password hash differs).
Provinces that already have regions are refused, so nothing is ever loaded twice.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import multiprocessing
import os
import random
import signal
import sys
import time
import traceback
from multiprocessing.connection import Connection
from multiprocessing.context import ForkContext, SpawnContext
from typing import Any

import psycopg
from psycopg import sql

from authz.catalogue import Role
from authz.passwords import hash_password
from authz.state import CHANNEL
from models import child_counts, entry_counts
from models.base import today
from models.repos import audit, period_statistics

from ..demo.casework import AS_OF, TERMS
from ..demo.seed import DEMO_PASSWORD, EDU_ROLE, GOV_ROLE
from .cases import DEFERRAL_COLUMNS, ENTRY_COLUMNS, VISIT_COLUMNS, Cases
from .load import Loader, libpq
from .people import (
    CHILD_COLUMNS,
    CREATED,
    GUARDIAN_COLUMNS,
    People,
    child_line,
    guardian_line,
    in_storage_order,
)
from .places import PROVINCE_CODES, Province, build_province, county_sizes, regions_of, schools_of

LOADED = ("region", "school", "account", "role_grant", "child", "guardian", "ledger_entry", "persuasion_visit",
          "deferral_request")  # fmt: skip
SCHOOL_ACCOUNT_EVERY = 10  # principal and staff accounts for every tenth school of a county (and its first)
CHUNK = 20_000  # children per message from the worker
APPLICATION_NAME = "baoxue seed synthetic"  # how pg_stat_activity names the seed's connection


class SyntheticDataExists(RuntimeError):
    """Some of the provinces asked for are already in the database: nothing was loaded."""


def accounts_of(province: Province) -> list[tuple[str, str, Role, str, str]]:
    """(username, display name, role, jurisdiction code, scope path) at every level of the province."""
    out: list[tuple[str, str, Role, str, str]] = []

    def region(level: str, code: str, name: str, path: str) -> None:
        edu = f"{name}教育厅" if level == "province" else f"{name}教育局"
        out.append((f"edu-{level}-{code}", edu, EDU_ROLE[level], code, path))
        out.append((f"admin-{level}-{code}", f"{name}权限管理员", Role.PERMISSION_ADMIN, code, path))
        out.append((f"supervisor-{level}-{code}", f"{name}教育督导", Role.SUPERVISOR, code, path))
        out.append((f"integrator-{level}-{code}", f"{name}数据对接服务", Role.INTEGRATOR, code, path))
        out.append((f"gov-{level}-{code}", f"{name}人民政府", GOV_ROLE[level], code, path))

    region("province", province.code, province.name, province.code)
    for city in province.cities:
        region("city", city.code, city.name, city.path)
        for county in city.counties:
            region("county", county.code, county.name, county.path)
            schools = sorted([*county.schools, *(s for t in county.townships for s in t.primary)], key=lambda s: s.code)
            for s in schools[::SCHOOL_ACCOUNT_EVERY]:
                out.append((f"edu-school-{s.code}", f"{s.name}校长", Role.SCHOOL_PRINCIPAL, s.code, s.path))
                out.append((f"staff-school-{s.code}", f"{s.name}学籍管理员", Role.SCHOOL_STAFF, s.code, s.path))
            for t in county.townships:
                out.append((f"gov-township-{t.code}", f"{t.name}人民政府", Role.TOWNSHIP, t.code, t.path))
                out.extend((f"gov-village-{v.code}", v.name, Role.VILLAGE, v.code, v.path) for v in t.villages)
    return out


def provinces_for(children: int, provinces: int, seed: int) -> list[Province]:
    """The provinces' trees, sorted by code: each province gets an equal share of the children."""
    codes = PROVINCE_CODES[:provinces]
    shares = [children // provinces + (1 if n < children % provinces else 0) for n in range(provinces)]
    return sorted((build_province(c, n, seed) for c, n in zip(codes, shares, strict=True)), key=lambda p: p.code)


def die_with(parent: int, inherited: tuple[int, ...] = ()) -> None:
    """Make this worker end with its parent: a killed seed must not leave a generator behind.

    On Linux the kernel kills the worker when the parent dies (PR_SET_PDEATHSIG); elsewhere the worker
    dies at its next send, on a pipe whose only reader is gone. Closing the descriptors it inherited by
    fork (the pipe's reading end, the seed's database socket) is what makes that so, and what lets
    PostgreSQL see the seed's connection close, end its transaction and release its locks."""
    for fd in inherited:
        with contextlib.suppress(OSError):
            os.close(fd)
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG)")
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent stops the worker


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def generate(
    out: Connection,
    children: int,
    provinces: int,
    seed: int,
    first_ids: tuple[int, int, int],
    parent: int | None = None,
    inherited: tuple[int, ...] = (),
) -> None:
    """The worker process: every city's rows, as messages ("child", bytes)…, ("guardian", bytes)…,
    ("cases", entries, visits, deferrals, children); then ("done", next entry id) or ("error", traceback)."""
    if parent is not None:
        die_with(parent, inherited)
    try:
        places = provinces_for(children, provinces, seed)
        child_id, guardian_id, first_entry = first_ids  # one guardian per child, in the same order
        people, cases = People(places), Cases(first_entry)
        names = {c.code: c.name for p in places for c in p.counties}
        for province in places:
            sizes = county_sizes(province, seed)
            for city in province.cities:
                # A city at a time: its special-education schools take children from its other counties.
                kids = in_storage_order(
                    [
                        kid
                        for county in city.counties
                        for kid in people.children(random.Random(f"{seed}/{county.code}"), county, sizes[county.code])  # noqa: S311
                    ]
                )
                rng = random.Random(f"{seed}/{city.code}")  # noqa: S311 - reproducible synthetic data
                for start in range(0, len(kids), CHUNK):
                    part = kids[start : start + CHUNK]
                    out.send(
                        ("child", "".join([child_line(child_id + start + n, k) for n, k in enumerate(part)]).encode())
                    )
                for start in range(0, len(kids), CHUNK):
                    part, first, own = kids[start : start + CHUNK], child_id + start, guardian_id + start
                    lines = [guardian_line(rng, own + n, first + n, k) for n, k in enumerate(part)]
                    out.send(("guardian", "".join(lines).encode()))
                cases.city(rng, names, kids, child_id)
                out.send(("cases", *cases.take(), len(kids)))
                child_id += len(kids)
                guardian_id += len(kids)
        out.send(("done", cases.next_id))
    except BaseException:
        out.send(("error", traceback.format_exc()))
        raise
    finally:
        out.close()


def seed_synthetic(
    url: str,
    *,
    children: int,
    provinces: int = 1,
    seed: int = 1,
    progress: bool = True,
    drop_indexes: bool | None = None,
    actor: str = "cli",
    change_feed: bool = False,
) -> dict[str, Any]:
    """Load the synthetic provinces; returns the rows added per table and the seconds each phase took.

    `drop_indexes`: None decides per table (drop when the table more than doubles), True/False force it.
    `change_feed`: also write every loaded row to the change feed (off by default: a generated province is
    exported whole, and the feed's triggers would keep the COPY off its fast path)."""
    if children < 1 or not 1 <= provinces <= len(PROVINCE_CODES):
        raise ValueError(f"--children ≥ 1 and 1 ≤ --provinces ≤ {len(PROVINCE_CODES)}")
    started = time.perf_counter()
    # Closed, not rolled back, on the way out: after a Ctrl-C mid-COPY the connection is still busy and a
    # rollback fails noisily; closing it is the rollback (the server discards the open transaction).
    with contextlib.closing(psycopg.connect(libpq(url), application_name=APPLICATION_NAME)) as conn:
        load = Loader(conn, progress, change_feed=change_feed)
        cur = load.cur
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute(
            sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(sql.SQL(", ").join(map(sql.Identifier, LOADED)))
        )
        codes = list(PROVINCE_CODES[:provinces])
        there = cur.execute("SELECT code, name FROM region WHERE code = ANY(%s) ORDER BY code", [codes]).fetchall()
        if there:
            names = ", ".join(map(" ".join, there))
            raise SyntheticDataExists(
                f"已有这些省份的数据，未加载 / already in this database, nothing loaded: {names}. "
                "Use a fresh database (synthetic provinces are 41, 42, 43, … in order of --provinces)."
            )
        added: dict[str, int] = {}
        with load.timed("places"):
            places = provinces_for(children, provinces, seed)
            added.update(_places(load, places))
        with load.timed("accounts"):
            added.update(_accounts(load, places, actor))
        with load.timed("prepare"):
            load.fresh = load.truncate_if_empty(
                ["child", "guardian", "ledger_entry", "persuasion_visit", "deferral_request"]
            )
            estimates = {"child": children, "guardian": children, "ledger_entry": children // 25}
            estimates["persuasion_visit"] = children // 15
            rebuild: list[sql.Composed | sql.SQL] = []
            if drop_indexes is not False:
                for table, adding in estimates.items():
                    rebuild += load.drop_indexes(table, None if drop_indexes else adding)
        first = (load.next_id("child"), load.next_id("guardian"), load.next_id("ledger_entry"))
        with load.timed("children"):
            next_entry, counts = _stream(load, children, provinces, seed, first)
        added.update(counts)
        load.set_next_id("child", first[0] + children)
        load.set_next_id("guardian", first[1] + children)
        load.set_next_id("ledger_entry", next_entry)
        with load.timed("indexes"):
            bar = load.bar(len(rebuild), "indexes", " indexes", scale=False)
            for statement in rebuild:
                cur.execute(statement)
                bar.update(1)
            bar.close()
        with load.timed("counts"):  # the kept counts, which the COPY may have bypassed
            for recount in child_counts.REBUILD_STATEMENTS + entry_counts.REBUILD_STATEMENTS:
                cur.execute(recount)
        summary = {"children": children, "provinces": codes, "seed": seed, **added}
        audit.record_with(
            cur, actor=actor, action="seed.synthetic", target_type="Database", target_id="synthetic", summary=summary
        )
        cur.execute("SELECT pg_notify(%s, %s)", [CHANNEL, json.dumps({"op": "rebuild"})])  # servers reload grants
        with load.timed("analyze"):
            cur.execute(sql.SQL("ANALYZE {}").format(sql.SQL(", ").join(map(sql.Identifier, LOADED))))
        with load.timed("statistics"):  # month-end statistics of the cases' months, for ledgerStatistics
            period_statistics.snapshot_with(cur, TERMS[0][0], max(AS_OF, today()))
        with load.timed("commit"):
            conn.commit()
    load.timings["total"] = round(time.perf_counter() - started, 2)
    return {"added": added, "seconds": load.timings}


def _stream(
    load: Loader, children: int, provinces: int, seed: int, first: tuple[int, int, int]
) -> tuple[int, dict[str, int]]:
    """COPY what the worker process generates, city by city; the next free entry id and the rows added."""
    # Fork where it is safe (Linux; the worker never touches the inherited connection and leaves with os._exit);
    # elsewhere spawn, which re-imports the caller's main module: scripts calling this need a __main__ guard.
    context: ForkContext | SpawnContext = (
        multiprocessing.get_context("fork") if sys.platform == "linux" else multiprocessing.get_context("spawn")
    )
    receive, send = context.Pipe(duplex=False)
    inherited = (receive.fileno(), load.conn.pgconn.socket) if context.get_start_method() == "fork" else ()
    worker = context.Process(
        target=generate, args=(send, children, provinces, seed, first, os.getpid(), inherited), daemon=True
    )
    worker.start()
    send.close()
    counts = dict.fromkeys(("children", "guardians", "ledger entries", "persuasion visits", "deferral requests"), 0)
    bar = load.bar(children, "children", " children")

    def next_message() -> tuple[Any, ...]:
        try:
            return receive.recv()  # type: ignore[no-any-return]
        except EOFError:
            raise RuntimeError(f"the generator process ended unexpectedly (exit code {worker.exitcode})") from None

    try:
        message = next_message()
        while message[0] not in ("done", "error"):
            with load.copy("child", CHILD_COLUMNS) as copy:
                while message[0] == "child":
                    copy.write(message[1])
                    message = next_message()
            with load.copy("guardian", GUARDIAN_COLUMNS) as copy:
                while message[0] == "guardian":
                    copy.write(message[1])
                    message = next_message()
            _, entries, visits, deferrals, kids = message
            load.copy_rows("ledger_entry", ENTRY_COLUMNS, entries)
            load.copy_rows("persuasion_visit", VISIT_COLUMNS, visits)
            load.copy_rows("deferral_request", DEFERRAL_COLUMNS, deferrals)
            for name, n in (("children", kids), ("guardians", kids), ("ledger entries", len(entries)),
                            ("persuasion visits", len(visits)), ("deferral requests", len(deferrals))):  # fmt: skip
                counts[name] += n
            bar.update(kids)
            message = next_message()
        if message[0] == "error":
            raise RuntimeError(f"the generator failed:\n{message[1]}")
        worker.join()
    finally:
        bar.close()
        if worker.is_alive():
            worker.terminate()
            worker.join()
        receive.close()
    return int(message[1]), counts


def _places(load: Loader, places: list[Province]) -> dict[str, int]:
    regions = [(*row, CREATED, CREATED) for p in places for row in regions_of(p)]
    load.copy_rows("region", ("code", "name", "level", "parent_code", "path", "created_at", "updated_at"), regions)
    schools = [
        (s.code, s.name, s.region_code, list(s.stages), s.kind, s.path, s.code[2:4], CREATED, CREATED)
        for p in places
        for s in schools_of(p)
    ]
    columns = ("code", "name", "region_code", "stages", "kind", "path", "province_code", "created_at", "updated_at")
    load.copy_rows("school", columns, schools)
    return {"regions": len(regions), "schools": len(schools)}


def _accounts(load: Loader, places: list[Province], actor: str) -> dict[str, int]:
    """Accounts with the demo password (one argon2 hash for all) and one grant each."""
    password_hash = hash_password(DEMO_PASSWORD)
    people = [a for p in places for a in accounts_of(p)]
    first = load.next_id("account")
    columns = ("id", "username", "display_name", "password_hash", "is_service", "home_path", "active", "created_at",
               "updated_at")  # fmt: skip
    rows = [
        (first + n, user, name, password_hash, False, path, True, CREATED, CREATED)
        for n, (user, name, _, _, path) in enumerate(people)
    ]
    load.copy_rows("account", columns, rows)
    reason = "合成数据 / synthetic data"
    load.copy_rows(
        "role_grant",
        ("account_id", "role", "jurisdiction_code", "scope_path", "granted_by", "reason", "granted_at"),
        [(first + n, a[2].value, a[3], a[4], actor, reason, CREATED) for n, a in enumerate(people)],
    )
    load.set_next_id("account", first + len(people))
    return {"accounts": len(people), "grants": len(people)}
