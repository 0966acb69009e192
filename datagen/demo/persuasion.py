"""Persuasion (劝返) in the demo: visits taking the four steps in order (000 §2), the next step of an open case,
case plans (004 §9) and deferral requests (P only with an approved one, 001 §2.2)."""

from __future__ import annotations

from datetime import date, timedelta

from models.ledger import DropoutCategory
from models.ledger_rules import add_month
from models.persuasion import VisitMethod

from .casework import AS_OF, Casework
from .people import at, person_name

ORDER_TIME_LIMIT = timedelta(days=5)  # every later step in the demo comes at least six days after an order

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


class Persuasion(Casework):
    """Visits, plans and deferrals of the demo's cases."""

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
                # 责令限期改正: five days to send the child back (seed 000 一2); the next step comes later.
                "correct_by": day + ORDER_TIME_LIMIT if method is VisitMethod.ORDER_TO_CORRECT else None,
                "liability_outcome": None,
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
        joint = [
            n
            for n, v in enumerate(self.data.visits)
            if v["_entry"] == e and v["method"] == VisitMethod.JOINT_VISIT.value and v["visited_on"] <= requested
        ]
        statement = basis != "EXPERT_ASSESSMENT"  # 监护人已履行相应法定义务，但学生本人拒不返校 (001 二2)
        self.data.deferrals.append(
            {
                "_entry": e,
                "_child": entry["_child"],
                "_visit": joint[-1] if statement and joint else None,
                "basis": basis,
                "grounds": grounds,
                "document_ref": document_ref,
                "guardian_statement": "监护人已履行送学义务，多次送子女到校，学生本人拒不返校" if statement else None,
                "status": status,
                # The county bureau proposes; the county leading group (county government) decides (001 二2).
                "requested_by": f"edu-county-{area['county']}",
                "requested_at": at(requested, 15),
                "decided_by": None if status == "PENDING" else f"gov-county-{area['county']}",
                "decided_at": None if status == "PENDING" else at(decided, 10),
                "decision_note": note,
                "province_code": entry["province_code"],
            }
        )
        if status == "APPROVED":  # resolvers/ledgers/persuasion.py `decide_deferral`
            entry.update(status="DEFERRED", category=DropoutCategory.P.value, updated_at=at(decided, 10))

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
