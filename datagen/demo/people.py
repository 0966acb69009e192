"""The demo's children (generated, not real people): about 3,000 across the villages of the demo tree.

Deterministic: every choice comes from `random.Random` seeded with a fixed number, so two runs give the
same rows. Shares follow what the policy texts describe for these counties: many left-behind children
(留守), several per cent from poverty-registered households (建档立卡), about 1.5–2% disabled, a few orphans,
about 7% migrant children (随迁子女: registered in one county, living and studying in another, some in
another province), and about 1% of school-age children out of school (失学), known only to the
government line.

Ages are counted on 31 August 2026 (the default cut-off, models/province.py): 6–15, a handful 16.
The grade is the 2026–27 school year's: age − 5, one year less for a late starter.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from stdnum.cn import ric

from models.base import CHINA_TIME
from models.child import SpecialGroup

from .places import DemoSchool, Geography, Village, data_text

Row = dict[str, Any]

SEED = 201772  # 国办发〔2017〕72号
CUTOFF = date(2026, 8, 31)  # ages are counted on the school-age cut-off day
SCHOOL_YEAR = 2026  # the current school year, 2026–27

# ID numbers keep the county code of first registration: 禄丰市 (532302 since 2021) issued 532331.
ID_PREFIX = {"532302": "532331"}


def national_id(county: str, birth: date, sequence: int, male: bool) -> str:
    """A valid 18-character ID: county code, birth date, order code (odd for boys), check digit."""
    order = sequence % 500 * 2 + (1 if male else 0)
    body = f"{ID_PREFIX.get(county, county)}{birth:%Y%m%d}{order:03d}"
    return body + ric.calc_check_digit(body + "X")  # it reads the first 17 characters


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """A moment of a day in China Standard Time: the demo's timestamps are derived from its dates."""
    return datetime.combine(day, time(hour, minute), CHINA_TIME)


# Names to draw from (data/names.json): surnames per province (Yunnan 53, Jilin 22, Ningxia 64), given names.
NAMES = json.loads(data_text("names.json"))
SURNAMES: dict[str, str] = NAMES["surnames"]
BOYS: list[str] = NAMES["boys"]
GIRLS: list[str] = NAMES["girls"]
MEN: list[str] = NAMES["men"]
WOMEN: list[str] = NAMES["women"]
DISABILITIES: list[str] = NAMES["disabilities"]

# Shares per province (Yunnan 53, Jilin 22, Ningxia 64): left-behind in rural villages, poverty-registered.
LEFT_BEHIND_RATE = {"53": 0.26, "22": 0.14, "64": 0.22}
POVERTY_RATE = {"53": 0.09, "22": 0.05, "64": 0.10}


def person_name(rng: random.Random, province: str, male: bool, *, adult: bool = False) -> str:
    given = (MEN if male else WOMEN) if adult else (BOYS if male else GIRLS)
    return rng.choice(SURNAMES[province]) + rng.choice(given)


@dataclass(frozen=True)
class StoryChild:
    """A child of a fixed demo story, placed by hand."""

    name: str
    male: bool
    birth: date
    household: str  # village code
    residence: str  # village code
    school: str | None
    grade: int | None
    groups: tuple[SpecialGroup, ...] = ()


# The attendance story (README): three children of 武定县 (532329), on no ledger, absent without leave on every
# school day from Monday 2 March to Friday 13 March 2026 while their classes' registers were taken. The county
# bureau running `runLedgerRules(asOf: "2026-03-13")` sees the rule of POLICY 003 annex 1 note 1 hold for them.
ABSENCE_STORY = (
    StoryChild("普阿芝", False, date(2016, 4, 18), "532329207201", "532329207201", "2153000037", 5),
    StoryChild("起永福", True, date(2015, 11, 3), "532329207202", "532329207202", "2153000037", 5),
    StoryChild("鲁文斌", True, date(2013, 2, 21), "532329207202", "532329207202", "2153000035", 8),
)
ABSENCE_STORY_NAMES = tuple(c.name for c in ABSENCE_STORY)
ABSENCE_FIRST_DAY, ABSENCE_LAST_DAY = date(2026, 3, 2), date(2026, 3, 13)

# Children the ledger stories need in particular places (see cases.py).
HANDED_BACK = StoryChild(  # registered in 原州区 (Ningxia), studying in 楚雄市 (Yunnan); handed back, acknowledged
    "马小军", True, date(2012, 10, 9), "640402205200", "532301102203", "2153000004", 8,
    (SpecialGroup.POVERTY_REGISTERED,),
)  # fmt: skip
HANDOVER_PENDING = (
    StoryChild(  # registered in 大姚县 (Yunnan), studying in 洮南市 (Jilin); handover not yet acknowledged
        "毕春兰", False, date(2013, 1, 27), "532326102202", "220881100200", "2122000013", 8
    )
)
AGED_16 = (  # past compulsory-school age: two aged-out close-outs and one over-age dropout (category O)
    StoryChild("张海龙", True, date(2010, 3, 14), "532328210201", "532328210201", None, None),
    StoryChild("海志明", True, date(2009, 12, 2), "640422212200", "640422212200", None, None),
    StoryChild("包宏伟", True, date(2010, 5, 30), "220822202200", "220822202200", "2122000009", 9),
)
STORY_CHILDREN = (*ABSENCE_STORY, HANDED_BACK, HANDOVER_PENDING, *AGED_16)
SHISHAN = "532329101"  # 狮山镇: the README's township; it keeps an out-of-school child


