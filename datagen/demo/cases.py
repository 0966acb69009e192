"""The demo's ledger cases: the stories of suspected dropouts, dropouts, persuasion, plans, deferrals, handovers.

Built with the application's rules (casework.py, persuasion.py). Shares, of about 3,000 children: 2.5% on the
suspected-dropout ledger (out-of-school children among them, category A/B), about 0.85% dropouts spread over the
categories A–T (003 annex 1 note 3), a few with the category still missing. Every date lies in the 2025–26
school year or the autumn term of 2026, on or before AS_OF, so nothing depends on the day the seed runs.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta

from models.child import SpecialGroup, Stage
from models.ledger import DropoutCategory
from models.ledger_rules import add_month
from models.persuasion import VisitMethod

from .casework import (
    AS_OF,
    CLASS_OF_STORY,
    SPECIAL_SCHOOLS,
    SUSPECTED_SHARE,
    TERMS,
    DemoData,
    age_at,
    disabled,
    enrolled,
    junior,
    out_of_school,
    stage_of,
    weekdays,
)
from .people import (
    ABSENCE_FIRST_DAY,
    ABSENCE_LAST_DAY,
    ABSENCE_STORY,
    AGED_16,
    CUTOFF,
    HANDED_BACK,
    HANDOVER_PENDING,
    SEED,
    People,
    Row,
    at,
)
from .persuasion import Persuasion
from .places import Geography
from .term_start import term_start_story
from .transitions import add_transitions


class Cases(Persuasion):
    """The demo's stories, each picking its children and working their cases."""

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
        term_start_story(self)
        self.plans()
        for e, entry in enumerate(self.data.entries):
            if entry["status"] != "CLOSED":
                self.next_step(e)
        return self.data

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

    def assessed(self, d: int) -> None:
        """D (经评估不适宜在校就读) rests on the county expert committee's assessment (003 annex 1 note 3,
        001 二2): on record as the bureau's proposal on it, awaiting the leading group."""
        entry, county = self.data.entries[d], self.area(d)["county"]
        requested = min(entry["opened_on"] + timedelta(days=20), AS_OF)
        self.data.deferrals.append(
            {
                "_entry": d,
                "_child": entry["_child"],
                "_visit": None,
                "basis": "EXPERT_ASSESSMENT",
                "grounds": "经县残疾人教育专家委员会评估，该生暂不适宜在校就读，申请延缓入学，期间送教上门",
                "document_ref": f"{self.geo.names[county]}残疾人教育专家委员会评估〔2026〕1号",
                "guardian_statement": None,
                "status": "PENDING",
                "requested_by": f"edu-county-{county}",
                "requested_at": at(requested, 15),
                "decided_by": None,
                "decided_at": None,
                "decision_note": None,
                "province_code": entry["province_code"],
            }
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
            if category is DropoutCategory.R:  # R needs a household known as relocated (ledger_categories.py)
                self.children[n]["special_groups"].append(SpecialGroup.RELOCATED.value)
            if source == "ATTENDANCE":
                self.escalated(n, category, autumn if category is DropoutCategory.S else year)
            else:
                d = self.entry(
                    n, "DROPOUT", source, self.any_day(date(2025, 9, 15), date(2026, 10, 23)), category=category
                )
                self.follow_up(d, AS_OF)
                if category is DropoutCategory.D:
                    self.assessed(d)
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
        """Cases closed out after return and placement (001 分类安置; 004 §9 dynamic close-out)."""
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


def demo_data() -> DemoData:
    """All demo rows, the same on every run."""
    rng = random.Random(SEED)  # noqa: S311 - reproducible demo data, not secrets
    geo = Geography()
    people = People(rng, geo)
    children = people.generate()
    cases = Cases(rng, geo, children).build()
    cases.guardians = people.guardians()
    cases.enrolments = people.enrolments()
    add_transitions(cases)
    return cases
