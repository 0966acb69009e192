"""The demo's key transitions (POLICY 003 二(二); README "Key transitions"), in 武定县 (Wuding):

- a 小升初 child: a Wuding pupil new to grade 7 with nothing else on record is given the history of a pupil who finished
  grade 6 at 武定县狮山镇中心小学 on 3 July 2026 and went to no junior school: on the county's list from
  1 October 2026 (1 September + 30 days), category S proposed;
- an applied 中考 registration roster (EXAM_REGISTRATION) of the county, as of the demo's day, holding every
  grade-9 pupil of Wuding's junior and nine-year schools who is on no ledger but one (`UNREGISTERED`): that
  pupil, and the grade-9 pupils on a ledger, are the county's 中考 gaps of school year 2026–27.

Chosen from the generated rows without drawing from the generator's random numbers, so nothing else moves.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from .casework import AS_OF, DemoData
from .people import at
from .places import SCHOOLS

Row = dict[str, Any]

COUNTY = "532329"  # 武定县
COUNTY_PATH = "53/5323/532329"
BUREAU = f"edu-county-{COUNTY}"
PRIMARY = "2153000036"  # 武定县狮山镇中心小学
FINISHED_PRIMARY = date(2026, 7, 3)
REGISTRATION_FILE = "532329-中考报名名册.csv"
HEADERS = ("姓名", "公民身份号码", "学籍号", "学校标识码", "报名号")
JUNIOR = {s.code for s in SCHOOLS if {"JUNIOR", "NINE_YEAR"} & set(s.stages)}


def primary_leaver(data: DemoData) -> int:
    """The 小升初 child's position: the first Wuding pupil who entered grade 7 of a junior school this September
    (one enrolment, nothing else on record: no ledger, attendance or plan), aged 12 on 31 August 2026. Its
    record becomes that of a pupil who finished primary and went to no junior school (`leaver_history`)."""
    busy = {r["_child"] for r in (*data.entries, *data.marks, *data.plans)}
    events: dict[int, int] = {}
    for r in data.enrolments:
        events[r["_child"]] = events.get(r["_child"], 0) + 1
    return next(
        n
        for n, c in enumerate(data.children)
        if c["household_region_code"].startswith(COUNTY)
        and c["grade"] == 7
        and c["school_code"] in JUNIOR
        and events.get(n) == 1
        and n not in busy
        and _age(c["birth_date"], date(2026, 8, 31)) == 12
    )


def leaver_history(data: DemoData, n: int) -> list[Row]:
    """Enrolled in grade 1 in September 2020, finished grade 6 on 3 July 2026; no school since (the child's
    row loses its school, and its one enrolment is replaced)."""
    child = data.children[n]
    child.update(school_code=None, grade=None, school_path=None, registry_number=None)
    data.enrolments[:] = [r for r in data.enrolments if r["_child"] != n]
    common = {"_child": n, "school_code": PRIMARY, "province_code": child["province_code"]}
    return [
        {**common, "change": "ENROL", "on": date(2020, 9, 1), "grade": 1, "recorded_by": f"staff-school-{PRIMARY}"}
        | {"recorded_at": at(date(2020, 9, 1), 10)},
        {**common, "change": "GRADUATE", "on": FINISHED_PRIMARY, "grade": 6, "recorded_by": f"staff-school-{PRIMARY}"}
        | {"recorded_at": at(FINISHED_PRIMARY, 10)},
    ]


def the_primary_leaver(data: DemoData) -> int:
    """The 小升初 child's position in data already built (the README's walk-through names this child)."""
    return next(int(r["_child"]) for r in data.enrolments if (r["change"], r["on"]) == ("GRADUATE", FINISHED_PRIMARY))


def grade9_pupils(data: DemoData) -> list[int]:
    """Positions of Wuding's grade-9 pupils of junior and nine-year schools, on no ledger, in order."""
    on_ledger = {r["_child"] for r in data.entries}
    return [
        n
        for n, c in enumerate(data.children)
        if c["grade"] == 9
        and c["school_code"] in JUNIOR
        and (c["school_path"] or "").startswith(COUNTY_PATH + "/")
        and n not in on_ledger
    ]


def unregistered(data: DemoData) -> int:
    """The grade-9 pupil missing from the 中考 registrations: the first of them."""
    return grade9_pupils(data)[0]


def registrations(data: DemoData) -> tuple[Row, list[Row]]:
    """The applied roster (a `roster_import` row without its id) and its rows (`_child` for the child)."""
    registered = grade9_pupils(data)[1:]
    rows: list[Row] = []
    lines = [",".join(HEADERS)]
    for line, n in enumerate(registered, start=2):
        c = data.children[n]
        number = f"2027{COUNTY}{line:04d}"
        cells = dict(
            zip(HEADERS, (c["name"], c["national_id"], c["registry_number"], c["school_code"], number), strict=True)
        )
        lines.append(",".join(cells.values()))
        rows.append(
            {
                "line": line,
                "status": "VALID",
                "problems": [],
                "raw": cells,
                "name": c["name"],
                "gender": c["gender"],
                "birth_date": c["birth_date"],
                "national_id": c["national_id"],
                "registry_number": c["registry_number"],
                "school_code": c["school_code"],
                "school_path": c["school_path"],
                "match": "EXACT",
                "province_code": c["province_code"],
                "_child": n,
            }
        )
    content = ("\n".join(lines) + "\n").encode()
    batch = {
        "kind": "EXAM_REGISTRATION",
        "jurisdiction_code": COUNTY,
        "jurisdiction_path": COUNTY_PATH,
        "as_of": AS_OF,
        "file_name": REGISTRATION_FILE,
        "file_sha256": hashlib.sha256(content).hexdigest(),
        "size_bytes": len(content),
        "status": "APPLIED",
        "rows_read": len(rows),
        "rows_valid": len(rows),
        "rows_refused": 0,
        "rows_matched": len(rows),
        "rows_new": 0,
        "created_by": BUREAU,
        "created_at": at(AS_OF, 9),
        "decided_by": BUREAU,
        "decided_at": at(AS_OF, 11),
        "decision_note": "中考报名名册（演示）",
        "province_code": "53",
    }
    return batch, rows


def add_transitions(data: DemoData) -> None:
    """The 小升初 child's history, and the roster's rows, on the generated data."""
    data.enrolments.extend(leaver_history(data, primary_leaver(data)))
    data.exam_registration, data.exam_rows = registrations(data)


def _age(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
