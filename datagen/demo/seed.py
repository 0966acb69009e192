"""`baoxue seed demo`: the places of the policy texts, their schools, accounts and grants, and a generated
population of about 3,000 children with their ledger cases (people.py, cases.py).

Deterministic and idempotent: running it again adds nothing that is already there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg import sql
from psycopg.types.json import Json, Jsonb
from sqlalchemy import Table, func, literal, text
from sqlalchemy.dialects.postgresql import JSON, JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col, select

from authz.catalogue import Role
from authz.passwords import hash_password
from authz.state import publish_rebuild
from models.account import Account
from models.attendance import AttendanceMark, ClassRegister
from models.base import today
from models.child import Child, Guardian
from models.enrolment import EnrolmentEvent
from models.grant import RoleGrant
from models.ledger import Handover, LedgerEntry
from models.persuasion import CasePlan, DeferralRequest, PersuasionVisit
from models.province import CitySetting
from models.region import NATION_CODE, NATION_PATH, Region, level_of_code, path_of_code
from models.repos import period_statistics
from models.roster_import import RosterImport, RosterRow
from models.school import School, school_path
from resolvers.audit import record_change
from resolvers.context import Context

from .cases import demo_data
from .casework import AS_OF, TERMS, DemoData
from .people import ABSENCE_STORY_NAMES as ABSENCE_STORY_NAMES  # the attendance story's children (README)
from .people import national_id as national_id
from .places import PROVINCES, SCHOOLS, walk
from .platform import seed_platform_batch
from .pushed import seed_pushed_list

DEMO_PASSWORD = "baoxue-demo"  # noqa: S105  (published demo password, see README)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    role: Role
    jurisdiction: str  # region code, school code or CN


EDU_ROLE = {"province": Role.PROVINCE_EDU, "city": Role.CITY_EDU, "county": Role.COUNTY_EDU}
GOV_ROLE = {
    "province": Role.PROVINCE_GOV,
    "city": Role.CITY_GOV,
    "county": Role.COUNTY_GOV,
    "township": Role.TOWNSHIP,
    "village": Role.VILLAGE,
}


GUYUAN = "6404"  # 固原市, whose own practice the term survey is


def demo_accounts() -> list[DemoAccount]:
    """`{line}-{level}-{code}` for every jurisdiction of the demo tree, each with its role there."""
    out = [DemoAccount(f"edu-nation-{NATION_CODE}", "教育部（演示）", Role.MINISTRY, NATION_CODE)]
    for place, _ in walk(PROVINCES):
        level = level_of_code(place.code).value.lower()
        n, c = place.name, place.code
        if level == "province":
            out.append(DemoAccount(f"edu-province-{c}", f"{n}教育厅", Role.PROVINCE_EDU, c))
        elif level in EDU_ROLE:
            out.append(DemoAccount(f"edu-{level}-{c}", f"{n}教育局", EDU_ROLE[level], c))
        if level in ("province", "city", "county"):
            out.append(DemoAccount(f"admin-{level}-{c}", f"{n}权限管理员", Role.PERMISSION_ADMIN, c))
            out.append(DemoAccount(f"supervisor-{level}-{c}", f"{n}教育督导", Role.SUPERVISOR, c))
            out.append(DemoAccount(f"integrator-{level}-{c}", f"{n}数据对接服务", Role.INTEGRATOR, c))
        name = n if level == "village" else f"{n}人民政府"
        out.append(DemoAccount(f"gov-{level}-{c}", name, GOV_ROLE[level], c))
    for school in SCHOOLS:
        out.append(DemoAccount(f"edu-school-{school.code}", f"{school.name}校长", Role.SCHOOL_PRINCIPAL, school.code))
        out.append(
            DemoAccount(f"staff-school-{school.code}", f"{school.name}学籍管理员", Role.SCHOOL_STAFF, school.code)
        )
    return sorted(out, key=lambda a: a.username)


# What the seed reports it added, in this order (the CLI prints it).
POPULATION = (
    "children",
    "guardians",
    "enrolment events",
    "ledger entries",
    "persuasion visits",
    "case plans",
    "deferral requests",
    "handovers",
    "attendance marks",
    "class registers",
    "exam registrations",
    "platform batches",
)


def _columns(row: dict[str, Any], **ids: int | None) -> dict[str, Any]:
    """A generated row as the table takes it: references by position (`_child`, ...) replaced by ids."""
    return {k: v for k, v in row.items() if not k.startswith("_")} | ids


async def _new_ids(session: AsyncSession, model: type[SQLModel], count: int) -> list[int]:
    """`count` ids drawn from the table's own sequence, so rows can refer to each other before they exist."""
    stmt = text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)")
    drawn = await session.scalars(stmt, {"table": model.__tablename__, "count": count})
    return sorted(int(i) for i in drawn)


