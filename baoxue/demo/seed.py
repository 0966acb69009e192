"""`baoxue seed demo`: the places of the policy texts, their schools, children, accounts and grants.

Deterministic and idempotent: running it again adds nothing that is already there.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from stdnum.cn import ric

from authz.catalogue import Role
from authz.passwords import hash_password
from authz.state import publish_rebuild
from models.account import Account
from models.child import Child, Guardian, SpecialGroup
from models.grant import RoleGrant
from models.region import NATION_CODE, NATION_PATH, Region, level_of_code, path_of_code
from models.repos import audit
from models.school import School, school_path

from .places import PROVINCES, SCHOOLS, DemoSchool, Place

DEMO_PASSWORD = "baoxue-demo"  # noqa: S105  (published demo password, see README)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    role: Role
    jurisdiction: str  # region code, school code or CN


def walk(places: tuple[Place, ...], parent: str | None = None) -> Iterator[tuple[Place, str | None]]:
    for place in places:
        yield place, parent
        yield from walk(place.children, place.code)


EDU_ROLE = {"province": Role.PROVINCE_EDU, "city": Role.CITY_EDU, "county": Role.COUNTY_EDU}
GOV_ROLE = {
    "province": Role.PROVINCE_GOV,
    "city": Role.CITY_GOV,
    "county": Role.COUNTY_GOV,
    "township": Role.TOWNSHIP,
    "village": Role.VILLAGE,
}


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


# ID numbers keep the county code of first registration: 禄丰市 (532302 since 2021) issued 532331.
ID_PREFIX = {"532302": "532331"}
GROUP_CYCLE = [
    (7, SpecialGroup.LEFT_BEHIND),
    (11, SpecialGroup.POVERTY_REGISTERED),
    (13, SpecialGroup.LOW_INCOME),
    (29, SpecialGroup.DISABLED),
    (31, SpecialGroup.IN_DIFFICULTY),
    (37, SpecialGroup.ORPHAN),
]


def national_id(county: str, birth: date, sequence: int, male: bool) -> str:
    """A valid 18-character ID: county code, birth date, order code (odd for boys), check digit."""
    order = sequence % 500 * 2 + (1 if male else 0)
    body = f"{ID_PREFIX.get(county, county)}{birth:%Y%m%d}{order:03d}"
    return body + ric.calc_check_digit(body + "X")  # it reads the first 17 characters


def _identity(row: dict[str, object], n: int) -> dict[str, object]:
    """Demo ID, registry number, special groups and disability details for the n-th child."""
    birth = row["birth_date"]
    assert isinstance(birth, date)
    nid = national_id(str(row["household_region_code"])[:6], birth, n, row["gender"] == "MALE")
    groups = [group.value for every, group in GROUP_CYCLE if n % every == every - 1]
    if row["residence_region_code"] != row["household_region_code"]:
        groups.append(SpecialGroup.MIGRANT.value)
    disabled = SpecialGroup.DISABLED.value in groups
    return {
        **row,
        "national_id": nid,
        "registry_number": f"G{nid}" if row["school_code"] else None,
        "special_groups": groups,
        "disability_category": "智力残疾" if disabled else None,
        "disability_grade": 3 if disabled else None,
    }


SURNAMES = "张王李赵刘陈杨黄马周"
GIVEN = ["小明", "春燕", "晓东", "海燕", "建华", "丽娟", "志强", "玉兰", "文博", "思雨", "子涵", "浩然"]


def _primary_school_in(county: str) -> DemoSchool:
    return next(s for s in SCHOOLS if s.region_code.startswith(county) and "PRIMARY" in s.stages)


def demo_children() -> list[dict[str, object]]:
    """Per village: one child at school, one out of school (失学); per county one migrant child whose
    household is here while living and studying in the next county of the same city (随迁子女)."""
    counties = [p for p, _ in walk(PROVINCES) if len(p.code) == 6]
    rows: list[dict[str, object]] = []
    for index, county in enumerate(counties):
        siblings = [c for c in counties if c.code[:4] == county.code[:4]]
        neighbour = siblings[(siblings.index(county) + 1) % len(siblings)]
        villages = [v for t in county.children for v in t.children]
        for v_index, village in enumerate(villages):
            n = len(rows)
            school = _primary_school_in(county.code)
            common = {"household_region_code": village.code, "province_code": village.code[:2]}
            rows.append(
                {
                    **common,
                    "name": SURNAMES[n % 10] + GIVEN[n % 12],
                    "gender": "MALE" if n % 2 else "FEMALE",
                    "birth_date": date(2014 + n % 5, 1 + n % 12, 1 + n % 28),
                    "school_code": school.code,
                    "grade": 1 + n % 6,
                    "residence_region_code": village.code,
                }
            )
            rows.append(
                {
                    **common,
                    "name": SURNAMES[(n + 3) % 10] + GIVEN[(n + 5) % 12],
                    "gender": "FEMALE",
                    "birth_date": date(2012 + n % 4, 1 + n % 12, 2 + n % 27),
                    "school_code": None,
                    "grade": None,
                    "residence_region_code": village.code,
                }
            )
            if v_index == 0 and neighbour is not county:
                away = neighbour.children[0].children[0]
                rows.append(
                    {
                        **common,
                        "name": SURNAMES[(index + 7) % 10] + GIVEN[(index + 2) % 12],
                        "gender": "MALE",
                        "birth_date": date(2015, 3, 1 + index),
                        "school_code": _primary_school_in(neighbour.code).code,
                        "grade": 3,
                        "residence_region_code": away.code,
                    }
                )
    return [_identity(row, n) for n, row in enumerate(rows)]


def demo_guardians(children: list[dict[str, object]], ids: list[int]) -> list[dict[str, object]]:
    """One guardian per child, a parent with a (fictional) mobile number."""
    return [
        {
            "child_id": child_id,
            "name": str(child["name"])[0] + ("建国" if n % 2 else "秀英"),
            "relation": "父亲 / father" if n % 2 else "母亲 / mother",
            "phone": f"139{n:08d}",
            "province_code": child["province_code"],
        }
        for n, (child, child_id) in enumerate(zip(children, ids, strict=True))
    ]


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
        result = await session.execute(insert(model).values(rows).on_conflict_do_nothing())
        added[name] = max(result.rowcount, 0)  # type: ignore[attr-defined]

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

    added["children"] = 0
    if not await session.scalar(select(func.count()).select_from(Child)):
        children = demo_children()
        for child in children:
            child["household_path"] = paths[str(child["household_region_code"])]
            child["residence_path"] = paths[str(child["residence_region_code"])]
            child["school_path"] = school_paths[str(child["school_code"])] if child["school_code"] else None
        inserted = await session.scalars(insert(Child).values(children).returning(col(Child.id)))
        child_ids: list[int] = [i or 0 for i in inserted.all()]
        await session.execute(insert(Guardian).values(demo_guardians(children, child_ids)))
        added["children"] = len(children)
    await audit.record(
        session, actor=actor, action="seed.demo", target_type="Database", target_id="demo", summary=added
    )
    return added
