"""The demo's ledger cases: suspected dropouts, dropouts, persuasion, plans, deferrals, handovers.

Built the way the application builds them (resolvers/ledgers): an entry copies the child's school, grade and
paths; the responsible region is the county of the school, or of the residence for a child not enrolled
(001 §2.2); the stage comes from the grade, or from the age; the four steps of persuasion are taken in
order (000 §2); a suspected entry escalated by the attendance rules is closed as ESCALATED_TO_DROPOUT and
its dropout entry points back to it (003 annex 1 note 2); P only with an approved deferral (001 §2.2).

Shares, of about 3,000 children: 2.5% on the suspected-dropout ledger (out-of-school children among them,
category A/B), about 0.85% dropouts spread over the categories A–T (003 annex 1 note 3), a few with the
category still missing. Every date lies in the 2025–26 school year or the autumn term of 2026, on or
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
from models.ledger_rules import add_month
from models.persuasion import VisitMethod
from models.province import age_on

from ..entries import open_entry
from .people import (
    ABSENCE_FIRST_DAY,
    ABSENCE_LAST_DAY,
    ABSENCE_STORY,
    AGED_16,
    CUTOFF,
    HANDED_BACK,
    HANDOVER_PENDING,
    SEED,
    STORY_CHILDREN,
    Geography,
    People,
    Row,
    at,
    person_name,
)

AS_OF = date(2026, 10, 31)  # the demo's "today": no seeded date lies after it
SUSPECTED_SHARE = 0.025
# Classes the ledger tests register attendance for (tests/ledger_support.py): no open case there, so a
# test's class register finds no demo child to mark as returned.
QUIET_SCHOOLS = frozenset({"2153000036", "2153000031"})
CLASS_OF_STORY = frozenset((c.school, c.grade) for c in ABSENCE_STORY)

TERMS = ((date(2025, 9, 8), date(2026, 1, 16)), (date(2026, 3, 2), date(2026, 7, 3)), (date(2026, 9, 7), AS_OF))

OUTCOMES = {
    VisitMethod.HOME_VISIT: [
        "家长表示孩子厌学，答应做好思想工作，下周一送返学校",
        "监护人外出务工，由祖父母照看，答应督促孩子返校",
        "学生本人不愿返校，班主任和村干部做思想工作，未果",
        "家长认为读书无用，已宣讲《义务教育法》，家长态度有所松动",
        "学生在家帮忙干农活，家长同意农忙后送返",
        "学生沉迷手机游戏，与家长约定共同督促",
    ],
    VisitMethod.PHONE: [
        "电话联系监护人，监护人称孩子在亲戚家，答应尽快送返",
        "电话联系监护人，表示孩子身体不适，近期返校",
        "监护人电话无人接听，已请村委会协助联系",
        "学生随父母在外地，电话动员返校，家长表示考虑",
    ],
    VisitMethod.WRITTEN_NOTICE: ["向监护人送达《复学通知书》，告知送子女入学的法定义务"],
    VisitMethod.JOINT_VISIT: [
        "教育、乡镇、村委会、司法所联合入户，宣讲《义务教育法》，家长表示配合",
        "联合劝返，学生本人仍不愿返校，监护人签字承诺继续做工作",
        "联合入户，了解到家庭经济困难，已落实资助政策，学生同意考虑返校",
    ],
    VisitMethod.ORDER_TO_CORRECT: [
        "乡镇人民政府下达《责令限期改正通知书》，限十五日内送子女返校",
        "县教育体育局约谈监护人，下达责令限期改正通知",
    ],
    VisitMethod.JUDICIAL_DOCUMENT: [
        "司法所送达《督促监护人履行法定义务告知书》，监护人签收",
        "司法所会同派出所送达法律文书，监护人表示将送孩子返校",
    ],
}
NEXT_STEP = {
    1: ["一周后再次入户", "如仍不返校，报乡镇人民政府责令限期改正", "班主任每日电话跟进"],
    2: ["限期届满后复查，仍未返校的报司法所发放法律文书", "乡镇、学校共同跟踪"],
    3: ["跟踪返校情况，必要时依法追究法律责任", "每周联系一次监护人"],
}
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


def weekdays(start: date, end: date) -> list[date]:
    return [start + timedelta(n) for n in range((end - start).days + 1) if (start + timedelta(n)).weekday() < 5]


def age_at(child: Row, day: date) -> int:
    return age_on(child["birth_date"], day)


def stage_of(child: Row, on: date) -> Stage:
    return stage_at(child["grade"], child["birth_date"], on)


class Cases:
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
        }
        row.update(extra)
        self.data.entries.append(row)
        return len(self.data.entries) - 1

    def suspected(self, n: int, opened_on: date, source: str = "ATTENDANCE", **extra: Any) -> int:
        return self.entry(n, "SUSPECTED", source, opened_on, **extra)

    def escalate(self, s: int, category: DropoutCategory | None) -> int:
        """The attendance rules' escalation (resolvers/ledgers/rules.py `_escalate`)."""
        suspected = self.data.entries[s]
        on = add_month(suspected["opened_on"]) + timedelta(days=1)
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
        )

    def attendance_start(self, term: tuple[date, date], *, latest: date = AS_OF) -> date:
        """The day a suspected entry opens: the 8th calendar day of an absence beginning on a school day."""
        days = [d + timedelta(days=7) for d in weekdays(*term) if d + timedelta(days=7) <= min(term[1], latest)]
        return self.rng.choice(days)

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

    # --- persuasion ------------------------------------------------------------------------------------

    def participants(self, e: int, method: VisitMethod) -> list[dict[str, str]]:
        area, names = self.area(e), self.geo.names
        province = area["county"][:2]
        school, village, township, county = area["school"], area["village"], area["township"], area["county"]

        def who(title: str, department: str, line: str) -> dict[str, str]:
            male = self.rng.random() < 0.5
            return {
                "name": f"{person_name(self.rng, province, male, adult=True)}（{title}）",
                "department": department,
                "line": line,
            }

        teacher = who("班主任", self.geo.schools[school].name, "EDU") if school else None
        cadre = who("村委会主任", names[village], "GOV")
        town = who("分管副乡镇长", f"{names[township]}人民政府", "GOV")
        bureau = who("控辍保学专干", f"{names[county]}教育体育局", "EDU")
        if method in (VisitMethod.HOME_VISIT, VisitMethod.WRITTEN_NOTICE):
            return [teacher, cadre] if teacher else [cadre, town]
        if method is VisitMethod.PHONE:
            return [teacher or cadre]
        if method is VisitMethod.JOINT_VISIT:
            extra = self.rng.choice(
                [who("司法助理员", f"{names[township]}司法所", "GOV"), who("妇联主席", f"{names[county]}妇联", "GOV")]
            )
            return [teacher or bureau, town, cadre, extra]
        if method is VisitMethod.ORDER_TO_CORRECT:
            return [town, bureau]
        return [who("司法助理员", f"{names[township]}司法所", "GOV"), town]

    def recorder(self, e: int, method: VisitMethod) -> str:
        area = self.area(e)
        if method in (VisitMethod.HOME_VISIT, VisitMethod.PHONE, VisitMethod.WRITTEN_NOTICE):
            return f"staff-school-{area['school']}" if area["school"] else f"gov-village-{area['village']}"
        if method is VisitMethod.JUDICIAL_DOCUMENT:
            return f"gov-county-{area['county']}"
        return f"gov-township-{area['township']}"

    def visit(self, e: int, day: date, method: VisitMethod, stage: int, *, outcome: str | None = None) -> None:
        entry = self.data.entries[e]
        n = entry["_child"]
        assert entry["opened_on"] <= day <= AS_OF, (entry, day)
        assert stage <= self.reached.get(n, 0) + 1, "the four steps are taken in order (000 §2)"
        self.reached[n] = max(self.reached.get(n, 0), stage)
        self.data.visits.append(
            {
                "_entry": e,
                "_child": n,
                "visited_on": day,
                "method": method.value,
                "stage": stage,
                "participants": self.participants(e, method),
                "outcome": outcome or self.rng.choice(OUTCOMES[method]),
                "next_step": None,
                "next_on": None,
                "recorded_by": self.recorder(e, method),
                "created_at": at(day, 17, self.rng.randrange(60)),
                "province_code": entry["province_code"],
            }
        )
        if entry["last_visit_on"] is None or day > entry["last_visit_on"]:
            entry["last_visit_on"] = day
            entry["updated_at"] = max(entry["updated_at"], at(day, 17, 59))

    def scripted(
        self, e: int, start: date, steps: list[tuple[VisitMethod, int]], gap: tuple[int, int] = (7, 16)
    ) -> date:
        """Visits in this order from `start`, a week or two apart; the day after the last one."""
        day = start
        for method, stage in steps:
            self.visit(e, day, method, stage)
            day += timedelta(days=self.rng.randint(*gap))
        return day

    def follow_up(self, e: int, until: date, *, cap: int = 3) -> None:
        """The usual course: one to three first-step visits, then perhaps an order to correct, a judicial document."""
        entry = self.data.entries[e]
        until = min(until, AS_OF)
        day = entry["opened_on"] + timedelta(days=self.rng.randint(1, 5))
        steps = [
            (
                self.rng.choice(
                    [
                        VisitMethod.HOME_VISIT,
                        VisitMethod.HOME_VISIT,
                        VisitMethod.HOME_VISIT,
                        VisitMethod.PHONE,
                        VisitMethod.WRITTEN_NOTICE,
                    ]
                ),
                1,
            )
            for _ in range(self.rng.choice([1, 1, 2, 2, 3]))
        ]
        r = self.rng.random()
        if cap >= 2 and r < 0.45:
            steps.append((VisitMethod.ORDER_TO_CORRECT, 2))
            if self.rng.random() < 0.4:
                steps.append((VisitMethod.JOINT_VISIT, 2))
        if cap >= 3 and r < 0.15:
            steps.append((VisitMethod.JUDICIAL_DOCUMENT, 3))
        for method, stage in steps:
            if day > until or stage > self.reached.get(entry["_child"], 0) + 1:
                break
            self.visit(e, day, method, stage)
            day += timedelta(days=self.rng.randint(6, 20))

    def next_step(self, e: int) -> None:
        """The open case's last visit names the next step and its day."""
        visits = [v for v in self.data.visits if v["_entry"] == e]
        if visits:
            last = max(visits, key=lambda v: v["visited_on"])
            last["next_step"] = self.rng.choice(NEXT_STEP[last["stage"]])
            last["next_on"] = last["visited_on"] + timedelta(days=self.rng.randint(7, 14))

    # --- plans, deferrals, handovers -------------------------------------------------------------------

    def plan(self, e: int) -> None:
        entry = self.data.entries[e]
        child, area, names = self.children[entry["_child"]], self.area(e), self.geo.names
        province = area["county"][:2]
        if entry["status"] == "DEFERRED":
            goal = "经批准延缓入学（休学）期间每月家访、送教上门，期满后复学"
        elif child["school_code"] is None:
            goal = "核实情况，动员就近入学，下学期开学插班就读"
        else:
            goal = self.rng.choice(
                [
                    "劝返复学，返校后插班就读并安排结对帮扶",
                    "两周内劝返到校，返校后个别辅导补习功课",
                    "劝返复学，巩固在校",
                ]
            )
        head = person_name(self.rng, province, self.rng.random() < 0.6, adult=True)
        edu = (
            f"{head}（{self.geo.schools[area['school']].name}校长）"
            if area["school"]
            else f"{head}（{names[area['county']]}教育体育局）"
        )
        gov = f"{person_name(self.rng, province, True, adult=True)}（{names[area['township']]}人民政府分管领导）"
        steps = [
            "班主任、村委会每周联系一次监护人",
            "乡镇人民政府约谈监护人，必要时责令限期改正",
            self.rng.choice(["返校后安排结对帮扶和个别辅导", "落实资助政策，解决实际困难", "联系司法所开展法治教育"]),
        ]
        made = at(min(entry["opened_on"] + timedelta(days=3), AS_OF), 10)
        self.data.plans.append(
            {
                "_child": entry["_child"],
                "goal": goal,
                "responsible_edu": edu,
                "responsible_gov": gov,
                "steps": steps,
                "updated_by": f"edu-school-{area['school']}" if area["school"] else f"gov-township-{area['township']}",
                "province_code": entry["province_code"],
                "created_at": made,
                "updated_at": made,
                "version": 1,
            }
        )

    def deferral(
        self,
        e: int,
        basis: str,
        grounds: str,
        requested: date,
        *,
        status: str,
        document_ref: str | None = None,
        note: str | None = None,
    ) -> None:
        entry = self.data.entries[e]
        area = self.area(e)
        decided = requested + timedelta(days=self.rng.randint(5, 12))
        self.data.deferrals.append(
            {
                "_entry": e,
                "_child": entry["_child"],
                "basis": basis,
                "grounds": grounds,
                "document_ref": document_ref,
                "status": status,
                "requested_by": f"edu-school-{area['school']}"
                if area["school"]
                else f"gov-township-{area['township']}",
                "requested_at": at(requested, 15),
                "decided_by": None if status == "PENDING" else f"gov-county-{area['county']}",
                "decided_at": None if status == "PENDING" else at(decided, 10),
                "decision_note": note,
                "province_code": entry["province_code"],
            }
        )
        if status == "APPROVED":  # resolvers/ledgers/persuasion.py `decide_deferral`
            entry.update(status="DEFERRED", category=DropoutCategory.P.value, updated_at=at(decided, 10))

    # --- the stories -----------------------------------------------------------------------------------

    def build(self) -> DemoData:
        self.relapse()
        self.deferrals()
        self.handovers()
        self.returned_awaiting_placement()
        self.dropouts()
        self.out_of_school()
        self.closed_history()
        self.fill_suspected()
        self.absence_story()
        self.plans()
        for e, entry in enumerate(self.data.entries):
            if entry["status"] != "CLOSED":
                self.next_step(e)
        return self.data

    def escalated(
        self,
        n: int,
        category: DropoutCategory | None,
        term: tuple[date, date],
        *,
        cap: int = 3,
        until: date | None = AS_OF,
    ) -> int:
        """Absent more than a week, then more than a month (003 annex 1 notes 1–2), persuaded all along
        (the dropout entry's usual visits up to `until`; None: the caller scripts them)."""
        s = self.suspected(n, self.attendance_start(term))
        self.follow_up(s, add_month(self.data.entries[s]["opened_on"]), cap=1)
        d = self.escalate(s, category)
        if until is not None:
            self.follow_up(d, until, cap=cap)
        return d

    def relapse(self) -> None:
        """Returned and closed out in autumn 2025, absent again in autumn 2026: a relapse (004 §2)."""
        n = self.pick(lambda c: junior(c) and c["grade"] <= 8)
        first = self.suspected(n, date(2025, 10, 20))
        self.scripted(first, date(2025, 10, 21), [(VisitMethod.HOME_VISIT, 1), (VisitMethod.PHONE, 1)], (3, 5))
        self.returned(first, date(2025, 11, 3))
        self.place_and_close(first, "JOIN_CLASS", date(2025, 11, 4))
        again = self.suspected(n, date(2026, 10, 12), _previous=first, is_relapse=True)
        self.scripted(
            again, date(2026, 10, 13), [(VisitMethod.HOME_VISIT, 1), (VisitMethod.ORDER_TO_CORRECT, 2)], (10, 14)
        )

    def deferrals(self) -> None:
        """Deferral (001 §2.2): approved after three joint visits, awaiting approval, refused, and a disabled
        child assessed by the county's disability-education expert committee."""
        n = self.pick(lambda c: junior(c) and age_at(c, date(2025, 11, 1)) >= 13)
        s = self.suspected(n, self.attendance_start((date(2025, 10, 13), date(2025, 10, 31))))
        self.follow_up(s, add_month(self.data.entries[s]["opened_on"]), cap=1)
        d = self.escalate(s, DropoutCategory.G)
        joint = [
            (VisitMethod.JOINT_VISIT, 1),
            (VisitMethod.ORDER_TO_CORRECT, 2),
            (VisitMethod.JOINT_VISIT, 2),
            (VisitMethod.JUDICIAL_DOCUMENT, 3),
            (VisitMethod.JOINT_VISIT, 3),
        ]
        day = self.scripted(d, self.data.entries[d]["opened_on"] + timedelta(days=3), joint, (12, 20))
        grounds = "经教育、乡镇、村委会、司法所联合劝返三次以上，监护人已履行送学义务，学生本人仍拒绝返校，申请休学一年"
        self.deferral(d, "JOINT_VISITS", grounds, day, status="APPROVED", note="同意休学一年，期间学校每月家访一次")
        self.visit(
            d,
            day + timedelta(days=40),
            VisitMethod.HOME_VISIT,
            3,
            outcome="休学期间家访，学生情绪稳定，表示明年考虑复学",
        )

        n = self.pick(lambda c: junior(c) and age_at(c, CUTOFF) >= 14)
        d = self.entry(
            n, "DROPOUT", "MANUAL", self.any_day(date(2026, 4, 13), date(2026, 4, 17)), category=DropoutCategory.G
        )
        joint = [
            (VisitMethod.HOME_VISIT, 1),
            (VisitMethod.JOINT_VISIT, 1),
            (VisitMethod.ORDER_TO_CORRECT, 2),
            (VisitMethod.JOINT_VISIT, 2),
            (VisitMethod.JOINT_VISIT, 2),
        ]
        day = self.scripted(d, self.data.entries[d]["opened_on"] + timedelta(days=2), joint, (10, 18))
        grounds = "学生长期厌学在家，经多部门联合劝返三次仍拒绝返校，监护人已尽到送学义务，申请休学一学期"
        self.deferral(d, "JOINT_VISITS", grounds, day, status="PENDING")

        n = self.pick(lambda c: junior(c) and c["gender"] == "MALE")
        d = self.escalated(n, DropoutCategory.F, (date(2026, 3, 2), date(2026, 3, 31)), until=None)
        joint = [
            (VisitMethod.JOINT_VISIT, 1),
            (VisitMethod.ORDER_TO_CORRECT, 2),
            (VisitMethod.JOINT_VISIT, 2),
            (VisitMethod.JOINT_VISIT, 2),
        ]
        day = self.scripted(d, self.data.entries[d]["opened_on"] + timedelta(days=2), joint, (9, 14))
        grounds = "学生沉迷网络、厌学，经联合劝返三次未返校，监护人申请延缓"
        note = "监护人未能履行送学义务，不符合延缓入学条件，继续劝返（001 §2.2）"
        self.deferral(d, "JOINT_VISITS", grounds, day, status="REJECTED", note=note)
        self.visit(d, day + timedelta(days=21), VisitMethod.JUDICIAL_DOCUMENT, 3)

        n = self.pick(lambda c: disabled(c) and c["grade"] <= 6)
        child = self.children[n]
        child["disability_grade"] = 1
        d = self.entry(
            n, "DROPOUT", "MANUAL", self.any_day(date(2025, 11, 3), date(2025, 11, 14)), category=DropoutCategory.D
        )
        day = self.scripted(
            d,
            self.data.entries[d]["opened_on"] + timedelta(days=3),
            [(VisitMethod.HOME_VISIT, 1), (VisitMethod.JOINT_VISIT, 1)],
        )
        county = self.area(d)["county"]
        self.deferral(
            d,
            "EXPERT_ASSESSMENT",
            f"经县残疾人教育专家委员会评估，该生{child['disability_category']}一级，暂不能适应学校学习生活，申请延缓入学一年",
            day,
            status="APPROVED",
            document_ref=f"{self.geo.names[county]}残疾人教育专家委员会评估〔2025〕{self.rng.randint(3, 19)}号",
            note="同意延缓入学一年，由学校每周送教上门两次",
        )

    def handovers(self) -> None:
        """Migrant dropouts who went home to another province (001 §2.2): the former flow-in county writes
        to the household-registration side; one notice acknowledged, one still waiting."""
        n = self.story[HANDED_BACK.name]
        s = self.suspected(n, date(2026, 3, 16))
        self.visit(s, date(2026, 3, 18), VisitMethod.PHONE, 1, outcome="电话联系家长，得知学生已随父母返回宁夏固原老家")
        d = self.escalate(s, DropoutCategory.H)
        self.hand_over(d, date(2026, 4, 28), acknowledged=date(2026, 5, 8))
        self.scripted(d, date(2026, 5, 12), [(VisitMethod.HOME_VISIT, 1), (VisitMethod.ORDER_TO_CORRECT, 2)], (18, 24))

        n = self.story[HANDOVER_PENDING.name]
        s = self.suspected(n, date(2026, 9, 14))
        self.visit(s, date(2026, 9, 16), VisitMethod.PHONE, 1, outcome="家长称已带孩子回云南大姚老家，暂不回洮南")
        d = self.escalate(s, DropoutCategory.F)
        self.hand_over(d, date(2026, 10, 20), acknowledged=None)

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

    def returned_awaiting_placement(self) -> None:
        """Back at school, not yet placed nor closed out (RETURNED)."""
        n = self.pick(enrolled)
        s = self.suspected(n, self.attendance_start((date(2026, 9, 7), date(2026, 10, 9))))
        back = self.data.entries[s]["opened_on"] + timedelta(days=self.rng.randint(7, 12))
        self.follow_up(s, back - timedelta(days=1), cap=1)
        self.returned(s, back)

        n = self.pick(junior)
        d = self.escalated(n, DropoutCategory.E, (date(2026, 3, 2), date(2026, 5, 29)), cap=2, until=date(2026, 10, 18))
        self.returned(d, date(2026, 10, 19))

    def dropouts(self) -> None:
        """Dropouts over the categories (003 annex 1 note 3), from attendance and from findings."""
        year = (date(2025, 9, 8), date(2026, 6, 1))
        autumn = (date(2026, 9, 7), date(2026, 9, 28))
        specs: list[tuple[DropoutCategory | None, Callable[[Row], bool], str]] = [
            (DropoutCategory.C, lambda c: disabled(c) and c["school_code"] not in SPECIAL_SCHOOLS, "MANUAL"),
            (DropoutCategory.D, disabled, "MANUAL"),
            (DropoutCategory.I, lambda c: junior(c) and age_at(c, CUTOFF) >= 14, "ATTENDANCE"),
            (DropoutCategory.J, junior, "COMPARISON"),
            (DropoutCategory.K, junior, "MANUAL"),
            (DropoutCategory.L, junior, "MANUAL"),
            (
                DropoutCategory.M,
                lambda c: junior(c) and c["gender"] == "FEMALE" and age_at(c, CUTOFF) >= 14,
                "ATTENDANCE",
            ),
            (
                DropoutCategory.N,
                lambda c: junior(c) and c["gender"] == "FEMALE" and age_at(c, CUTOFF) >= 15,
                "DOOR_TO_DOOR",
            ),
            (
                DropoutCategory.R,
                lambda c: enrolled(c) and SpecialGroup.POVERTY_REGISTERED.value in c["special_groups"],
                "COMPARISON",
            ),
            (DropoutCategory.S, lambda c: enrolled(c) and c["grade"] == 7, "ATTENDANCE"),
            (DropoutCategory.T, junior, "ATTENDANCE"),
            (None, junior, "ATTENDANCE"),
            (None, junior, "ATTENDANCE"),
            (None, lambda c: enrolled(c) and c["grade"] >= 5, "MANUAL"),
        ]
        for category, want, source in specs:
            n = self.pick(want)
            if source == "ATTENDANCE":
                self.escalated(n, category, autumn if category is DropoutCategory.S else year)
            else:
                d = self.entry(
                    n, "DROPOUT", source, self.any_day(date(2025, 9, 15), date(2026, 10, 23)), category=category
                )
                self.follow_up(d, AS_OF)
        self.escalated(self.story[AGED_16[2].name], DropoutCategory.O, year)
        for category, want in (
            (DropoutCategory.A, lambda c: out_of_school(c) and age_at(c, CUTOFF) <= 10),
            (DropoutCategory.B, lambda c: out_of_school(c) and age_at(c, CUTOFF) >= 13),
            (DropoutCategory.Q, lambda c: out_of_school(c) and age_at(c, CUTOFF) >= 12),
        ):
            n = self.pick(want)
            source = "DOOR_TO_DOOR" if category is DropoutCategory.A else "COMPARISON"
            note = "在外地民办学校就读，无学籍" if category is DropoutCategory.Q else None
            d = self.entry(
                n, "DROPOUT", source, self.any_day(date(2025, 9, 15), date(2026, 6, 30)), category=category, note=note
            )
            self.follow_up(d, AS_OF, cap=2)

    def out_of_school(self) -> None:
        """Out-of-school children (失学) found by comparison and door to door: the suspected ledger, A or B."""
        windows = [
            (date(2025, 9, 1), date(2025, 10, 31)),
            (date(2026, 2, 23), date(2026, 3, 31)),
            (date(2026, 9, 1), date(2026, 10, 23)),
        ]
        for k in range(14):
            n = self.pick(out_of_school)
            opened = self.any_day(*self.rng.choice(windows))
            category = DropoutCategory.A if stage_of(self.children[n], opened) is Stage.PRIMARY else DropoutCategory.B
            e = self.suspected(n, opened, "DOOR_TO_DOOR" if k % 2 else "COMPARISON", category=category)
            self.follow_up(e, AS_OF, cap=2)
        places = ["广东省东莞市", "浙江省义乌市", "云南省昆明市官渡区", "江苏省苏州市吴中区"]
        for _ in range(3):
            n = self.pick(out_of_school, active=False)
            opened = self.any_day(date(2025, 9, 15), date(2026, 6, 30))
            category = DropoutCategory.A if stage_of(self.children[n], opened) is Stage.PRIMARY else DropoutCategory.B
            e = self.suspected(n, opened, "COMPARISON", category=category)
            place = self.rng.choice(places)
            day = opened + timedelta(days=self.rng.randint(2, 6))
            self.visit(e, day, VisitMethod.PHONE, 1, outcome=f"经电话核实，学生随父母在{place}就读")
            county = self.area(e)["county"]
            note = f"经核实在{place}就读，已取得就读学校证明"
            self.close(
                e,
                "ENROLLED_ELSEWHERE_CONFIRMED",
                day + timedelta(days=self.rng.randint(5, 15)),
                f"edu-county-{county}",
                note,
            )
        for story, category, opened in (
            (AGED_16[0], DropoutCategory.I, date(2025, 10, 14)),
            (AGED_16[1], DropoutCategory.G, date(2025, 11, 5)),
        ):
            n = self.story[story.name]
            d = self.entry(n, "DROPOUT", "DOOR_TO_DOOR", opened, category=category)
            self.follow_up(d, date(2026, 8, 20), cap=2)
            county = self.area(d)["county"]
            note = "已满十六周岁，超出义务教育年龄，转由人社部门跟踪职业技能培训"
            self.close(d, "AGED_OUT", date(2026, 9, 4), f"edu-county-{county}", note)

    def closed_history(self) -> None:
        """Cases closed out after return and placement (001 分类安置; 004 §2 dynamic close-out)."""
        for _ in range(2):
            n = self.pick(enrolled, active=False)
            s = self.suspected(n, self.attendance_start(self.rng.choice(TERMS[:2]), latest=date(2026, 6, 1)))
            day = self.scripted(
                s, self.data.entries[s]["opened_on"] + timedelta(days=1), [(VisitMethod.HOME_VISIT, 1)], (3, 6)
            )
            self.returned(s, day)
            self.place_and_close(s, "JOIN_CLASS", day + timedelta(days=1))

        n = self.pick(junior, active=False)
        s = self.suspected(n, self.attendance_start(TERMS[0], latest=date(2025, 11, 30)))
        self.follow_up(s, add_month(self.data.entries[s]["opened_on"]), cap=1)
        d = self.escalate(s, DropoutCategory.F)
        day = self.scripted(
            d,
            self.data.entries[d]["opened_on"] + timedelta(days=2),
            [(VisitMethod.HOME_VISIT, 1), (VisitMethod.JOINT_VISIT, 1)],
        )
        self.returned(d, day)
        self.place_and_close(d, "INDIVIDUAL_TUTORING", day + timedelta(days=2))

        n = self.pick(enrolled, active=False)
        d = self.entry(
            n, "DROPOUT", "MANUAL", self.any_day(date(2025, 11, 3), date(2026, 3, 31)), category=DropoutCategory.E
        )
        day = self.scripted(
            d,
            self.data.entries[d]["opened_on"] + timedelta(days=4),
            [(VisitMethod.PHONE, 1), (VisitMethod.HOME_VISIT, 1)],
            (20, 40),
        )
        self.returned(d, day)
        self.place_and_close(d, "SEPARATE_CLASS", day + timedelta(days=3))

        n = self.pick(lambda c: disabled(c) and c["school_code"] not in SPECIAL_SCHOOLS, active=False)
        d = self.entry(
            n, "DROPOUT", "MANUAL", self.any_day(date(2025, 9, 15), date(2025, 12, 15)), category=DropoutCategory.C
        )
        day = self.scripted(
            d,
            self.data.entries[d]["opened_on"] + timedelta(days=3),
            [(VisitMethod.HOME_VISIT, 1), (VisitMethod.JOINT_VISIT, 1)],
        )
        self.returned(d, day)
        self.place_and_close(d, "HOME_TEACHING", day + timedelta(days=5))

    def fill_suspected(self) -> None:
        """Up to the suspected share, mostly this autumn's attendance findings (within the last month)."""
        target = round(len(self.children) * SUSPECTED_SHARE)
        k = 0
        while sum(e["ledger"] == "SUSPECTED" and e["status"] != "CLOSED" for e in self.data.entries) < target:
            source = "MANUAL" if k < 3 else "MINISTRY" if k < 5 else "ATTENDANCE"
            n = self.pick(enrolled)
            if source == "ATTENDANCE":
                opened = self.attendance_start((date(2026, 9, 24), AS_OF))
            else:
                opened = self.any_day(date(2026, 9, 1), date(2026, 10, 28))
            e = self.suspected(n, opened, source)
            if self.rng.random() < 0.92:
                self.follow_up(e, AS_OF, cap=2)
            k += 1

    def absence_story(self) -> None:
        """ABSENCE_STORY: absent on every school day 2 – 13 March 2026 while the class registers were taken."""
        for story in ABSENCE_STORY:
            n = self.story[story.name]
            child = self.children[n]
            for day in weekdays(ABSENCE_FIRST_DAY, ABSENCE_LAST_DAY):
                self.data.marks.append(
                    {
                        "_child": n,
                        "day": day,
                        "mark": "ABSENT",
                        "school_code": child["school_code"],
                        "recorded_by": f"staff-school-{child['school_code']}",
                        "recorded_at": at(day, 8, 30),
                        "province_code": child["province_code"],
                    }
                )
        for school, grade in sorted(CLASS_OF_STORY, key=str):
            for day in weekdays(ABSENCE_FIRST_DAY, ABSENCE_LAST_DAY):
                self.data.registers.append(
                    {
                        "school_code": school,
                        "grade": grade,
                        "day": day,
                        "recorded_by": f"staff-school-{school}",
                        "recorded_at": at(day, 8, 30),
                        "province_code": str(school)[2:4],
                    }
                )

    def plans(self) -> None:
        """One plan per child (004 §9): most children on a ledger, fewer of those whose cases are closed."""
        latest: dict[int, int] = {}
        for e, entry in enumerate(self.data.entries):
            n = entry["_child"]
            if n not in latest or entry["status"] != "CLOSED" or self.data.entries[latest[n]]["status"] == "CLOSED":
                latest[n] = e
        for n in sorted(latest):
            entry = self.data.entries[latest[n]]
            special = entry["status"] in ("DEFERRED", "TRANSFERRED") or (
                self.data.deferrals and any(d["_child"] == n for d in self.data.deferrals)
            )
            chance = 0.9 if entry["status"] != "CLOSED" else 0.5
            if special or self.rng.random() < chance:
                self.plan(latest[n])


SPECIAL_SCHOOLS = frozenset({"2122000002", "2153000001", "2164000001"})


def enrolled(child: Row) -> bool:
    return child["school_code"] is not None


def junior(child: Row) -> bool:
    return enrolled(child) and child["grade"] >= 7


def disabled(child: Row) -> bool:
    return enrolled(child) and SpecialGroup.DISABLED.value in child["special_groups"]


def out_of_school(child: Row) -> bool:
    return child["school_code"] is None and age_at(child, CUTOFF) <= 15


def demo_data() -> DemoData:
    """All demo rows, the same on every run."""
    rng = random.Random(SEED)  # noqa: S311 - reproducible demo data, not secrets
    geo = Geography()
    people = People(rng, geo)
    children = people.generate()
    cases = Cases(rng, geo, children).build()
    cases.guardians = people.guardians()
    cases.enrolments = people.enrolments()
    return cases