async def _copy(session: AsyncSession, model: type[SQLModel], rows: list[dict[str, Any]]) -> int:
    """Bulk load with COPY, inside the session's transaction; columns left out take their server defaults."""
    if not rows:
        return 0
    table: Table = model.__table__  # type: ignore[attr-defined]
    columns = list(rows[0])
    wrap = {c: Jsonb if isinstance(t, JSONB) else Json for c in columns if isinstance(t := table.c[c].type, JSON)}
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    async with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            await copy.write_row([wrap[c](row[c]) if c in wrap else row[c] for c in columns])
    return len(rows)


async def load_population(session: AsyncSession, data: DemoData) -> dict[str, int]:
    """Insert the generated children and everything about them with COPY, table by table."""
    child = await _new_ids(session, Child, len(data.children))
    entry = await _new_ids(session, LedgerEntry, len(data.entries))
    visit = await _new_ids(session, PersuasionVisit, len(data.visits))

    def of_child(row: dict[str, Any]) -> dict[str, Any]:
        return _columns(row, child_id=child[row["_child"]])

    def of_entry(row: dict[str, Any]) -> dict[str, Any]:
        ids = {"child_id": child[row["_child"]]} if "_child" in row else {}
        return _columns(row, entry_id=entry[row["_entry"]], **ids)

    def ref(position: int | None) -> int | None:
        return None if position is None else entry[position]

    entries = [
        _columns(
            row,
            id=entry[n],
            child_id=child[row["_child"]],
            escalated_from_id=ref(row["_escalated_from"]),
            previous_entry_id=ref(row["_previous"]),
        )
        for n, row in enumerate(data.entries)
    ]
    return {  # in this order: every row refers only to rows loaded before it (an entry to earlier entries)
        "children": await _copy(session, Child, [_columns(r, id=i) for r, i in zip(data.children, child, strict=True)]),
        "guardians": await _copy(session, Guardian, [of_child(r) for r in data.guardians]),
        "enrolment events": await _copy(session, EnrolmentEvent, [of_child(r) for r in data.enrolments]),
        "ledger entries": await _copy(session, LedgerEntry, entries),
        "persuasion visits": await _copy(
            session, PersuasionVisit, [of_entry(r) | {"id": visit[n]} for n, r in enumerate(data.visits)]
        ),
        "case plans": await _copy(session, CasePlan, [of_child(r) for r in data.plans]),
        "deferral requests": await _copy(
            session,
            DeferralRequest,
            [
                of_entry(r) | {"statement_visit_id": None if r["_visit"] is None else visit[r["_visit"]]}
                for r in data.deferrals
            ],
        ),
        "handovers": await _copy(session, Handover, [of_entry(r) for r in data.handovers]),
        "attendance marks": await _copy(
            session, AttendanceMark, [of_child({"leave_reason": None, "leave_until": None} | r) for r in data.marks]
        ),
        "class registers": await _copy(session, ClassRegister, data.registers),
        "exam registrations": await _exam_registrations(session, data, child),
    }


