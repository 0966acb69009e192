"""The children and guardians of `baoxue seed synthetic`, county by county, as COPY text lines.

Shares follow the demo (datagen/demo/people.py): ages 6–15 on the 31 August 2026 cut-off, about 7% migrant
children (registered in another county, living and studying here; some from another synthetic province),
about 1% out of school, the special groups at the demo's rates. A child studies where it lives: the
township's primary school or teaching point (grades 1–3), the county's junior or nine-year schools, a
special-education school for some disabled children. National ID numbers carry the household county's
real code and are unique by construction (an order number per county, birth day and sex).

Speed matters here (7 million children in minutes): rows are tuples and lines are f-strings, every
random choice is `random()` on a per-county generator, and nothing is looked up twice.
"""

from __future__ import annotations

import random
from array import array
from datetime import date, timedelta
from typing import Any, Final

from models.child import SpecialGroup

from ..demo.people import BOYS, DISABILITIES, GIRLS, MEN, WOMEN
from .places import OLDEST_BIRTH_YEAR, County, Province, School, Village, apportion

CUTOFF = date(2026, 8, 31)  # ages are counted on the school-age cut-off day (as the demo does)
FIRST_BIRTH = date(CUTOFF.year - 16, 9, 1)  # the oldest child is 15 on the cut-off day
BIRTH_DAYS = (CUTOFF - FIRST_BIRTH).days + 1
assert FIRST_BIRTH.year == OLDEST_BIRTH_YEAR  # only counties that existed then are used (places.py)
CREATED = "2026-09-01 08:00:00+08"  # every synthetic row's created/updated time: rows do not depend on the clock
NULL = "\\N"

SURNAMES = "王王王李李李张张张刘刘陈陈杨杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
GROUP_ORDER = list(SpecialGroup)
LEFT_BEHIND_RATE, POVERTY_RATE = 0.2, 0.07
MIGRANT_RATE, OTHER_PROVINCE_SHARE, OUT_OF_SCHOOL_RATE = 0.07, 0.2, 0.012

# A child while its county is generated: (sort key, household path, name, male, birth day index, national ID,
# special groups literal, disability category, disability grade, school, grade, household, residence, age).
Kid = tuple[
    str, str, str, bool, int, str, str, str | None, int | None, School | None, int | None, Village, Village, int
]
KEY: Final = 0
HOUSEHOLD_PATH: Final = 1
NAME: Final = 2
MALE: Final = 3
BIRTH: Final = 4
NID: Final = 5
GROUPS: Final = 6
DIS_CAT: Final = 7
DIS_GRADE: Final = 8
SCHOOL: Final = 9
GRADE: Final = 10
HOUSEHOLD: Final = 11
RESIDENCE: Final = 12
AGE: Final = 13

BIRTH_TEXT = [(FIRST_BIRTH + timedelta(days=d)).isoformat() for d in range(BIRTH_DAYS)]
BIRTH_DIGITS = [t.replace("-", "") for t in BIRTH_TEXT]


def birth_date(index: int) -> date:
    return FIRST_BIRTH + timedelta(days=index)


def _first_day_of_age(age: int) -> int:
    """Index of the first birth day making a child `age` on the cut-off day."""
    return (date(CUTOFF.year - age - 1, 9, 1) - FIRST_BIRTH).days


FIRST_DAY_OF_AGE = {age: _first_day_of_age(age) for age in range(6, 16)}


def _groups_literal(mask: int) -> str:
    return "{" + ",".join(g.value for n, g in enumerate(GROUP_ORDER) if mask >> n & 1) + "}"


GROUPS_LITERAL = [_groups_literal(mask) for mask in range(1 << len(GROUP_ORDER))]
BIT = {g: 1 << n for n, g in enumerate(GROUP_ORDER)}
ORPHAN, UNSUPPORTED, DISABLED = BIT[SpecialGroup.ORPHAN], BIT[SpecialGroup.UNSUPPORTED], BIT[SpecialGroup.DISABLED]
LEFT_BEHIND, IN_DIFFICULTY, MIGRANT = (
    BIT[SpecialGroup.LEFT_BEHIND],
    BIT[SpecialGroup.IN_DIFFICULTY],
    BIT[SpecialGroup.MIGRANT],
)
JUVENILE, PRISONERS_CHILD = BIT[SpecialGroup.JUVENILE_IN_CASE], BIT[SpecialGroup.PRISONERS_CHILD]
POVERTY, LOW_INCOME = BIT[SpecialGroup.POVERTY_REGISTERED], BIT[SpecialGroup.LOW_INCOME]


