"""Which dropout categories fit the child (POLICY 003 annex 1 note 3): the one place for each rule.

A category names why a child is out of school; some say something the record can check, and a category
that contradicts the record is refused (`CATEGORY_MISMATCH`, the message naming the rule below). The
rest (E–N, Q, T) say what only a visit can find out, and fit any child. Each rule is read as the README's
"Categories fit the child" says, and the facts are the record as it stands when the category is set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from .child import JUNIOR_AGE, SpecialGroup
from .enrolment import EnrolmentChange
from .ledger import DropoutCategory
from .persuasion import DeferralBasis, DeferralStatus
from .province import SCHOOL_AGE, age_on

PRIMARY_LAST_GRADE = 6  # 小升初: the step from grade 6 (the last of primary) to grade 7 (the first of junior)
TRANSITION_GRADES = frozenset({PRIMARY_LAST_GRADE, PRIMARY_LAST_GRADE + 1})


@dataclass(frozen=True)
class CategoryFacts:
    """What the record says about the child of an entry."""

    age: int  # on the day the entry opened: the age that gave the entry its stage (models.ledger.from_child)
    age_at_cutoff: int  # on the cut-off day of the school year it opened in (school-age ledger, comparisons)
    age_at_year_end: int  # on the cut-off day ending that school year
    ever_enrolled: bool  # a school, on the entry, the child or in the enrolment history
    at_transition: bool  # flagged in grade 6 or 7, or last left school by finishing grade 6
    disabled: bool
    expert_assessed: bool  # a county expert committee's assessment on record (an EXPERT_ASSESSMENT request)
    relocated: bool  # the household is marked as moved by poverty-relief relocation (RELOCATED)


@dataclass(frozen=True)
class CategoryRule:
    """One rule: `holds(facts)` must be true for a category in `categories`."""

    name: str
    categories: frozenset[DropoutCategory]
    zh: str
    en: str
    holds: Callable[[CategoryFacts], bool]


def _ages(facts: CategoryFacts) -> tuple[int, int]:
    """The child's age counted both ways baoxue counts it: a band fits when either count falls in it."""
    return facts.age, facts.age_at_cutoff


def _primary_age(facts: CategoryFacts) -> bool:
    return any(SCHOOL_AGE[0] <= age < JUNIOR_AGE for age in _ages(facts))


def _junior_age(facts: CategoryFacts) -> bool:
    return any(JUNIOR_AGE <= age <= SCHOOL_AGE[1] for age in _ages(facts))


C = DropoutCategory
RULES: tuple[CategoryRule, ...] = (
    CategoryRule(
        "NEVER_ENROLLED",
        frozenset({C.A, C.B}),
        "A、B 类（失学）须从未入学",
        "A and B (out of school) are for a child never enrolled",
        lambda f: not f.ever_enrolled,
    ),
    CategoryRule(
        "PRIMARY_AGE",
        frozenset({C.A}),
        f"A 类须为小学适龄（建档日或该学年截止日 {SCHOOL_AGE[0]}–{JUNIOR_AGE - 1} 周岁）",
        f"A needs primary-school age ({SCHOOL_AGE[0]}–{JUNIOR_AGE - 1} when the entry opened or on its school "
        "year's cut-off day)",
        _primary_age,
    ),
    CategoryRule(
        "JUNIOR_AGE",
        frozenset({C.B}),
        f"B 类须为初中适龄（建档日或该学年截止日 {JUNIOR_AGE}–{SCHOOL_AGE[1]} 周岁）",
        f"B needs junior-secondary age ({JUNIOR_AGE}–{SCHOOL_AGE[1]} when the entry opened or on its school "
        "year's cut-off day)",
        _junior_age,
    ),
    CategoryRule(
        "DISABLED",
        frozenset({C.C, C.D}),
        "C、D 类（因残辍学）须为残疾儿童",
        "C and D (disability) are for a disabled child",
        lambda f: f.disabled,
    ),
    CategoryRule(
        "EXPERT_ASSESSED",
        frozenset({C.D}),
        "D 类须有县级残疾人教育专家委员会的评估（延缓申请依据 EXPERT_ASSESSMENT）",
        "D needs the county expert committee's assessment on record (a request on EXPERT_ASSESSMENT)",
        lambda f: f.expert_assessed,
    ),
    CategoryRule(
        "OVER_AGE",
        frozenset({C.O}),
        f"O 类（超龄离校）须在建档学年结束时已超过 {SCHOOL_AGE[1]} 周岁",
        f"O (over-age) needs a child older than {SCHOOL_AGE[1]} by the end of the school year it opened in",
        lambda f: f.age_at_year_end > SCHOOL_AGE[1],
    ),
    CategoryRule(
        "PRIMARY_TO_JUNIOR",
        frozenset({C.S}),
        "S 类（小升初辍学）须在六、七年级或小学毕业后辍学",
        "S (primary to junior) needs a child in grade 6 or 7, or out of school after finishing primary",
        lambda f: f.at_transition,
    ),
    CategoryRule(
        "RELOCATED",
        frozenset({C.R}),
        "R 类须为易地扶贫搬迁户（重点群体 RELOCATED）",
        "R needs a household marked as relocated (special group RELOCATED)",
        lambda f: f.relocated,
    ),
)


def facts_of(
    *,
    birth_date: date,
    opened_on: date,
    year_start: date,
    year_end: date,
    special_groups: Iterable[str],
    child_school_code: str | None,
    entry_school_code: str | None,
    entry_grade: int | None,
    enrolment: Iterable[tuple[EnrolmentChange, int]],
    requests: Iterable[tuple[DeferralBasis, DeferralStatus]],
) -> CategoryFacts:
    """The facts from the child's row, its entry, its enrolment history (change, grade, in order) and the
    entry's deferral requests (basis, status): the one reading for the API and the demo data alike.
    `year_start` and `year_end` are the province's cut-off days opening and ending the school year the entry
    opened in."""
    history = list(enrolment)
    groups = set(special_groups)
    last = history[-1] if history else None
    return CategoryFacts(
        age=age_on(birth_date, opened_on),
        age_at_cutoff=age_on(birth_date, year_start),
        age_at_year_end=age_on(birth_date, year_end),
        ever_enrolled=bool(history or entry_school_code or child_school_code),
        at_transition=entry_grade in TRANSITION_GRADES
        or (last is not None and last == (EnrolmentChange.GRADUATE, PRIMARY_LAST_GRADE)),
        disabled=SpecialGroup.DISABLED.value in groups,
        expert_assessed=any(
            basis is DeferralBasis.EXPERT_ASSESSMENT and status is not DeferralStatus.REJECTED
            for basis, status in requests
        ),
        relocated=SpecialGroup.RELOCATED.value in groups,
    )


def deferral_refusal(category: DropoutCategory, deferred: bool) -> str | None:
    """P (延缓入学) is the category of a deferred entry and of no other (seed 001 二2): P on an entry not
    deferred is DEFERRAL_NOT_APPROVED, another category on a deferred one BAD_STATUS (codes older than
    the rules above). An approved deferral sets P itself."""
    if category is C.P and not deferred:
        return "DEFERRAL_NOT_APPROVED"
    if deferred and category is not C.P:
        return "BAD_STATUS"
    return None


def broken_rule(category: DropoutCategory, facts: CategoryFacts) -> CategoryRule | None:
    """The first rule the category breaks for this child, or None when it fits."""
    return next((r for r in RULES if category in r.categories and not r.holds(facts)), None)
