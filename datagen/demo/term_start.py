"""The autumn 2026 term start's unreported pupils (未报到, POLICY 002 一(三)): two pupils of 环州乡中心小学 who were
enrolled when the spring term ended and were not recorded present in the first 15 days of the autumn term
(1–15 September 2026, the province keeping the default term start): one absent without leave on the
first four school days and not recorded after, one on sick leave for the whole month. Four days are
fewer than the six the attendance rules open an entry on, so neither is on a ledger: the school verifies
their reasons (README, "Term-start reporting")."""

from __future__ import annotations

from datetime import date

from .casework import CLASS_OF_STORY, Casework
from .people import at

SCHOOL = "2153000037"  # 环州乡中心小学, 武定县
ABSENT_DAYS = (date(2026, 9, 1), date(2026, 9, 2), date(2026, 9, 3), date(2026, 9, 4))
SICK_FROM, SICK_UNTIL = date(2026, 9, 1), date(2026, 9, 30)


def unreported_pupils(cases: Casework) -> list[int]:
    """The two pupils: the first of the school's grade 2–4 children (in the order generated) with no case."""
    found = [
        n
        for n, child in enumerate(cases.children)
        if child["school_code"] == SCHOOL
        and 2 <= (child["grade"] or 0) <= 4
        and (SCHOOL, child["grade"]) not in CLASS_OF_STORY
        and n not in cases.used
    ]
    return found[:2]


def term_start_story(cases: Casework) -> None:
    absent, sick = unreported_pupils(cases)
    cases.used.update({absent, sick})
    staff = f"staff-school-{SCHOOL}"
    province = cases.children[absent]["province_code"]
    for day in ABSENT_DAYS:
        cases.data.marks.append(
            {
                "_child": absent,
                "day": day,
                "mark": "ABSENT",
                "school_code": SCHOOL,
                "recorded_by": staff,
                "recorded_at": at(day, 8, 30),
                "province_code": province,
            }
        )
    cases.data.marks.append(
        {
            "_child": sick,
            "day": SICK_FROM,
            "mark": "EXCUSED",
            "leave_reason": "ILLNESS",
            "leave_until": SICK_UNTIL,
            "school_code": SCHOOL,
            "recorded_by": staff,
            "recorded_at": at(SICK_FROM, 8, 30),
            "province_code": province,
        }
    )