def _birth_for_age(rng: random.Random, age: int) -> date:
    """A birth date making the child `age` on the cut-off day."""
    first = date(CUTOFF.year - age - 1, CUTOFF.month, CUTOFF.day) + timedelta(days=1)
    return first + timedelta(days=rng.randrange(365))


def _grade_for_age(rng: random.Random, age: int) -> int:
    if age <= 6:
        return 1
    if age >= 15:
        return 9
    return max(1, min(9, age - 5 - (1 if rng.random() < 0.1 else 0)))


def _groups(rng: random.Random, village: Village, age: int, migrant: bool) -> list[str]:
    province = village.code[:2]
    groups: set[SpecialGroup] = set()
    if not migrant and village.rural and rng.random() < LEFT_BEHIND_RATE[province]:
        groups.add(SpecialGroup.LEFT_BEHIND)
    if rng.random() < POVERTY_RATE[province]:
        groups.add(SpecialGroup.POVERTY_REGISTERED)
    if rng.random() < 0.045:
        groups.add(SpecialGroup.LOW_INCOME)
    if rng.random() < 0.019:
        groups.add(SpecialGroup.DISABLED)
    if rng.random() < 0.02:
        groups.add(SpecialGroup.IN_DIFFICULTY)
    if rng.random() < 0.003:
        groups.add(SpecialGroup.ORPHAN)
    elif rng.random() < 0.004:
        groups.add(SpecialGroup.UNSUPPORTED)
    if rng.random() < 0.003:
        groups.add(SpecialGroup.PRISONERS_CHILD)
    if age >= 12 and rng.random() < 0.004:
        groups.add(SpecialGroup.JUVENILE_IN_CASE)
    if migrant:
        groups.add(SpecialGroup.MIGRANT)
    return [g.value for g in SpecialGroup if g in groups]


