"""The places of `baoxue seed synthetic`: provinces, cities, counties, townships, villages and schools.

Provinces, cities and counties are real GB/T 2260 divisions (codes and names as python-stdnum's
`cn/loc` table lists them, current ones only), so the children's national ID numbers carry real
county codes and validate. Townships (9 digits) and villages (12 digits) are generated under them in the
NBS shape: 街道 001…, 镇 100…, 乡 200…; 社区 001…, 村委会 200…. Schools are generated too: primary
schools and teaching points on townships, junior, nine-year and special-education schools on counties,
10-digit codes "21" + province + a running number, as in the demo (datagen/demo/data/schools.csv).

At full scale (7 million children per province) a province keeps all its real counties and gets about
1,800 townships, 25,000 villages and 13,000 schools. With fewer children it keeps fewer counties (at
least two) of the same size; below two full counties the counties themselves shrink.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from models.region import path_of_code
from models.school import school_path

# Not the demo's provinces (53, 22, 64), and none with too few counties for a 7-million province.
PROVINCE_CODES = (
    "41", "42", "43", "44", "45", "51", "52", "61", "62", "65", "13", "14", "15", "21", "23", "32", "33", "34",
    "35", "36", "37",
)  # fmt: skip
FULL_PROVINCE = 7_000_000  # children of a province at full scale
TOWNSHIPS, VILLAGES, SCHOOLS = 1_800, 25_000, 13_000  # per province at full scale
MIN_COUNTIES = 2
OLDEST_BIRTH_YEAR = 2010  # of the synthetic children (people.FIRST_BIRTH): their counties existed then

SYLLABLES = (
    "东西南北中新安平和兴龙凤山河桥石田家庄营集店坪坝沟湾岭塘溪水林花红光明阳春秋金玉宝丰富"
    "永长太清河泉云华德福康乐胜利建民青松柳杨马牛白黄黑高大小上下前后左右里湖海岗庙寺堡寨城"
)


@dataclass
class School:
    code: str
    name: str
    region_code: str
    path: str
    stages: tuple[str, ...]
    kind: str  # PUBLIC | TEACHING_POINT


@dataclass
class Village:
    code: str
    name: str
    path: str
    township: Township
    county: County

    @property
    def rural(self) -> bool:
        return self.name.endswith("村委会")


@dataclass
class Township:
    code: str
    name: str
    path: str
    county: County
    seat: bool  # the county town (城关镇, the first 街道): schools of the county, more migrants
    villages: list[Village] = field(default_factory=list)
    primary: list[School] = field(default_factory=list)  # primary schools and teaching points here
    # Weighted pools children draw their school from (a teaching point half as likely, grades 1-3 only).
    lower_pool: list[School] = field(default_factory=list)
    upper_pool: list[School] = field(default_factory=list)


@dataclass
class County:
    code: str
    name: str
    path: str
    city: City
    townships: list[Township] = field(default_factory=list)
    schools: list[School] = field(default_factory=list)  # junior, nine-year and special, on the county
    junior_pool: list[School] = field(default_factory=list)
    special: School | None = None


@dataclass
class City:
    code: str
    name: str
    path: str
    counties: list[County] = field(default_factory=list)


@dataclass
class Province:
    code: str
    name: str
    children: int
    cities: list[City] = field(default_factory=list)

    @property
    def counties(self) -> list[County]:
        return [county for city in self.cities for county in city.counties]


@cache
def real_divisions() -> dict[str, tuple[str, list[tuple[str, str]], list[tuple[str, str]]]]:
    """province code → (name, [(city code, name)], [(county code, name)]), current divisions only."""
    text = resources.files("stdnum.cn").joinpath("loc.dat").read_text(encoding="utf-8")
    out: dict[str, tuple[str, list[tuple[str, str]], list[tuple[str, str]]]] = {}
    province = ""
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        code, rest = line.strip().split(" ", 1)
        name = rest.split('"')[1].split(",")[-1]  # the latest of the names it had
        if not line.startswith(" "):
            province = code
            out[province] = (name, [], [])
            continue
        period = re.match(r"\[(\d*)-(\d*)\](.*)", name)
        since = 0
        if period:
            if period.group(2):  # abolished
                continue
            name, since = period.group(3), int(period.group(1) or 0)
        full = province + code
        if not full.endswith("00") and since > OLDEST_BIRTH_YEAR:
            continue  # an ID number issued before the county existed would not validate (python-stdnum checks)
        if full.endswith("00"):
            if code != "0000" and not code.startswith("90") and name.endswith(("市", "州", "地区", "盟")):
                out[province][1].append((full, name))
        elif name != "市辖区":
            out[province][2].append((full, name))
    return out


def place_name(rng: random.Random) -> str:
    return rng.choice(SYLLABLES) + rng.choice(SYLLABLES)


def apportion(total: int, weights: list[float]) -> list[int]:
    """`total` split by `weights` (largest remainder), deterministic."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    counts = [int(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def county_sizes(province: Province, seed: int) -> dict[str, int]:
    """How many children live in each county of the province (county code → count)."""
    rng = random.Random(f"{seed}/counts/{province.code}")  # noqa: S311 - reproducible synthetic data
    counties = province.counties
    sizes = apportion(province.children, [rng.uniform(0.6, 1.5) for _ in counties])
    return {county.code: n for county, n in zip(counties, sizes, strict=True)}


