"""The demo's casework: choosing children and opening, escalating, returning, handing over and closing their
ledger entries, as the application does it.

What an entry takes from its child is the use cases' own rule (`models.ledger.from_child`); a suspected entry
escalated by the attendance rules is closed as ESCALATED_TO_DROPOUT and its dropout entry points back to it
(003 annex 1 note 2); a handover goes to the household-registration county (001 §2.2). Every date lies on or
before AS_OF, so nothing depends on the day the seed runs.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from models.child import SpecialGroup, Stage, stage_at
from models.ledger import DropoutCategory, county_of, from_child
from models.ledger_rules import SUSPECTED_AFTER_SCHOOL_DAYS, add_month
from models.province import age_on
from models.school_calendar import national_working_day

from ..entries import open_entry
from .people import ABSENCE_STORY, CUTOFF, STORY_CHILDREN, Row, at
from .places import Geography

AS_OF = date(2026, 10, 31)  # the demo's "today": no seeded date lies after it
SUSPECTED_SHARE = 0.025
# Classes the ledger tests register attendance for (tests/ledger_support.py): no open case there, so a
# test's class register finds no demo child to mark as returned.
QUIET_SCHOOLS = frozenset({"2153000036", "2153000031"})
CLASS_OF_STORY = frozenset((c.school, c.grade) for c in ABSENCE_STORY)

TERMS = ((date(2025, 9, 8), date(2026, 1, 16)), (date(2026, 3, 2), date(2026, 7, 3)), (date(2026, 9, 7), AS_OF))

PLACEMENT_NOTES = {
    "JOIN_CLASS": "插入原年级班级就读，安排结对帮扶",
    "INDIVIDUAL_TUTORING": "返校后由任课教师个别辅导补习功课",
    "HOME_TEACHING": "经评估安排送教上门，每周两次",
    "SEPARATE_CLASS": "编入返校学生班，过渡一学期",
}


@dataclass
class DemoData:
    """Every generated row; `_child`, `_entry`, `_escalated_from`, `_previous` refer to list positions."""

    children: list[Row]
    guardians: list[Row] = field(default_factory=list)
    enrolments: list[Row] = field(default_factory=list)
    entries: list[Row] = field(default_factory=list)
    visits: list[Row] = field(default_factory=list)
    plans: list[Row] = field(default_factory=list)
    deferrals: list[Row] = field(default_factory=list)
    handovers: list[Row] = field(default_factory=list)
    marks: list[Row] = field(default_factory=list)
    registers: list[Row] = field(default_factory=list)
    exam_registration: Row = field(default_factory=dict)  # the applied 中考 roster (transitions.py)
    exam_rows: list[Row] = field(default_factory=list)


def weekdays(start: date, end: date) -> list[date]:
    return [start + timedelta(n) for n in range((end - start).days + 1) if (start + timedelta(n)).weekday() < 5]


def school_days_from(start: date, count: int, step: int = 1) -> list[date]:
    """`count` school days of the national calendar (the demo keeps no calendar of its own) from `start`
    on (step 1) or back (step -1), `start` included when it is one."""
    out: list[date] = []
    day = start
    while len(out) < count:
        if national_working_day(day):
            out.append(day)
        day += timedelta(days=step)
    return out if step > 0 else out[::-1]


def evidence(first: date, last: date) -> dict[str, Any]:
    """The run of school days absent an attendance entry rests on (every school day first to last)."""
    days = [d for d in (first + timedelta(n) for n in range((last - first).days + 1)) if national_working_day(d)]
    return {
        "evidence_first_absent_on": first,
        "evidence_last_absent_on": last,
        "evidence_school_days_absent": len(days),
    }


NO_EVIDENCE = {"evidence_first_absent_on": None, "evidence_last_absent_on": None, "evidence_school_days_absent": None}


def age_at(child: Row, day: date) -> int:
    return age_on(child["birth_date"], day)


def stage_of(child: Row, on: date) -> Stage:
    return stage_at(child["grade"], child["birth_date"], on)


class Casework:
    """The demo's cases while they are built: rows in `data`, children and entries by list position."""

    def __init__(self, rng: random.Random, geo: Geography, children: list[Row]) -> None:
        self.rng, self.geo, self.children = rng, geo, children
        self.data = DemoData(children)
        self.reached: dict[int, int] = {}  # child → the highest of the four steps taken
        self.order = list(range(len(children)))
        rng.shuffle(self.order)
        self.story = {c.name: len(children) - len(STORY_CHILDREN) + n for n, c in enumerate(STORY_CHILDREN)}
        self.used = set(self.story.values())

    # --- choosing children ---------------------------------------------------------------------------

    def pick(self, want: Callable[[Row], bool], *, active: bool = True) -> int:
        """The next child (in a fixed shuffled order) that fits; `active`: its case stays open."""
        for n in self.order:
            child = self.children[n]
            if n in self.used or not want(child):
                continue
            if active and (
                child["school_code"] in QUIET_SCHOOLS or (child["school_code"], child["grade"]) in CLASS_OF_STORY
            ):
                continue
            self.used.add(n)
            return n
        raise LookupError("no demo child fits")

    # --- entries ----------------------------------------------------------------------------------------

    def area(self, e: int) -> dict[str, str]:
        """Who works the case: the school, and the village, township and county where the child lives."""
        entry = self.data.entries[e]
        child = self.children[entry["_child"]]
        village = self.geo.village[child["residence_region_code"]]
        if entry.get("_home"):  # handed back to the household region
            village = self.geo.village[child["household_region_code"]]
        return {
            "school": entry["school_code"] or "",
            "village": village.code,
            "township": village.township.code,
            "county": entry["responsible_path"].rsplit("/", 1)[-1],
        }

    def entry(
        self,
        n: int,
        ledger: str,
        source: str,
        opened_on: date,
        *,
        category: DropoutCategory | None = None,
        **extra: Any,
    ) -> int:
        child = self.children[n]
        assert opened_on <= AS_OF
        copied = from_child(
            school_code=child["school_code"],
            school_path=child["school_path"],
            grade=child["grade"],
            birth_date=child["birth_date"],
            household_path=child["household_path"],
            residence_path=child["residence_path"],
            province_code=child["province_code"],
            opened_on=opened_on,
        )
        opened_at = at(opened_on, 8 if source == "ATTENDANCE" else 15, self.rng.randrange(60))
        row: Row = {
            "_child": n,
            "_escalated_from": None,
            "_previous": None,
            **open_entry(
                copied,
                ledger,
                source,
                opened_at=opened_at,
                updated_at=at(opened_on, 18),
                village_code=child["residence_region_code"],
            ),
            "category": category.value if category else None,
            **NO_EVIDENCE,
        }
        if source == "ATTENDANCE" and ledger == "SUSPECTED":  # opened on the 6th school day of its run
            first = school_days_from(opened_on, SUSPECTED_AFTER_SCHOOL_DAYS + 1, step=-1)[0]
            row.update(evidence(first, opened_on))
        row.update(extra)
        self.data.entries.append(row)
        return len(self.data.entries) - 1

    def suspected(self, n: int, opened_on: date, source: str = "ATTENDANCE", **extra: Any) -> int:
        return self.entry(n, "SUSPECTED", source, opened_on, **extra)

    def escalate(self, s: int, category: DropoutCategory | None) -> int:
        """The attendance rules' escalation (resolvers/ledgers/rules.py `_escalate`)."""
        suspected = self.data.entries[s]
        on = school_days_from(add_month(suspected["opened_on"]) + timedelta(days=1), 1)[0]
        sweeper = "edu-county-" + suspected["responsible_path"].rsplit("/", 1)[-1]
        suspected.update(status="CLOSED", close_reason="ESCALATED_TO_DROPOUT", closed_at=at(on, 6), closed_by=sweeper)
        suspected["updated_at"] = suspected["closed_at"]
        return self.entry(
            suspected["_child"],
            "DROPOUT",
            suspected["source"],
            on,
            category=category,
            _escalated_from=s,
            _previous=suspected["_previous"],
            is_relapse=suspected["is_relapse"],
            stage=suspected["stage"],
            responsible_path=suspected["responsible_path"],
            opened_by=sweeper,
            opened_at=at(on, 6),
            **(evidence(suspected["evidence_first_absent_on"], on) if suspected["evidence_first_absent_on"] else {}),
        )

    def attendance_start(self, term: tuple[date, date], *, latest: date = AS_OF) -> date:
        """The day a suspected entry opens: the 6th school day of an absence (models/ledger_rules.py), and
        by `latest` and the term's end."""
        limit = min(term[1], latest)
        start = self.rng.choice([d for d in weekdays(*term) if d + timedelta(days=7) <= limit])
        opened = school_days_from(start, SUSPECTED_AFTER_SCHOOL_DAYS + 1)[-1]
        return opened if opened <= limit else school_days_from(limit, 1, step=-1)[0]

    def any_day(self, start: date, end: date) -> date:
        return self.rng.choice(weekdays(start, end))

    def returned(self, e: int, on: date) -> None:
        self.data.entries[e].update(status="RETURNED", returned_on=on, updated_at=at(on, 16))

    def place_and_close(self, e: int, placement: str, on: date, *, school: str | None = None) -> None:
        entry = self.data.entries[e]
        closed = on + timedelta(days=self.rng.randint(3, 10))
        county = entry["responsible_path"].rsplit("/", 1)[-1]
        entry.update(
            placement=placement,
            placement_school_code=school or entry["school_code"],
            placement_note=PLACEMENT_NOTES[placement],
            placed_on=on,
        )
        self.close(e, "RETURNED_AND_PLACED", closed, f"edu-county-{county}")

    def close(self, e: int, reason: str, on: date, by: str, note: str | None = None) -> None:
        assert on <= AS_OF
        self.data.entries[e].update(
            status="CLOSED",
            close_reason=reason,
            close_note=note,
            closed_at=at(on, 11),
            closed_by=by,
            updated_at=at(on, 11),
        )

    def hand_over(self, e: int, sent: date, *, acknowledged: date | None) -> None:
        """The written notice to the household-registration county (resolvers/ledgers/handover.py)."""
        entry = self.data.entries[e]
        child, names = self.children[entry["_child"]], self.geo.names
        source, target = entry["responsible_path"], county_of(child["household_path"])
        school = self.geo.schools[child["school_code"]].name
        notice = (
            f"{names[target[-6:]]}教育体育局：户籍在贵地的学生{child['name']}（学籍号{child['registry_number']}）"
            f"在我地{school}就读期间辍学，现已随家长返回原籍。根据教基〔2020〕5号第二条，特书面告知，"
            f"请协同做好劝返复学工作。{names[source[-6:]]}教育体育局"
        )
        self.data.handovers.append(
            {
                "_entry": e,
                "from_path": source,
                "to_path": target,
                "notice": notice,
                "sent_by": f"edu-county-{source[-6:]}",
                "sent_at": at(sent, 10),
                "acknowledged_by": f"edu-county-{target[-6:]}" if acknowledged else None,
                "acknowledged_at": at(acknowledged, 15) if acknowledged else None,
                "province_code": entry["province_code"],
            }
        )
        if acknowledged:  # the receiving county answers for the case now; the sender keeps seeing it
            entry.update(responsible_path=target, handover_path=source, _home=True, updated_at=at(acknowledged, 15))
        else:
            entry.update(status="TRANSFERRED", handover_path=target, updated_at=at(sent, 10))


SPECIAL_SCHOOLS = frozenset({"2122000002", "2153000001", "2164000001"})


def enrolled(child: Row) -> bool:
    return child["school_code"] is not None


def junior(child: Row) -> bool:
    return enrolled(child) and child["grade"] >= 7


def disabled(child: Row) -> bool:
    return enrolled(child) and SpecialGroup.DISABLED.value in child["special_groups"]


def out_of_school(child: Row) -> bool:
    return child["school_code"] is None and age_at(child, CUTOFF) <= 15