def check_digit(body: str) -> str:
    """The 18th character of a national ID (ISO 7064 mod 11-2, as python-stdnum computes it)."""
    checksum = (1 - 2 * int(body, 13)) % 11
    return "X" if checksum == 10 else str(checksum)


def _special_schools(province: Province) -> dict[str, School | None]:
    """For each county the special-education school its disabled children may attend: its own, else the city's,
    else the province's first."""
    first = next((c.special for c in province.counties if c.special), None)
    out: dict[str, School | None] = {}
    for city in province.cities:
        in_city = next((c.special for c in city.counties if c.special), first)
        for county in city.counties:
            out[county.code] = county.special or in_city
    return out


class People:
    """Generates children county by county; keeps what must be unique across counties (ID order numbers)."""

    def __init__(self, provinces: list[Province]) -> None:
        self.provinces = provinces
        self.villages = {p.code: [v for c in p.counties for t in c.townships for v in t.villages] for p in provinces}
        self.special = {code: s for p in provinces for code, s in _special_schools(p).items()}
        self.order: dict[str, array[int]] = {}  # county → next order number per (birth day, sex)

    def _national_id(self, county: str, birth: int, male: bool) -> str:
        counters = self.order.get(county)
        if counters is None:
            counters = self.order[county] = array("H", bytes(4 * BIRTH_DAYS))
        slot = birth * 2 + male
        sequence = counters[slot]
        if sequence >= 500:
            raise ValueError(f"more than 500 children of one sex born on one day in county {county}")
        counters[slot] = sequence + 1
        body = f"{county}{BIRTH_DIGITS[birth]}{sequence * 2 + male:03d}"
        return body + check_digit(body)

    def _migrant_home(self, rng: random.Random, county: County) -> Village:
        """The household village of a child living here but registered elsewhere."""
        province = county.city.code[:2]
        if len(self.provinces) > 1 and rng.random() < OTHER_PROVINCE_SHARE:
            others = [p.code for p in self.provinces if p.code != province]
            province = others[int(rng.random() * len(others))]
        villages = self.villages[province]
        while True:
            village = villages[int(rng.random() * len(villages))]
            if village.county is not county:
                return village

    def children(self, rng: random.Random, county: County, count: int) -> list[Kid]:
        """`count` children living in `county`, studying there (or at the city's special-education school)."""
        villages = [v for t in county.townships for v in t.villages]
        weights = [rng.uniform(0.4, 1.6) * (2.5 if v.township.seat else 1.0) for v in villages]
        counts = apportion(count, weights)
        seat_share = sum(n for v, n in zip(villages, counts, strict=True) if v.township.seat) / max(1, count)
        seat_rate = other_rate = MIGRANT_RATE
        if seat_share < 0.4:  # migrants settle in the county town
            seat_rate = 2 * MIGRANT_RATE
            other_rate = (MIGRANT_RATE - seat_share * seat_rate) / (1 - seat_share)
        special = self.special[county.code]
        r = rng.random
        kids: list[Kid] = []
        add = kids.append
        for village, n in zip(villages, counts, strict=True):
            township = village.township
            migrant_rate = seat_rate if township.seat else other_rate
            rural = village.rural
            lower, upper, junior = township.lower_pool, township.upper_pool, county.junior_pool
            for _ in range(n):
                migrant = r() < migrant_rate
                home = self._migrant_home(rng, county) if migrant else village
                age = 6 + int(r() * 9.5)
                birth = FIRST_DAY_OF_AGE[age] + int(r() * 365)
                male = r() < 0.52
                mask = 0
                if not migrant and rural and r() < LEFT_BEHIND_RATE:
                    mask |= LEFT_BEHIND
                if r() < POVERTY_RATE:
                    mask |= POVERTY
                if r() < 0.045:
                    mask |= LOW_INCOME
                if r() < 0.019:
                    mask |= DISABLED
                if r() < 0.02:
                    mask |= IN_DIFFICULTY
                if r() < 0.003:
                    mask |= ORPHAN
                elif r() < 0.004:
                    mask |= UNSUPPORTED
                if r() < 0.003:
                    mask |= PRISONERS_CHILD
                if age >= 12 and r() < 0.004:
                    mask |= JUVENILE
                if migrant:
                    mask |= MIGRANT
                school: School | None = None
                grade: int | None = None
                if migrant or r() >= OUT_OF_SCHOOL_RATE:
                    grade = 1 if age <= 6 else 9 if age >= 15 else age - 5 - (r() < 0.1)
                    if mask & DISABLED and not migrant and special is not None and r() < 0.3:
                        school = special
                    else:
                        pool = lower if grade <= 3 else upper if grade <= 6 else junior
                        school = pool[int(r() * len(pool))]
                dis_cat = dis_grade = None
                if mask & DISABLED:
                    dis_cat = DISABILITIES[int(r() * len(DISABILITIES))]
                    x = r() * 10
                    dis_grade = 1 if x < 1 else 2 if x < 3.5 else 3 if x < 7 else 4
                given = BOYS if male else GIRLS
                name = SURNAMES[int(r() * len(SURNAMES))] + given[int(r() * len(given))]
                add(
                    (
                        school.path if school else village.path,
                        home.path,
                        name,
                        male,
                        birth,
                        self._national_id(home.county.code, birth, male),
                        GROUPS_LITERAL[mask],
                        dis_cat,
                        dis_grade,
                        school,
                        grade,
                        home,
                        village,
                        age,
                    )
                )
        return kids


