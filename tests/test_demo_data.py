"""The demo data: the places of the policy texts with real division codes, schools, accounts."""

from __future__ import annotations

from sqlalchemy import func, select

from baoxue.demo.places import SCHOOLS
from baoxue.demo.seed import demo_accounts, seed_demo
from models import Account, Region, School


async def test_chuxiong_baicheng_and_guyuan_have_all_their_counties(session):
    async def children(code: str) -> dict[str, str]:
        rows = await session.scalars(select(Region).where(Region.parent_code == code))
        return {r.code: r.name for r in rows}

    chuxiong = await children("5323")
    assert len(chuxiong) == 10
    assert chuxiong["532329"] == "武定县"
    assert set((await children("2208")).values()) == {"洮北区", "镇赉县", "通榆县", "洮南市", "大安市"}
    assert set((await children("6404")).values()) == {"原州区", "西吉县", "隆德县", "泾源县", "彭阳县"}


async def test_every_county_has_townships_and_primary_and_junior_schools(session):
    counties = (await session.scalars(select(Region).where(Region.level == "COUNTY"))).all()
    for county in counties:
        townships = await session.scalar(
            select(func.count()).select_from(Region).where(Region.parent_code == county.code)
        )
        assert townships >= 2, county.name
        schools = [s for s in SCHOOLS if s.region_code.startswith(county.code)]
        assert any("PRIMARY" in s.stages for s in schools), county.name
        assert any("JUNIOR" in s.stages for s in schools), county.name


async def test_school_paths_extend_their_region_paths(session):
    rows = (await session.execute(select(School, Region).join(Region, School.region_code == Region.code))).all()
    assert len(rows) == len(SCHOOLS)
    for school, region in rows:
        assert school.path == f"{region.path}/{school.code}"
        assert school.province_code == region.code[:2]
        assert len(school.code) == 10
        assert school.code.isdigit()


async def test_demo_accounts_follow_the_naming_scheme(session):
    names = {a.username for a in demo_accounts()}
    for expected in (
        "edu-province-53",
        "edu-city-5323",
        "edu-county-532329",
        "gov-province-64",
        "gov-township-532329101",
        "admin-county-640402",
        "integrator-province-22",
        "supervisor-city-2208",
    ):
        assert expected in names
    school = SCHOOLS[0].code
    assert {f"edu-school-{school}", f"staff-school-{school}"} <= names
    stored = await session.scalar(select(func.count()).select_from(Account).where(Account.username.in_(names)))
    assert stored == len(names)


async def test_seeding_again_adds_nothing(session):
    added = await seed_demo(session)
    assert added == {"regions": 0, "schools": 0, "accounts": 0, "grants": 0, "children": 0}
