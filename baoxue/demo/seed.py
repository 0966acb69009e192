"""`baoxue seed demo`: the places of the policy texts, their schools and the demo accounts.

Deterministic and idempotent: running it again adds nothing that is already there.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from authz.passwords import hash_password
from models.account import Account
from models.region import Region, level_of_code, path_of_code
from models.repos import audit
from models.school import School, school_path

from .places import PROVINCES, SCHOOLS, Place

DEMO_PASSWORD = "baoxue-demo"  # noqa: S105  (published demo password, see README)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str


def walk(places: tuple[Place, ...], parent: str | None = None) -> Iterator[tuple[Place, str | None]]:
    for place in places:
        yield place, parent
        yield from walk(place.children, place.code)


def demo_accounts() -> list[DemoAccount]:
    """`{line}-{level}-{code}` for every jurisdiction of the demo tree (see the README)."""
    out: list[DemoAccount] = []
    for place, _ in walk(PROVINCES):
        level = level_of_code(place.code).value.lower()
        n, c = place.name, place.code
        if level == "province":
            out += [
                DemoAccount(f"edu-province-{c}", f"{n}教育厅"),
                DemoAccount(f"integrator-province-{c}", f"{n}数据对接服务"),
            ]
        elif level in ("city", "county"):
            out.append(DemoAccount(f"edu-{level}-{c}", f"{n}教育局"))
        if level in ("province", "city", "county"):
            out += [
                DemoAccount(f"admin-{level}-{c}", f"{n}权限管理员"),
                DemoAccount(f"supervisor-{level}-{c}", f"{n}教育督导"),
            ]
        out.append(DemoAccount(f"gov-{level}-{c}", n if level == "village" else f"{n}人民政府"))
    for school in SCHOOLS:
        out += [
            DemoAccount(f"edu-school-{school.code}", f"{school.name}校长"),
            DemoAccount(f"staff-school-{school.code}", f"{school.name}学籍管理员"),
        ]
    return sorted(out, key=lambda a: a.username)


async def seed_demo(session: AsyncSession, *, actor: str = "seed") -> dict[str, int]:
    """Insert what is missing of the demo data; returns how many rows each table gained."""
    paths = {place.code: path_of_code(place.code) for place, _ in walk(PROVINCES)}
    regions = [
        {
            "code": p.code,
            "name": p.name,
            "level": level_of_code(p.code),
            "parent_code": parent,
            "path": paths[p.code],
        }
        for p, parent in walk(PROVINCES)
    ]
    schools = [
        {
            "code": s.code,
            "name": s.name,
            "region_code": s.region_code,
            "stages": list(s.stages),
            "kind": s.kind,
            "path": school_path(paths[s.region_code], s.code),
            "province_code": s.region_code[:2],
        }
        for s in SCHOOLS
    ]
    # One hash for all demo accounts: hashing ~440 passwords with argon2 would slow the first start.
    password_hash = hash_password(DEMO_PASSWORD)
    accounts = [
        {"username": a.username, "display_name": a.display_name, "password_hash": password_hash}
        for a in demo_accounts()
    ]
    added = {}
    for name, model, rows in (
        ("regions", Region, regions),
        ("schools", School, schools),
        ("accounts", Account, accounts),
    ):
        result = await session.execute(insert(model).values(rows).on_conflict_do_nothing())
        added[name] = max(result.rowcount, 0)  # type: ignore[attr-defined]
    await audit.record(
        session, actor=actor, action="seed.demo", object_type="Database", object_id="demo", summary=added
    )
    return added