class People:
    """Generates the children, their guardians and their enrolment history."""

    def __init__(self, rng: random.Random, geo: Geography) -> None:
        self.rng = rng
        self.geo = geo
        self.children: list[Row] = []
        self._order: dict[tuple[str, date], int] = defaultdict(int)

    def generate(self) -> list[Row]:
        rng, geo = self.rng, self.geo
        for village in geo.villages:
            for n in range(rng.randint(21, 29)):
                self._random_child(village, out_of_school=village.township.code == SHISHAN and n == 0)
        for story in STORY_CHILDREN:
            self._story_child(story)
        return self.children

    def _random_child(self, village: Village, *, out_of_school: bool) -> None:
        rng, geo = self.rng, self.geo
        age = rng.choices(range(6, 16), [1.0] * 9 + [0.5])[0]
        male = rng.random() < 0.52
        residence = village
        r = 1.0 if out_of_school else rng.random()
        if r < 0.055:  # moved within the province, mostly to another county's seat
            others = [v for v in geo.villages if v.code[:2] == village.code[:2] and v.county != village.county]
            residence = rng.choice([v for v in others if v.township == v.county.children[0]] if r < 0.04 else others)
        elif r < 0.07:  # moved to another province
            residence = rng.choice([v for v in geo.villages if v.code[:2] != village.code[:2]])
        migrant = residence.county != village.county
        out_of_school = out_of_school or (not migrant and rng.random() < 0.012)
        groups = _groups(rng, village, age, migrant)
        grade = None if out_of_school else _grade_for_age(rng, age)
        school: DemoSchool | None = None
        if grade is not None:
            special = geo.special_school(residence.code[:4])
            if SpecialGroup.DISABLED.value in groups and not migrant and special and rng.random() < 0.3:
                school = special
            else:
                school = geo.school_for(rng, residence, grade)
        self._add(
            name=person_name(rng, village.code[:2], male),
            male=male,
            birth=_birth_for_age(rng, age),
            household=village.code,
            residence=residence.code,
            school=school.code if school else None,
            grade=grade,
            groups=groups,
        )

    def _story_child(self, story: StoryChild) -> None:
        migrant = story.household[:6] != story.residence[:6]
        groups = {*story.groups, *([SpecialGroup.MIGRANT] if migrant else [])}
        self._add(
            name=story.name,
            male=story.male,
            birth=story.birth,
            household=story.household,
            residence=story.residence,
            school=story.school,
            grade=story.grade,
            groups=[g.value for g in SpecialGroup if g in groups],
        )

    def _add(
        self,
        *,
        name: str,
        male: bool,
        birth: date,
        household: str,
        residence: str,
        school: str | None,
        grade: int | None,
        groups: list[str],
    ) -> None:
        county = household[:6]
        sequence = self._order[(county, birth)]
        self._order[(county, birth)] += 1
        nid = national_id(county, birth, sequence, male)
        disabled = SpecialGroup.DISABLED.value in groups
        self.children.append(
            {
                "name": name,
                "gender": "MALE" if male else "FEMALE",
                "birth_date": birth,
                "national_id": nid,
                "registry_number": f"G{nid}" if school else None,
                "special_groups": groups,
                "disability_category": self.rng.choice(DISABILITIES) if disabled else None,
                "disability_grade": self.rng.choices([1, 2, 3, 4], [1, 2.5, 3.5, 3])[0] if disabled else None,
                "school_code": school,
                "grade": grade,
                "school_path": self.geo.school_paths[school] if school else None,
                "household_region_code": household,
                "household_path": self.geo.paths[household],
                "residence_region_code": residence,
                "residence_path": self.geo.paths[residence],
                "province_code": household[:2],
            }
        )

    def guardians(self) -> list[Row]:
        """One guardian per child: a parent, or for a left-behind child or an orphan whoever cares for them."""
        rows = []
        for n, child in enumerate(self.children):
            groups = child["special_groups"]
            surname = str(child["name"])[0]
            if SpecialGroup.ORPHAN.value in groups or SpecialGroup.UNSUPPORTED.value in groups:
                relation, male = self.rng.choice([("祖母 / grandmother", False), ("叔叔 / uncle", True)])
            elif SpecialGroup.LEFT_BEHIND.value in groups:
                relation, male = self.rng.choice(
                    [("祖父 / grandfather", True), ("祖母 / grandmother", False), ("外祖母 / grandmother", False)]
                )
            else:
                relation, male = ("父亲 / father", True) if n % 2 else ("母亲 / mother", False)
            province = str(child["province_code"])
            name = person_name(self.rng, province, male, adult=True)
            if relation.startswith(("父亲", "祖父", "叔叔")):
                name = surname + name[1:]
            rows.append(
                {
                    "_child": n,
                    "name": name,
                    "relation": relation,
                    "phone": f"139{n:08d}",
                    "province_code": province,
                }
            )
        return rows

    def enrolments(self) -> list[Row]:
        """How each enrolled child came to its school: an ENROL, and for some migrants a transfer pair."""
        rows: list[Row] = []
        for n, child in enumerate(self.children):
            code, grade = child["school_code"], child["grade"]
            if code is None or grade is None:
                continue
            stages = self.geo.schools[code].stages
            first = 7 if grade >= 7 and "JUNIOR" in stages else 1
            start = SCHOOL_YEAR - (grade - first)
            common = {"_child": n, "province_code": child["province_code"]}
            events = [("ENROL", date(start, 9, 1), code, first)]
            migrant = SpecialGroup.MIGRANT.value in child["special_groups"]
            if start < SCHOOL_YEAR and "SPECIAL" not in stages and self.rng.random() < (0.4 if migrant else 0.01):
                moved = self._transfer(child, start, first)
                if moved is not None:
                    day, source, at_grade = moved
                    events = [
                        ("ENROL", date(start, 9, 1), source, first),
                        ("TRANSFER_OUT", day, source, at_grade),
                        ("TRANSFER_IN", day, code, at_grade),
                    ]
            rows.extend(
                {
                    **common,
                    "change": change,
                    "on": on,
                    "school_code": school,
                    "grade": at_grade,
                    "recorded_by": f"staff-school-{school}",
                    "recorded_at": at(on, 10),
                }
                for change, on, school, at_grade in events
            )
        return rows

    def _transfer(self, child: Row, start: int, first: int) -> tuple[date, str, int] | None:
        """When and from which school of the home county the child transferred in: (day, school, grade)."""
        year = self.rng.randint(start + 1, SCHOOL_YEAR)
        autumn = self.rng.random() < 0.5
        day = date(year, 9, 1) if autumn else date(year, 2, 24)
        at_grade = int(child["grade"]) - (SCHOOL_YEAR - (year if autumn else year - 1))
        if at_grade < first:
            return None
        stage = "PRIMARY" if at_grade <= 6 else "JUNIOR"
        migrant = SpecialGroup.MIGRANT.value in child["special_groups"]
        home = self.geo.village[str(child["household_region_code" if migrant else "residence_region_code"])]
        choices = [
            s
            for s in self.geo.by_county[home.county.code]
            if s.code != child["school_code"] and s.kind != "TEACHING_POINT" and {stage, "NINE_YEAR"} & set(s.stages)
        ]
        return (day, self.rng.choice(choices).code, at_grade) if choices else None
