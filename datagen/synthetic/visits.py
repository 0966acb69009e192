"""Persuasion (劝返) in `baoxue seed synthetic`: visits taking the four steps in order, deferral requests.

As the demo does it (datagen/demo/persuasion.py) and as the application checks it (resolvers/ledgers/persuasion.py):
a step is never taken before the one below it, per child; the methods of steps 2 and 3 only at that step;
a deferral on the joint-visits basis after three joint visits, a disabled child's on an expert assessment.
Timestamps are COPY-ready strings (China Standard Time), so loading them costs nothing to convert.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from models.persuasion import MIN_STAGE_OF_METHOD, VisitMethod

from ..demo.casework import AS_OF
from ..demo.people import MEN, WOMEN
from ..demo.persuasion import NEXT_STEP, OUTCOMES
from .people import GROUPS, RESIDENCE, SCHOOL, SURNAMES, Kid

Row = dict[str, Any]
FIRST_STEP = (
    VisitMethod.HOME_VISIT,
    VisitMethod.HOME_VISIT,
    VisitMethod.HOME_VISIT,
    VisitMethod.PHONE,
    VisitMethod.WRITTEN_NOTICE,
)
JOINT_STEPS = (
    (VisitMethod.JOINT_VISIT, 1),
    (VisitMethod.ORDER_TO_CORRECT, 2),
    (VisitMethod.JOINT_VISIT, 2),
    (VisitMethod.JOINT_VISIT, 2),
)
GROUNDS = "经教育、乡镇、村委会、司法所联合劝返三次以上，监护人已履行送学义务，学生本人仍拒绝返校，申请休学一年"
ASSESSED = "经县残疾人教育专家委员会评估，该生暂不能适应学校学习生活，申请延缓入学一年"


def at(day: date, hour: int = 9, minute: int = 0) -> str:
    """A moment of a day in China Standard Time, as COPY reads it (strings order as the moments do)."""
    return f"{day.isoformat()} {hour:02d}:{minute:02d}:00+08"


def iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


class Persuasion:
    """Visits and deferral requests of the entries of one city (`names`: county code → name)."""

    def __init__(self, rng: random.Random, names: dict[str, str]) -> None:
        self.rng, self.names = rng, names
        self.visits: list[list[Any]] = []
        self.deferrals: list[tuple[Any, ...]] = []
        self.reached: dict[int, int] = {}  # child → the highest of the four steps taken (per child, as the app checks)
        self.last_visit: dict[int, list[Any]] = {}

    def follow_up(self, e: Row, until: date, *, cap: int) -> None:
        """One to three first-step visits, then perhaps an order to correct, a judicial document (demo)."""
        rng = self.rng
        until = min(until, AS_OF)
        day = e["opened_on"] + timedelta(days=1 + int(rng.random() * 5))
        steps = [(FIRST_STEP[int(rng.random() * 5)], 1) for _ in range((1, 1, 2, 2, 3)[int(rng.random() * 5)])]
        r = rng.random()
        if cap >= 2 and r < 0.45:
            steps.append((VisitMethod.ORDER_TO_CORRECT, 2))
            if rng.random() < 0.4:
                steps.append((VisitMethod.JOINT_VISIT, 2))
        if cap >= 3 and r < 0.15:
            steps.append((VisitMethod.JUDICIAL_DOCUMENT, 3))
        for method, stage in steps:
            if day > until:
                break
            self.visit(e, day, method, stage)
            day += timedelta(days=6 + int(rng.random() * 15))

    def deferral(self, kid: Kid, e: Row, status: str) -> None:
        """A deferral request (001 §2.2): after three joint visits, or a disabled child's expert assessment."""
        rng = self.rng
        disabled = "DISABLED" in kid[GROUPS]
        steps = ((VisitMethod.HOME_VISIT, 1), (VisitMethod.JOINT_VISIT, 1)) if disabled else JOINT_STEPS
        day = e["opened_on"] + timedelta(days=2)
        for method, stage in steps:
            self.visit(e, day, method, stage)
            day += timedelta(days=9 + int(rng.random() * 6))
        decided = day + timedelta(days=5 + int(rng.random() * 8))
        county = e["responsible_path"][-6:]
        self.deferrals.append(
            (
                e["id"],
                e["child_id"],
                "EXPERT_ASSESSMENT" if disabled else "JOINT_VISITS",
                ASSESSED if disabled else GROUNDS,
                f"{self.names[county]}残疾人教育专家委员会评估〔2026〕{3 + int(rng.random() * 17)}号"
                if disabled
                else None,
                status,
                f"edu-county-{county}",  # the bureau proposes, the county government decides (001 二2)
                at(day, 15),
                None if status == "PENDING" else f"gov-county-{county}",
                None if status == "PENDING" else at(decided, 10),
                {"APPROVED": "同意延缓入学（休学）一年，期间每月家访", "REJECTED": "不符合延缓入学条件，继续劝返"}.get(
                    status
                ),
                e["province_code"],
            )
        )
        if status == "APPROVED":  # resolvers/ledgers/persuasion.py `decide_deferral`
            e.update(status="DEFERRED", category="P", updated_at=at(decided, 10))

    def visit(self, e: Row, day: date, method: VisitMethod, stage: int, *, outcome: str | None = None) -> None:
        assert e["opened_on"] <= day <= AS_OF
        reached = self.reached.get(e["child_id"], 0)
        stage = max(min(stage, reached + 1), MIN_STAGE_OF_METHOD.get(method, 1))
        if stage > reached + 1:  # the four steps in order (000 §2): a step not yet due is left out
            return
        self.reached[e["child_id"]] = max(reached, stage)
        kid: Kid = e["_kid"]
        rng = self.rng
        school, village = kid[SCHOOL], kid[RESIDENCE]
        pick = rng.choice(OUTCOMES[method])
        if method in (VisitMethod.HOME_VISIT, VisitMethod.PHONE, VisitMethod.WRITTEN_NOTICE):
            recorder = f"staff-school-{school.code}" if school else f"gov-village-{village.code}"
        elif method is VisitMethod.JUDICIAL_DOCUMENT:
            recorder = f"gov-county-{e['responsible_path'][-6:]}"
        else:
            recorder = f"gov-township-{village.township.code}"
        row = [
            e["id"],
            e["child_id"],
            day,
            method.value,
            stage,
            self.participants(kid, method, self.names[e["responsible_path"][-6:]]),
            outcome or pick,
            None,
            None,
            recorder,
            at(day, 17, int(rng.random() * 60)),
            e["province_code"],
        ]
        self.visits.append(row)
        self.last_visit[e["id"]] = row
        if e["last_visit_on"] is None or day > e["last_visit_on"]:
            e["last_visit_on"] = day
            e["updated_at"] = max(e["updated_at"], at(day, 17, 59))

    def participants(self, kid: Kid, method: VisitMethod, county: str) -> list[dict[str, str]]:
        school, village = kid[SCHOOL], kid[RESIDENCE]
        township = village.township

        def who(title: str, department: str, line: str) -> dict[str, str]:
            male = self.rng.random() < 0.5
            given = MEN if male else WOMEN
            name = SURNAMES[int(self.rng.random() * len(SURNAMES))] + given[int(self.rng.random() * len(given))]
            return {"name": f"{name}（{title}）", "department": department, "line": line}

        teacher = who("班主任", school.name, "EDU") if school else None
        cadre = who("村委会主任", village.name, "GOV")
        if method in (VisitMethod.HOME_VISIT, VisitMethod.WRITTEN_NOTICE):
            return [teacher, cadre] if teacher else [cadre, who("分管副乡镇长", f"{township.name}人民政府", "GOV")]
        if method is VisitMethod.PHONE:
            return [teacher or cadre]
        town = who("分管副乡镇长", f"{township.name}人民政府", "GOV")
        if method is VisitMethod.JOINT_VISIT:
            lead = teacher or who("控辍保学专干", f"{county}教育体育局", "EDU")
            return [lead, town, cadre, who("司法助理员", f"{township.name}司法所", "GOV")]
        if method is VisitMethod.ORDER_TO_CORRECT:
            return [town, who("控辍保学专干", f"{county}教育体育局", "EDU")]
        return [who("司法助理员", f"{township.name}司法所", "GOV"), town]

    def next_step(self, e: Row) -> None:
        """The open case's last visit names the next step and its day."""
        last = self.last_visit.get(e["id"])
        if last is not None:
            last[7] = self.rng.choice(NEXT_STEP[last[4]])
            last[8] = last[2] + timedelta(days=7 + int(self.rng.random() * 8))