def build_province(code: str, children: int, seed: int) -> Province:
    """A province's tree for `children` children (see the module docstring for the scaling)."""
    rng = random.Random(f"{seed}/places/{code}")  # noqa: S311 - reproducible synthetic data
    name, cities, all_counties = real_divisions()[code]
    city_codes = {c[:4] for c, _ in cities}
    counties = [k for k in all_counties if k[0][:4] in city_codes]  # not those directly under the province
    share = children / FULL_PROVINCE
    wanted = min(len(counties), max(MIN_COUNTIES, round(len(counties) * share)))
    by_city = {c: [k for k in counties if k[0][:4] == c[:4]] for c, _ in cities}
    chosen: list[tuple[str, str]] = []
    city_list = [c for c in cities if by_city[c[0]]]
    n_cities = min(len(city_list), max(1, round(len(city_list) * share)))
    while len(chosen) < wanted:
        for city_code, _ in city_list[:n_cities]:
            rest = [k for k in by_city[city_code] if k not in chosen]
            if rest and len(chosen) < wanted:
                chosen.append(rest[0])
        n_cities = min(len(city_list), n_cities + 1)
    chosen.sort()
    # Below two full-size counties the counties shrink (g < 1): fewer townships, villages and schools.
    g = min(1.0, children / (len(chosen) * FULL_PROVINCE / len(counties)))
    per_county = len(counties)
    province = Province(code, name, children)
    number = 0

    def school(region_code: str, region_path: str, name: str, stages: tuple[str, ...], kind: str) -> School:
        nonlocal number
        number += 1
        code_ = f"21{code}{number:06d}"
        return School(code_, name, region_code, school_path(region_path, code_), stages, kind)

    for city_code, city_name in cities:
        mine = [k for k in chosen if k[0][:4] == city_code[:4]]
        if not mine:
            continue
        city = City(city_code[:4], city_name, path_of_code(city_code[:4]))
        province.cities.append(city)
        for county_code, county_name in mine:
            county = County(county_code, county_name, path_of_code(county_code), city)
            city.counties.append(county)
            n_towns = max(1, round(TOWNSHIPS / per_county * rng.uniform(0.6, 1.4) * g))
            district = county_name.endswith("区")
            streets = max(1, n_towns // 2) if district else 0
            for t in range(n_towns):
                if t < streets:
                    t_code, t_name = f"{county_code}{t + 1:03d}", place_name(rng) + "街道"
                elif t == 0:
                    t_code, t_name = f"{county_code}100", "城关镇"
                elif rng.random() < 0.65:
                    t_code, t_name = f"{county_code}{100 + t:03d}", place_name(rng) + "镇"
                else:
                    t_code, t_name = f"{county_code}{200 + t:03d}", place_name(rng) + "乡"
                township = Township(t_code, t_name, path_of_code(t_code), county, seat=t == 0)
                county.townships.append(township)
                n_villages = max(2, round(VILLAGES / TOWNSHIPS * rng.uniform(0.5, 1.5) * g))
                communities = n_villages if t < streets else (2 if t_name.endswith("镇") else 0)
                for v in range(n_villages):
                    if v < communities:
                        v_code, v_name = f"{t_code}{v + 1:03d}", place_name(rng) + "社区居委会"
                    else:
                        v_code, v_name = f"{t_code}{200 + v:03d}", place_name(rng) + "村委会"
                    township.villages.append(Village(v_code, v_name, path_of_code(v_code), township, county))
                n_primary = max(1, round(SCHOOLS * 0.62 / TOWNSHIPS * rng.uniform(0.6, 1.4) * g))
                n_points = round(SCHOOLS * 0.2 / TOWNSHIPS * rng.uniform(0.0, 2.0) * g)
                for p in range(n_primary):
                    label = "中心小学" if p == 0 else f"第{p + 1}小学"
                    township.primary.append(
                        school(t_code, township.path, f"{county_name}{t_name}{label}", ("PRIMARY",), "PUBLIC")
                    )
                for p in range(n_points):
                    village = township.villages[p % len(township.villages)]
                    name_ = f"{county_name}{village.name.removesuffix('村委会').removesuffix('社区居委会')}教学点"
                    township.primary.append(school(t_code, township.path, name_, ("PRIMARY",), "TEACHING_POINT"))
            n_junior = max(1, round(SCHOOLS * 0.11 / per_county * rng.uniform(0.7, 1.3) * g))
            n_nine = max(1, round(SCHOOLS * 0.05 / per_county * rng.uniform(0.5, 1.5) * g))
            for j in range(n_junior):
                county.schools.append(
                    school(county_code, county.path, f"{county_name}第{j + 1}中学", ("JUNIOR",), "PUBLIC")
                )
            for _ in range(n_nine):
                name_ = f"{county_name}{place_name(rng)}九年一贯制学校"
                county.schools.append(school(county_code, county.path, name_, ("NINE_YEAR",), "PUBLIC"))
            first = len(province.counties) == 1
            if first or (g >= 1 and (county is city.counties[0] or rng.random() < 0.3)):
                county.special = school(county_code, county.path, f"{county_name}特殊教育学校", ("SPECIAL",), "PUBLIC")
                county.schools.append(county.special)
            _pools(county)
    return province


def _pools(county: County) -> None:
    """The weighted lists children pick their school from: a teaching point counts 2, a school 5."""
    nine = [s for s in county.schools if s.stages == ("NINE_YEAR",)]
    junior = [s for s in county.schools if s.stages == ("JUNIOR",)]
    county.junior_pool = junior * 5 + nine * 5
    for township in county.townships:
        schools = [s for s in township.primary if s.kind == "PUBLIC"]
        points = [s for s in township.primary if s.kind == "TEACHING_POINT"]
        extra = nine if township.seat or not schools else []
        township.upper_pool = schools * 5 + extra * 5
        township.lower_pool = township.upper_pool + points * 2


def regions_of(province: Province) -> list[tuple[str, str, str, str | None, str]]:
    """(code, name, level, parent code, path) for every region, parents first."""
    rows: list[tuple[str, str, str, str | None, str]] = [
        (province.code, province.name, "PROVINCE", None, province.code)
    ]
    for city in province.cities:
        rows.append((city.code, city.name, "CITY", province.code, city.path))
        for county in city.counties:
            rows.append((county.code, county.name, "COUNTY", city.code, county.path))
            for township in county.townships:
                rows.append((township.code, township.name, "TOWNSHIP", county.code, township.path))
                rows.extend((v.code, v.name, "VILLAGE", township.code, v.path) for v in township.villages)
    return rows


def schools_of(province: Province) -> list[School]:
    out: list[School] = []
    for county in province.counties:
        out.extend(county.schools)
        for township in county.townships:
            out.extend(township.primary)
    return sorted(out, key=lambda s: s.code)
