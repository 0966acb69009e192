"""The ledger cases of `baoxue seed synthetic`: suspected and dropout entries, persuasion visits, deferrals.

Shares as in the demo (datagen/demo/cases.py): about 2.5% of children on the suspected-dropout ledger (most
out-of-school children among them, category A or B), about 0.8% on the dropout ledger over the categories
A–T, some returned or deferred (P, with an approved request), a closed-out history; visits on most open
cases, the four steps in order. What an entry takes from its child is the use cases' own rule
(`models.ledger.from_child`). At most one entry per child is not closed (the partial unique index).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from models.ledger import from_child
from models.ledger_rules import add_month
from models.persuasion import VisitMethod
from models.province import age_on

from ..demo.casework import AS_OF, PLACEMENT_NOTES
from ..entries import open_entry
from .people import BIRTH, GRADE, GROUPS, HOUSEHOLD, MALE, RESIDENCE, SCHOOL, Kid, birth_date
from .visits import Persuasion, Row, at, iso

ENTRY_COLUMNS = (
    "id", "ledger", "child_id", "status", "source", "category", "opened_on", "opened_at", "opened_by", "note",
    "escalated_from_id", "previous_entry_id", "is_relapse", "school_code", "grade", "stage", "school_path",
    "household_path", "residence_path", "responsible_path", "handover_path", "last_visit_on", "returned_on",
    "placement", "placement_school_code", "placement_note", "placed_on", "closed_at", "closed_by", "close_reason",
    "close_note", "province_code", "updated_at", "version",
)  # fmt: skip
VISIT_COLUMNS = (
    "entry_id", "child_id", "visited_on", "method", "stage", "participants", "outcome", "next_step", "next_on",
    "recorded_by", "created_at", "province_code",
)  # fmt: skip
DEFERRAL_COLUMNS = (
    "entry_id", "child_id", "basis", "grounds", "document_ref", "status", "requested_by", "requested_at",
    "decided_by", "decided_at", "decision_note", "province_code",
)  # fmt: skip

# Per child: on the suspected ledger, on the dropout ledger, closed out earlier (enrolled children);
# out-of-school children: suspected, dropout, confirmed enrolled elsewhere.
ENROLLED_SHARES = (0.0195, 0.0068, 0.006)
OUT_OF_SCHOOL_SHARES = (0.55, 0.10, 0.10)


def _female(k: Kid) -> bool:
    return not k[MALE]


# Dropout categories of enrolled children (003 annex 1 note 3) with weights and who they fit; else F.
CATEGORIES: list[tuple[str | None, float, Callable[[Kid, int], bool]]] = [
    ("F", 22, lambda k, age: True),
    ("G", 10, lambda k, age: True),
    ("E", 10, lambda k, age: True),
    ("H", 8, lambda k, age: age >= 13),
    ("I", 6, lambda k, age: age >= 14),
    ("C", 3, lambda k, age: "DISABLED" in k[GROUPS]),
    ("D", 2, lambda k, age: "DISABLED" in k[GROUPS]),
    ("J", 3, lambda k, age: True),
    ("K", 3, lambda k, age: age >= 12),
    ("L", 1, lambda k, age: True),
    ("M", 3, lambda k, age: _female(k) and age >= 14),
    ("N", 2, lambda k, age: _female(k) and age >= 15),
    ("O", 1, lambda k, age: age >= 15),
    ("R", 4, lambda k, age: "POVERTY" in k[GROUPS]),
    ("S", 5, lambda k, age: k[GRADE] == 7),
    ("T", 4, lambda k, age: True),
    (None, 10, lambda k, age: True),  # not yet set
]
CATEGORY_TOTAL = sum(w for _, w, _ in CATEGORIES)


class Cases:
    """Entries, visits and deferrals of every county, in the order they are loaded; entry ids explicit."""

    def __init__(self, first_entry_id: int) -> None:
        self.next_id = first_entry_id
        self.entries: list[tuple[Any, ...]] = []
        self.visits: list[tuple[Any, ...]] = []
        self.deferrals: list[tuple[Any, ...]] = []

    def city(self, rng: random.Random, names: dict[str, str], kids: list[Kid], first_child_id: int) -> None:
        """The cases of a city's children (`kids` in id order); `names`: county code → name."""
        c = _City(rng, names, self.next_id)
        for n, kid in enumerate(kids):
            c.child(kid, first_child_id + n)
        self.next_id = c.next_id
        for e in c.entries:
            if e["status"] != "CLOSED":
                c.next_step(e)
        for e in c.entries:
            for k in ("opened_on", "last_visit_on", "returned_on", "placed_on"):
                e[k] = iso(e[k])
        self.entries.extend(tuple(e[k] for k in ENTRY_COLUMNS) for e in c.entries)
        self.visits.extend(
            (*v[:2], v[2].isoformat(), *v[3:5], json.dumps(v[5], ensure_ascii=False), *v[6:8], iso(v[8]), *v[9:])
            for v in c.visits
        )
        self.deferrals.extend(c.deferrals)

    def take(self) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """The rows made since the last call (entries, visits, deferrals), to load."""
        out = (self.entries, self.visits, self.deferrals)
        self.entries, self.visits, self.deferrals = [], [], []
        return out