async def _exam_registrations(session: AsyncSession, data: DemoData, child: list[int]) -> int:
    """Wuding's applied 中考 registration roster (datagen/demo/transitions.py): the batch, then its rows."""
    if not data.exam_registration:
        return 0
    [batch] = await _new_ids(session, RosterImport, 1)
    await _copy(session, RosterImport, [data.exam_registration | {"id": batch}])
    rows = [_columns(r, import_id=batch, child_id=child[r["_child"]]) for r in data.exam_rows]
    return await _copy(session, RosterRow, rows)


async def seed_demo(session: AsyncSession, *, actor: str = "seed") -> dict[str, int]:
    """Insert what is missing of the demo data; returns how many rows each table gained."""
    paths = {place.code: path_of_code(place.code) for place, _ in walk(PROVINCES)}
    school_paths = {s.code: school_path(paths[s.region_code], s.code) for s in SCHOOLS}
    jurisdiction_paths = {**paths, **school_paths, NATION_CODE: NATION_PATH}
    regions = [
        {"code": p.code, "name": p.name, "level": level_of_code(p.code), "parent_code": parent, "path": paths[p.code]}
        for p, parent in walk(PROVINCES)
    ]
    schools = [
        {
            "code": s.code,
            "name": s.name,
            "region_code": s.region_code,
            "stages": list(s.stages),
            "kind": s.kind,
            "path": school_paths[s.code],
            "province_code": s.region_code[:2],
        }
        for s in SCHOOLS
    ]
    # One hash for all demo accounts: hashing ~440 passwords with argon2 would slow the first start.
    password_hash = hash_password(DEMO_PASSWORD)
    people = demo_accounts()
    accounts = [
        {
            "username": a.username,
            "display_name": a.display_name,
            "password_hash": password_hash,
            "home_path": jurisdiction_paths[a.jurisdiction],
        }
        for a in people
    ]
    added = {}
    for name, model, rows in (
        ("regions", Region, regions),
        ("schools", School, schools),
        ("accounts", Account, accounts),
    ):
        result = await session.execute(insert(model).values(rows).on_conflict_do_nothing().returning(literal(1)))
        added[name] = len(result.all())  # rowcount is -1 for a batched multi-row insert

    id_rows = await session.execute(select(col(Account.username), col(Account.id)))
    ids: dict[str, int] = {username: account_id or 0 for username, account_id in id_rows.all()}
    held_rows = await session.execute(select(col(RoleGrant.account_id), col(RoleGrant.role), col(RoleGrant.scope_path)))
    held = {(a, r, p) for a, r, p in held_rows.all()}
    grants = [
        {
            "account_id": ids[a.username],
            "role": a.role.value,
            "jurisdiction_code": a.jurisdiction,
            "scope_path": jurisdiction_paths[a.jurisdiction],
            "granted_by": actor,
            "reason": "演示数据 / demo data",
        }
        for a in people
        if (ids[a.username], a.role.value, jurisdiction_paths[a.jurisdiction]) not in held
    ]
    added["grants"] = len(grants)
    if grants:
        await session.execute(insert(RoleGrant).values(grants))
        await publish_rebuild(session)  # running servers pick the new grants up

    # 固原市 keeps its own term-survey calendar (POLICY 003 §2(二)); a choice changed since is kept.
    guyuan = {"city_code": GUYUAN, "province_code": GUYUAN[:2], "term_survey_enabled": True}
    await session.execute(insert(CitySetting).values(guyuan).on_conflict_do_nothing())

    added.update(dict.fromkeys(POPULATION, 0))
    if not await session.scalar(select(func.count()).select_from(Child)):
        added.update(await load_population(session, demo_data()))
        added["platform batches"] = await seed_platform_batch(session)
    await period_statistics.snapshot(session, TERMS[0][0], max(AS_OF, today()))  # the demo's months, for dashboards
    if pushed := await seed_pushed_list(session):  # the ministry's list, routed to the counties
        added["pushed lists"] = pushed
    operator = Context(session=session, principal=None, system_actor=actor, operator=True)
    await record_change(operator, action="seed.demo", target_type="Database", target_id="demo", summary=added)
    return added