def in_storage_order(kids: list[Kid]) -> list[Kid]:
    """By school path (the residence for a child not enrolled), then household path: the order county- and
    school-scoped reads want on disk. Stable: ties keep the generation order."""
    return sorted(kids, key=lambda k: (k[KEY], k[HOUSEHOLD_PATH]))


def child_line(child_id: int, k: Kid) -> str:
    """A `child` row in COPY text format (columns: CHILD_COLUMNS)."""
    school, home, village = k[SCHOOL], k[HOUSEHOLD], k[RESIDENCE]
    if school is None:
        enrolled = f"{NULL}\t{k[GROUPS]}\t{_n(k[DIS_CAT])}\t{_n(k[DIS_GRADE])}\t{NULL}\t{NULL}\t{NULL}"
    else:
        enrolled = (
            f"G{k[NID]}\t{k[GROUPS]}\t{_n(k[DIS_CAT])}\t{_n(k[DIS_GRADE])}\t{school.code}\t{k[GRADE]}\t{school.path}"
        )
    return (
        f"{child_id}\t{k[NAME]}\t{'MALE' if k[MALE] else 'FEMALE'}\t{BIRTH_TEXT[k[BIRTH]]}\t{k[NID]}\t{enrolled}\t"
        f"{home.code}\t{home.path}\t{village.code}\t{village.path}\t{home.code[:2]}\t{CREATED}\t{CREATED}\t1\n"
    )


CHILD_COLUMNS = (
    "id, name, gender, birth_date, national_id, registry_number, special_groups, disability_category, "
    "disability_grade, school_code, grade, school_path, household_region_code, household_path, "
    "residence_region_code, residence_path, province_code, created_at, updated_at, version"
)
GUARDIAN_COLUMNS = "id, child_id, name, relation, phone, province_code, created_at"
CARERS = (("祖父 / grandfather", True), ("祖母 / grandmother", False), ("外祖母 / grandmother", False))
KIN = (("祖母 / grandmother", False), ("叔叔 / uncle", True))


def guardian_line(rng: random.Random, guardian_id: int, child_id: int, k: Kid) -> str:
    """The child's one guardian: a parent, or for a left-behind child or an orphan whoever cares for them."""
    mask_text = k[GROUPS]
    r = rng.random
    if "ORPHAN" in mask_text or "UNSUPPORTED" in mask_text:
        relation, male = KIN[int(r() * 2)]
    elif "LEFT_BEHIND" in mask_text:
        relation, male = CARERS[int(r() * 3)]
    else:
        relation, male = ("父亲 / father", True) if child_id % 2 else ("母亲 / mother", False)
    given = MEN if male else WOMEN
    surname = k[NAME][0] if male and relation[0] in "父祖叔" else SURNAMES[int(r() * len(SURNAMES))]
    name = surname + given[int(r() * len(given))]
    return (
        f"{guardian_id}\t{child_id}\t{name}\t{relation}\t13{child_id % 10**9:09d}\t{k[HOUSEHOLD].code[:2]}\t{CREATED}\n"
    )


def _n(value: Any) -> str:
    return NULL if value is None else str(value)