class _City(Persuasion):
    """The cases of one city's children."""

    def __init__(self, rng: random.Random, names: dict[str, str], next_id: int) -> None:
        super().__init__(rng, names)
        self.next_id = next_id
        self.entries: list[Row] = []

    def child(self, kid: Kid, child_id: int) -> None:
        r = self.rng.random()
        enrolled = kid[SCHOOL] is not None
        susp, drop, closed = ENROLLED_SHARES if enrolled else OUT_OF_SCHOOL_SHARES
        if r >= susp + drop + closed:
            return
        if r < susp:
            self.suspected(kid, child_id)
        elif r < susp + drop:
            self.dropout(kid, child_id)
        elif enrolled:
            self.closed_history(kid, child_id)
        else:
            self.found_elsewhere(kid, child_id)

    # --- dates ----------------------------------------------------------------------------------------

    def day(self, start: date, end: date) -> date:
        """A school day (Monday–Friday) in [start, end]; `start` is a weekday."""
        d = start + timedelta(days=int(self.rng.random() * ((end - start).days + 1)))
        while d.weekday() >= 5:
            d -= timedelta(days=1)
        return max(d, start)

    # --- entries --------------------------------------------------------------------------------------

    def entry(self, kid: Kid, child_id: int, ledger: str, source: str, opened: date, **extra: Any) -> Row:
        school, home, village = kid[SCHOOL], kid[HOUSEHOLD], kid[RESIDENCE]
        copied = from_child(
            school_code=school.code if school else None,
            school_path=school.path if school else None,
            grade=kid[GRADE],
            birth_date=birth_date(kid[BIRTH]),
            household_path=home.path,
            residence_path=village.path,
            province_code=home.code[:2],
            opened_on=opened,
        )
        opened_at = at(opened, 8 if source == "ATTENDANCE" else 15, int(self.rng.random() * 60))
        row: Row = {
            "id": self.next_id,
            "child_id": child_id,
            "escalated_from_id": None,
            "previous_entry_id": None,
            **open_entry(
                copied, ledger, source, opened_at=opened_at, updated_at=at(opened, 18), village_code=village.code
            ),
            "_kid": kid,
        }
        row.update(extra)
        self.next_id += 1
        self.entries.append(row)
        return row

    def suspected(self, kid: Kid, child_id: int) -> None:
        r = self.rng.random()
        if kid[SCHOOL] is None:
            source = "DOOR_TO_DOOR" if r < 0.5 else "COMPARISON"
            opened = self.day(date(2025, 9, 1), date(2026, 10, 23))
            e = self.entry(kid, child_id, "SUSPECTED", source, opened)
            e["category"] = "A" if e["stage"] == "PRIMARY" else "B"
            self.follow_up(e, AS_OF, cap=2)
            return
        source = "ATTENDANCE" if r < 0.85 else "MANUAL" if r < 0.9 else "MINISTRY" if r < 0.93 else "COMPARISON"
        if source == "ATTENDANCE":
            opened = self.day(date(2026, 9, 24), date(2026, 10, 30))
        else:
            opened = self.day(date(2026, 9, 1), date(2026, 10, 28))
        e = self.entry(kid, child_id, "SUSPECTED", source, opened)
        if self.rng.random() < 0.92:
            self.follow_up(e, AS_OF, cap=2)
        if self.rng.random() < 0.04:
            self.returned(e, opened + timedelta(days=7 + int(self.rng.random() * 6)))

    def dropout(self, kid: Kid, child_id: int) -> None:
        rng = self.rng
        if kid[SCHOOL] is None:
            opened = self.day(date(2025, 9, 15), date(2026, 6, 30))
            e = self.entry(kid, child_id, "DROPOUT", "COMPARISON" if rng.random() < 0.5 else "DOOR_TO_DOOR", opened)
            e["category"] = "Q" if rng.random() < 0.2 else "A" if e["stage"] == "PRIMARY" else "B"
            self.follow_up(e, AS_OF, cap=2)
            return
        if rng.random() < 0.6:  # the attendance rules: absent a week, then a month (003 annex 1 notes 1–2)
            s = self.entry(kid, child_id, "SUSPECTED", "ATTENDANCE", self.day(date(2025, 9, 15), date(2026, 9, 25)))
            on = add_month(s["opened_on"]) + timedelta(days=1)
            self.follow_up(s, on - timedelta(days=1), cap=1)
            sweeper = "edu-county-" + s["responsible_path"][-6:]
            s.update(status="CLOSED", close_reason="ESCALATED_TO_DROPOUT", closed_at=at(on, 6), closed_by=sweeper)
            s["updated_at"] = s["closed_at"]
            e = self.entry(
                kid, child_id, "DROPOUT", "ATTENDANCE", on, escalated_from_id=s["id"], stage=s["stage"],
                opened_by=sweeper, opened_at=at(on, 6), updated_at=at(on, 6),
            )  # fmt: skip
        else:
            source = ("MANUAL", "COMPARISON", "DOOR_TO_DOOR")[int(rng.random() * 3)]
            e = self.entry(kid, child_id, "DROPOUT", source, self.day(date(2025, 9, 15), date(2026, 10, 23)))
        e["category"] = self.category(kid, e["opened_on"])
        r = rng.random()
        if r < 0.05 and e["opened_on"] <= date(2026, 8, 1):
            self.deferral(kid, e, "APPROVED")
        elif r < 0.08 and e["opened_on"] <= date(2026, 8, 1):
            self.deferral(kid, e, "PENDING" if r < 0.065 else "REJECTED")
        else:
            self.follow_up(e, AS_OF, cap=3)
            if r < 0.11 and e["last_visit_on"] is not None:
                self.returned(e, e["last_visit_on"] + timedelta(days=2 + int(rng.random() * 10)))

    def category(self, kid: Kid, on: date) -> str | None:
        """A category that fits the child (drawn again, at most thrice, when it does not; else F)."""
        age = _age(kid, on)
        for _ in range(3):
            x = self.rng.random() * CATEGORY_TOTAL
            for category, weight, fits in CATEGORIES:
                x -= weight
                if x < 0:
                    if fits(kid, age):
                        return category
                    break
        return "F"

    def closed_history(self, kid: Kid, child_id: int) -> None:
        """Absent last school year, persuaded back, placed and closed out (001 分类安置; 004 §2)."""
        e = self.entry(kid, child_id, "SUSPECTED", "ATTENDANCE", self.day(date(2025, 9, 15), date(2026, 6, 1)))
        self.follow_up(e, e["opened_on"] + timedelta(days=20), cap=1)
        back = (e["last_visit_on"] or e["opened_on"]) + timedelta(days=1 + int(self.rng.random() * 5))
        self.returned(e, back)
        disabled = "DISABLED" in kid[GROUPS]
        placement = (
            "HOME_TEACHING"
            if disabled
            else ("JOIN_CLASS", "INDIVIDUAL_TUTORING", "SEPARATE_CLASS")[int(self.rng.random() * 3)]
        )
        placed = back + timedelta(days=1)
        closed = placed + timedelta(days=3 + int(self.rng.random() * 8))
        e.update(
            placement=placement,
            placement_school_code=e["school_code"],
            placement_note=PLACEMENT_NOTES[placement],
            placed_on=placed,
        )
        self.close(e, "RETURNED_AND_PLACED", closed, None)

    def found_elsewhere(self, kid: Kid, child_id: int) -> None:
        """An out-of-school child found studying elsewhere: checked and closed out."""
        e = self.entry(kid, child_id, "SUSPECTED", "COMPARISON", self.day(date(2025, 9, 15), date(2026, 6, 30)))
        e["category"] = "A" if e["stage"] == "PRIMARY" else "B"
        day = e["opened_on"] + timedelta(days=2 + int(self.rng.random() * 5))
        self.visit(e, day, VisitMethod.PHONE, 1, outcome="经电话核实，学生随父母在外地就读")
        self.close(e, "ENROLLED_ELSEWHERE_CONFIRMED", day + timedelta(days=5), "经核实在外地就读，已取得就读学校证明")

    def returned(self, e: Row, on: date) -> None:
        if on <= AS_OF:
            e.update(status="RETURNED", returned_on=on, updated_at=max(e["updated_at"], at(on, 16)))

    def close(self, e: Row, reason: str, on: date, note: str | None) -> None:
        e.update(
            status="CLOSED",
            close_reason=reason,
            close_note=note,
            closed_at=at(on, 11),
            closed_by="edu-county-" + e["responsible_path"][-6:],
            updated_at=at(on, 11),
        )


def _age(kid: Kid, day: date) -> int:
    return age_on(birth_date(kid[BIRTH]), day)
