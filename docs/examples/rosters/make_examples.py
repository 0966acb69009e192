"""Writes the example rosters of 武定县 (532329) in this folder from the demo data (datagen/demo).

Run from the repository: `uv run python docs/examples/rosters/make_examples.py`. The demo is deterministic,
so the files are the same on every run; README.md in this folder says what each holds.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from datagen.demo.cases import demo_data
from datagen.demo.people import national_id
from models.roster import COLUMNS, RosterKind

HERE = Path(__file__).resolve().parent
COUNTY = "532329"  # 武定县
GENDER = {"MALE": "男", "FEMALE": "女"}
GRADE = "一二三四五六七八九"
POVERTY = {"POVERTY_REGISTERED": "脱贫户", "LOW_INCOME": "低保"}
NOT_ATTENDING_EXTRA = 2  # enrolled poverty-household children left off the at-school roll, not yet on a ledger


def headers(kind: RosterKind) -> list[str]:
    return [c.header for c in COLUMNS[kind]]


def row(kind: RosterKind, child: dict[str, Any]) -> list[str]:
    values = {
        "name": child["name"],
        "gender": GENDER[child["gender"]],
        "national_id": child["national_id"] or "",
        "birth_date": child["birth_date"].isoformat(),
        "household_region_code": child["household_region_code"],
        "residence_region_code": child["residence_region_code"],
        "registry_number": child["registry_number"] or "",
        "school_code": child["school_code"] or "",
        "grade": f"{GRADE[child['grade'] - 1]}年级" if child["grade"] else "",
        "poverty_kind": next((POVERTY[g] for g in child["special_groups"] if g in POVERTY), ""),
        "no_id_reason": "",
    }
    return [values[c.field] for c in COLUMNS[kind]]


def write_csv(name: str, rows: Sequence[Sequence[str]], encoding: str = "utf-8") -> None:
    with (HERE / name).open("w", encoding=encoding, newline="") as out:
        csv.writer(out, lineterminator="\r\n").writerows(rows)


def write_xlsx(name: str, rows: Sequence[Sequence[str]]) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("学籍")
    for line in rows:
        sheet.append(list(line))
    book.save(HERE / name)


def bad_household_rows(children: list[dict[str, Any]], first: dict[str, Any]) -> list[list[str]]:
    """The deliberately bad rows at the end of the household roster (README.md lists them by line)."""
    kind = RosterKind.HOUSEHOLD
    good = row(kind, first)
    wrong_digit = good.copy()
    wrong_digit[0], wrong_digit[2] = "王错位", good[2][:-1] + ("0" if good[2][-1] != "0" else "1")
    wrong_birth = good.copy()
    wrong_birth[0], wrong_birth[3] = "王生日", "2016-01-01"
    neighbour = next(c for c in children if c["household_region_code"].startswith("532328"))  # 元谋县
    no_name = good.copy()
    no_name[0], no_name[1], no_name[2] = "", "未知", national_id(COUNTY, first["birth_date"], 401, male=True)
    return [wrong_digit, wrong_birth, row(kind, neighbour), good, no_name]


def main() -> None:
    data = demo_data()
    children = data.children
    ours = [c for c in children if COUNTY in (c["household_region_code"][:6], c["residence_region_code"][:6])]
    enrolled = [c for c in children if c["school_path"] and f"/{COUNTY}/" in c["school_path"]]
    on_ledger = {e["_child"] for e in data.entries if e["status"] != "CLOSED" and f"/{COUNTY}" in e["responsible_path"]}
    poor = [c for c in ours if any(g in POVERTY for g in c["special_groups"])]
    kept_here = [c for c in poor if c["household_region_code"].startswith(COUNTY)]  # kept by household registration
    extra = [c for c in kept_here if c in enrolled and children.index(c) not in on_ledger][:NOT_ATTENDING_EXTRA]
    absent = {children.index(c) for c in extra} | on_ledger

    household = [headers(RosterKind.HOUSEHOLD), *(row(RosterKind.HOUSEHOLD, c) for c in ours)]
    found = ["马小花", "女", "", "2017-03-15", "", "532329207202", "未落户（铁脚板摸排发现）"]
    household.append(found)
    household.extend(bad_household_rows(children, ours[0]))
    write_csv("532329-household.csv", household)
    write_csv("532329-household-gb18030.csv", household, "gb18030")
    write_xlsx("532329-registry.xlsx", [headers(RosterKind.REGISTRY), *(row(RosterKind.REGISTRY, c) for c in enrolled)])
    in_school = [c for c in enrolled if children.index(c) not in absent]
    write_csv(
        "532329-in-school.csv", [headers(RosterKind.IN_SCHOOL), *(row(RosterKind.IN_SCHOOL, c) for c in in_school)]
    )
    write_csv("532329-poverty.csv", [headers(RosterKind.POVERTY), *(row(RosterKind.POVERTY, c) for c in kept_here)])
    print(
        f"household {len(household) - 1} rows ({len(ours)} demo children, 1 found, 5 bad), registry {len(enrolled)}, "
        f"in school {len(in_school)} ({len(enrolled) - len(in_school)} left off), poverty {len(kept_here)}"
    )


if __name__ == "__main__":
    main()
