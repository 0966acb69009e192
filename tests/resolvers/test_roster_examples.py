"""The example rosters of 武定县 in docs/examples/rosters/ read clean, apart from the bad household lines
that README.md in that folder lists (make_examples.py writes them from the demo data), checked in the
database as an import checks them (`checked_rows`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from models.roster import RosterKind, RosterRecord
from resolvers.rosters.files import read_roster
from tests.roster_support import checked_rows

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "rosters"
BAD_HOUSEHOLD_LINES = {
    162: {("公民身份号码", "INVALID_CHECK_DIGIT")},
    163: {("出生日期", "BIRTH_DATE_MISMATCH")},
    164: {("户籍地区划代码", "OUT_OF_SCOPE")},
    165: {("公民身份号码", "DUPLICATE_IN_FILE")},
    166: {("姓名", "REQUIRED"), ("性别", "INVALID_GENDER")},
}


async def results(
    session: AsyncSession, name: str, kind: RosterKind
) -> tuple[list[RosterRecord], dict[int, set[tuple[str, str]]]]:
    good, bad = [], {}
    with (EXAMPLES / name).open("rb") as stream:
        rows = list(read_roster(stream, name, kind, max_bytes=1 << 20))
        for result in await checked_rows(session, kind, rows):
            if isinstance(result, RosterRecord):
                good.append(result)
            else:
                bad[result[0].line] = {(p.column, p.code) for p in result}
    return good, bad


@pytest.mark.parametrize("name", ["532329-household.csv", "532329-household-gb18030.csv"])
async def test_the_household_examples_fail_only_on_the_documented_lines(session: AsyncSession, name: str) -> None:
    good, bad = await results(session, name, RosterKind.HOUSEHOLD)
    assert bad == BAD_HOUSEHOLD_LINES
    assert len(good) == 160
    assert good[-1].national_id is None  # a child found door to door, with no ID


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("532329-registry.xlsx", RosterKind.REGISTRY),
        ("532329-in-school.csv", RosterKind.IN_SCHOOL),
        ("532329-poverty.csv", RosterKind.POVERTY),
    ],
)
async def test_the_other_examples_read_clean(session: AsyncSession, name: str, kind: RosterKind) -> None:
    good, bad = await results(session, name, kind)
    assert bad == {}
    assert good
