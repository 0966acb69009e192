"""The demo data: the places of the policy texts with real division codes, schools, accounts, and a
generated population of about 3,000 children with the cases a county works on (issue 4 item 10)."""

from __future__ import annotations

import base64
from collections import Counter, defaultdict
from datetime import date, timedelta

from sqlalchemy import func, select

from datagen.demo.cases import demo_data
from datagen.demo.casework import AS_OF, school_days_from
from datagen.demo.places import SCHOOLS
from datagen.demo.seed import ABSENCE_STORY_NAMES, POPULATION, demo_accounts, seed_demo
from models import Account, Child, Region, School
from models.attendance import AttendanceMark, ClassRegister
from models.enrolment import EnrolmentEvent
from models.ledger import Handover, LedgerEntry
from models.ledger_categories import broken_rule, facts_of
from models.ledger_rules import add_month
from models.persuasion import MIN_STAGE_OF_METHOD, CasePlan, DeferralRequest, PersuasionVisit
from models.province import age_on
from tests.conftest import gql, token_for

CUTOFF = date(2026, 8, 31)
WUDING = "532329"


async def test_chuxiong_baicheng_and_guyuan_have_all_their_counties(session):
    async def children(code: str) -> dict[str, str]:
        rows = await session.scalars(select(Region).where(Region.parent_code == code))
        return {r.code: r.name for r in rows}

    chuxiong = await children("5323")
    assert len(chuxiong) == 10
    assert chuxiong["532329"] == "武定县"
    assert set((await children("2208")).values()) == {"洮北区", "镇赉县", "通榆县", "洮南市", "大安市"}
    assert set((await children("6404")).values()) == {"原州区", "西吉县", "隆德县", "泾源县", "彭阳县"}


async def test_every_county_has_townships_and_primary_and_junior_schools(session):
    counties = (await session.scalars(select(Region).where(Region.level == "COUNTY"))).all()
    for county in counties:
        townships = await session.scalar(
            select(func.count()).select_from(Region).where(Region.parent_code == county.code)
        )
        assert townships >= 2, county.name
        schools = [s for s in SCHOOLS if s.region_code.startswith(county.code)]
        assert any("PRIMARY" in s.stages for s in schools), county.name
        assert any("JUNIOR" in s.stages for s in schools), county.name


async def test_school_paths_extend_their_region_paths(session):
    rows = (await session.execute(select(School, Region).join(Region, School.region_code == Region.code))).all()
    assert len(rows) == len(SCHOOLS)
    for school, region in rows:
        assert school.path == f"{region.path}/{school.code}"
        assert school.province_code == region.code[:2]
        assert len(school.code) == 10
        assert school.code.isdigit()


async def test_demo_accounts_follow_the_naming_scheme(session):
    names = {a.username for a in demo_accounts()}
    for expected in (
        "edu-province-53",
        "edu-city-5323",
        "edu-county-532329",
        "gov-province-64",
        "gov-township-532329101",
        "admin-county-640402",
        "integrator-province-22",
        "supervisor-city-2208",
    ):
        assert expected in names
    school = SCHOOLS[0].code
    assert {f"edu-school-{school}", f"staff-school-{school}"} <= names
    stored = await session.scalar(select(func.count()).select_from(Account).where(Account.username.in_(names)))
    assert stored == len(names)


async def test_seeding_again_adds_nothing(session):
    added = await seed_demo(session)
    assert added == {"regions": 0, "schools": 0, "accounts": 0, "grants": 0} | dict.fromkeys(POPULATION, 0)


# --- the population -------------------------------------------------------------------------------


def gid(type_name: str, key: int | str) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


def raw_id(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().split(":", 1)[1])


def county_of(path: str) -> str:
    return "/".join(path.split("/")[:3])


async def children_of(session) -> list[Child]:
    return list((await session.scalars(select(Child).order_by(Child.id))).all())


async def entries_of(session) -> list[LedgerEntry]:
    return list((await session.scalars(select(LedgerEntry).order_by(LedgerEntry.id))).all())


async def on_ledger(session, ledger: str) -> set[int]:
    """Children with an entry on this ledger that is not closed out."""
    rows = await session.scalars(
        select(LedgerEntry.child_id).where(LedgerEntry.ledger == ledger, LedgerEntry.status != "CLOSED")
    )
    return set(rows.all())


async def test_about_three_thousand_children_of_school_age(session):
    children = await children_of(session)
    assert 2900 <= len(children) <= 3100
    ages = Counter(age_on(c.birth_date, CUTOFF) for c in children)
    assert set(ages) <= set(range(6, 17))
    assert ages[16] <= 5  # a handful past compulsory age, for the aged-out cases
    assert all(ages[a] >= 100 for a in range(6, 16))
    assert len({c.national_id for c in children}) == len(children)


async def test_grades_fit_ages_and_schools_teach_them(session):
    schools = {s.code: s for s in (await session.scalars(select(School))).all()}
    for child in await children_of(session):
        if child.school_code is None:
            assert (child.grade, child.school_path, child.registry_number) == (None, None, None), child.name
            continue
        age = age_on(child.birth_date, CUTOFF)
        assert 0 <= age - 5 - child.grade <= 2, (child.name, age, child.grade)  # late starters a year or two behind
        school = schools[child.school_code]
        assert child.school_path == school.path
        taught = {"PRIMARY" if child.grade <= 6 else "JUNIOR", "NINE_YEAR", "SPECIAL"}
        assert taught & set(school.stages), (school.name, child.grade)
        assert child.registry_number == f"G{child.national_id}"


async def test_suspected_dropouts_are_two_to_three_percent(session):
    """POLICY 004 §2: the suspected-dropout ledger, out-of-school children included."""
    total = await session.scalar(select(func.count()).select_from(Child))
    assert 0.02 <= len(await on_ledger(session, "SUSPECTED")) / total <= 0.03


async def test_dropouts_are_half_to_one_percent(session):
    total = await session.scalar(select(func.count()).select_from(Child))
    assert 0.005 <= len(await on_ledger(session, "DROPOUT")) / total <= 0.01


async def test_a_child_has_at_most_one_entry_not_closed_out(session):
    stmt = (
        select(LedgerEntry.child_id)
        .where(LedgerEntry.status != "CLOSED")
        .group_by(LedgerEntry.child_id)
        .having(func.count() > 1)
    )
    assert (await session.scalars(stmt)).all() == []


async def test_dropouts_are_spread_over_the_categories(session):
    """POLICY 003 annex 1 note 3: A/B out of school, C/D disability, P deferred (001 §2.2)."""
    children = {c.id: c for c in await children_of(session)}
    approved = set(
        (await session.scalars(select(DeferralRequest.entry_id).where(DeferralRequest.status == "APPROVED"))).all()
    )
    dropouts = [e for e in await entries_of(session) if e.ledger == "DROPOUT"]
    assert len({e.category for e in dropouts if e.category}) >= 8
    for entry in dropouts:
        child = children[entry.child_id]
        if entry.category in ("A", "B"):
            assert entry.school_code is None, child.name
            assert entry.stage == ("PRIMARY" if entry.category == "A" else "JUNIOR")
        if entry.category in ("C", "D"):
            assert "DISABLED" in child.special_groups
        assert (entry.category == "P") == (entry.status == "DEFERRED") == (entry.id in approved)
        if entry.status == "CLOSED":
            assert entry.category is not None  # close-out needs the category (resolvers/ledgers/entries.py)


async def test_every_dropout_has_a_category_or_is_listed_as_missing(client, session):
    dropouts = [e for e in await entries_of(session) if e.ledger == "DROPOUT" and e.status != "CLOSED"]
    missing = {e.id for e in dropouts if e.category is None}
    assert 1 <= len(missing) <= 5
    query = """{ ledgerEntries(filter: {ledger: DROPOUT, missingCategory: true}, first: 100) {
      edges { node { id category } } } }"""
    listed: set[int] = set()
    for province in ("22", "53", "64"):
        token = await token_for(client, f"edu-province-{province}")
        edges = (await gql(client, query, token=token))["data"]["ledgerEntries"]["edges"]
        assert all(e["node"]["category"] is None for e in edges)
        listed |= {raw_id(e["node"]["id"]) for e in edges}
    assert {i for i in listed if i in {e.id for e in dropouts}} == missing


async def test_entries_copy_the_child_as_the_application_builds_them(session):
    """resolvers/ledgers/common.py `new_entry`: the child's school, grade and paths; the responsible county."""
    children = {c.id: c for c in await children_of(session)}
    handovers = {h.entry_id: h for h in (await session.scalars(select(Handover))).all()}
    for entry in await entries_of(session):
        child = children[entry.child_id]
        assert (entry.school_code, entry.school_path, entry.grade) == (
            child.school_code,
            child.school_path,
            child.grade,
        )
        assert (entry.household_path, entry.residence_path) == (child.household_path, child.residence_path)
        assert entry.province_code == child.province_code
        handover = handovers.get(entry.id)
        if handover is not None and handover.acknowledged_at is not None:
            assert (entry.responsible_path, entry.handover_path) == (handover.to_path, handover.from_path)
        else:
            assert entry.responsible_path == county_of(child.school_path or child.residence_path)
        if entry.grade:
            assert entry.stage == ("PRIMARY" if entry.grade <= 6 else "JUNIOR")
        assert date(2025, 9, 1) <= entry.opened_on <= AS_OF
        assert entry.version == 1


async def test_every_step_is_signed_by_a_demo_account(session):
    """Who opened, visited, decided, sent or closed: always an account of the demo, never an anonymous seed."""
    accounts = {a.username for a in demo_accounts()}
    signed = [
        *(await session.scalars(select(LedgerEntry.opened_by))).all(),
        *(await session.scalars(select(LedgerEntry.closed_by).where(LedgerEntry.closed_by.is_not(None)))).all(),
        *(await session.scalars(select(PersuasionVisit.recorded_by))).all(),
        *(await session.scalars(select(CasePlan.updated_by))).all(),
        *(await session.scalars(select(DeferralRequest.requested_by))).all(),
        *(
            await session.scalars(select(DeferralRequest.decided_by).where(DeferralRequest.decided_by.is_not(None)))
        ).all(),
        *(await session.scalars(select(Handover.sent_by))).all(),
        *(await session.scalars(select(EnrolmentEvent.recorded_by))).all(),
    ]
    assert len(signed) > 3000
    assert set(signed) <= accounts


async def test_escalations_and_relapses_are_linked(session):
    """POLICY 003 annex 1 note 2: a dropout is a suspected dropout still absent a month later."""
    entries = {e.id: e for e in await entries_of(session)}
    escalated = [e for e in entries.values() if e.escalated_from_id]
    assert len(escalated) >= 3
    for dropout in escalated:
        suspected = entries[dropout.escalated_from_id]
        assert (suspected.ledger, suspected.status, suspected.close_reason) == (
            "SUSPECTED",
            "CLOSED",
            "ESCALATED_TO_DROPOUT",
        )
        assert (dropout.ledger, dropout.source, dropout.child_id) == ("DROPOUT", "ATTENDANCE", suspected.child_id)
        # the first school day after the same date a month on (models/ledger_rules.escalation_day)
        assert dropout.opened_on == school_days_from(add_month(suspected.opened_on) + timedelta(days=1), 1)[0]
        assert dropout.evidence_first_absent_on == suspected.evidence_first_absent_on
    assert all(e.escalated_from_id for e in entries.values() if e.ledger == "DROPOUT" and e.source == "ATTENDANCE")
    relapses = [e for e in entries.values() if e.is_relapse]
    assert relapses
    for entry in relapses:
        previous = entries[entry.previous_entry_id]
        assert previous.child_id == entry.child_id
        assert previous.status == "CLOSED"
        assert previous.close_reason != "ESCALATED_TO_DROPOUT"
        assert entry.status != "CLOSED"
        assert previous.closed_at.date() < entry.opened_on
    statuses = Counter((e.status, e.close_reason) for e in entries.values())
    assert statuses[("RETURNED", None)] >= 2
    assert statuses[("CLOSED", "RETURNED_AND_PLACED")] >= 2
    assert statuses[("CLOSED", "ENROLLED_ELSEWHERE_CONFIRMED")] >= 1
    placed = [e for e in entries.values() if e.close_reason == "RETURNED_AND_PLACED"]
    assert all(e.placement and e.placed_on and e.returned_on <= e.placed_on for e in placed)


async def test_every_demo_category_fits_its_child(session):
    """Seed 003 annex 1 note 3 (issue 14 §5): the demo's categories pass the rules the API applies
    (models/ledger_categories.py), as the record stood when the data was made."""
    children = {c.id: c for c in await children_of(session)}
    events: dict[int, list[EnrolmentEvent]] = defaultdict(list)
    for event in (await session.scalars(select(EnrolmentEvent).order_by(EnrolmentEvent.on, EnrolmentEvent.id))).all():
        events[event.child_id].append(event)
    requests: dict[int, list[DeferralRequest]] = defaultdict(list)
    for request in (await session.scalars(select(DeferralRequest))).all():
        requests[request.entry_id].append(request)
    checked = set()
    for entry in await entries_of(session):
        if entry.category is None or entry.category == "P":
            continue
        child = children[entry.child_id]
        facts = facts_of(
            birth_date=child.birth_date,
            opened_on=entry.opened_on,
            year_start=date(entry.opened_on.year - (entry.opened_on.month < 9), 8, 31),  # no demo province
            year_end=date(entry.opened_on.year + (entry.opened_on.month >= 9), 8, 31),  # moves the cut-off day
            special_groups=child.special_groups,
            child_school_code=child.school_code,
            entry_school_code=entry.school_code,
            entry_grade=entry.grade,
            enrolment=[(e.change, e.grade) for e in events[child.id or 0] if e.on <= entry.opened_on],
            requests=[(r.basis, r.status) for r in requests[entry.id or 0]],
        )
        assert broken_rule(entry.category, facts) is None, (entry.category, child.name, facts)
        checked.add(entry.category)
    assert set("ABCDORS") <= checked


async def test_persuasion_takes_the_four_steps_in_order(session):
    """POLICY 000 §2: the four steps in order, none skipped; POLICY 004 §9: every visit recorded."""
    entries = {e.id: e for e in await entries_of(session)}
    visits = sorted((await session.scalars(select(PersuasionVisit))).all(), key=lambda v: (v.visited_on, v.id))
    reached: dict[int, int] = defaultdict(int)
    last: dict[int, date] = {}
    for visit in visits:
        entry = entries[visit.entry_id]
        assert entry.child_id == visit.child_id
        assert entry.opened_on <= visit.visited_on <= AS_OF
        assert visit.stage <= reached[visit.child_id] + 1, "a step was skipped"
        assert visit.stage >= MIN_STAGE_OF_METHOD.get(visit.method, 1)
        if visit.method == "JOINT_VISIT":
            assert len({p["department"] for p in visit.participants}) >= 2
        reached[visit.child_id] = max(reached[visit.child_id], visit.stage)
        last[visit.entry_id] = max(last.get(visit.entry_id, visit.visited_on), visit.visited_on)
    assert {e.id: e.last_visit_on for e in entries.values() if e.last_visit_on} == last
    assert {v.stage for v in visits} == {1, 2, 3}
    # Seed 000 一2: an order names its time limit, and judicial documents follow one that passed.
    assert all(v.correct_by and v.correct_by > v.visited_on for v in visits if v.method == "ORDER_TO_CORRECT")
    for visit in visits:
        if visit.method == "JUDICIAL_DOCUMENT":
            orders = [o for o in visits if o.child_id == visit.child_id and o.method == "ORDER_TO_CORRECT"]
            assert any(o.correct_by and o.correct_by < visit.visited_on for o in orders)
    active = [e for e in entries.values() if e.status != "CLOSED"]
    assert sum(e.id in last for e in active) >= 0.75 * len(active)
    plans = set((await session.scalars(select(CasePlan.child_id))).all())
    assert len(plans & {e.child_id for e in active}) >= 0.75 * len({e.child_id for e in active})


async def test_deferrals_follow_seed_001(session):
    """POLICY 001 §2.2: deferral after three joint persuasions, or a disabled child after expert assessment."""
    entries = {e.id: e for e in await entries_of(session)}
    children = {c.id: c for c in await children_of(session)}
    visits = (await session.scalars(select(PersuasionVisit))).all()
    deferrals = (await session.scalars(select(DeferralRequest))).all()
    kinds = {(d.basis, d.status) for d in deferrals}
    assert {("JOINT_VISITS", "APPROVED"), ("JOINT_VISITS", "PENDING"), ("EXPERT_ASSESSMENT", "APPROVED")} <= kinds
    for request in deferrals:
        entry = entries[request.entry_id]
        if request.basis == "JOINT_VISITS":
            joint = [v for v in visits if v.child_id == request.child_id and v.method == "JOINT_VISIT"]
            assert len([v for v in joint if v.visited_on <= request.requested_at.date()]) >= 3
        if request.basis == "EXPERT_ASSESSMENT":
            assert "DISABLED" in children[request.child_id].special_groups
            assert request.document_ref
        else:  # 监护人已履行相应法定义务，但学生本人拒不返校, recorded on a visit of the child
            assert request.guardian_statement
            statement = next(v for v in visits if v.id == request.statement_visit_id)
            assert statement.child_id == request.child_id
        # The county bureau proposes, the county leading group (county government) decides.
        assert request.requested_by.startswith("edu-county-")
        assert request.decided_by is None or request.decided_by.startswith("gov-county-")
        assert entry.status == {"PENDING": "OPEN", "REJECTED": "OPEN", "APPROVED": "DEFERRED"}[request.status]
        assert (request.decided_at is None) == (request.status == "PENDING")


async def test_migrants_across_counties_and_provinces(session):
    """POLICY 001 §2.2: the flow-in region (where the child studies) organises persuasion."""
    children = await children_of(session)
    migrants = [c for c in children if c.household_region_code[:6] != c.residence_region_code[:6]]
    assert {c.id for c in migrants} == {c.id for c in children if "MIGRANT" in c.special_groups}
    across_provinces = [c for c in migrants if c.household_region_code[:2] != c.residence_region_code[:2]]
    assert len(across_provinces) >= 10
    assert len(migrants) - len(across_provinces) >= 50
    for child in migrants:  # each studies where it lives
        assert child.school_path
        assert county_of(child.school_path) == county_of(child.residence_path)


async def test_a_dropout_handed_over_to_another_province(session):
    entries = {e.id: e for e in await entries_of(session)}
    handovers = (await session.scalars(select(Handover))).all()
    across = [h for h in handovers if h.from_path[:2] != h.to_path[:2]]
    done = [h for h in across if h.acknowledged_at is not None]
    waiting = [h for h in across if h.acknowledged_at is None]
    assert done
    assert waiting
    for h in done:
        assert (entries[h.entry_id].status, entries[h.entry_id].responsible_path) == ("OPEN", h.to_path)
    for h in waiting:
        entry = entries[h.entry_id]
        assert (entry.status, entry.handover_path, entry.responsible_path) == ("TRANSFERRED", h.to_path, h.from_path)
        assert entry.ledger == "DROPOUT"


async def test_out_of_school_children_are_seen_by_the_government_line_only(client, session):
    """Only the government line finds children who never enrolled (双线四级, ARCHITECTURE §4)."""
    out = [c for c in await children_of(session) if c.school_code is None and age_on(c.birth_date, CUTOFF) <= 15]
    assert len(out) >= 20
    found = [e for e in await entries_of(session) if e.child_id in {c.id for c in out}]
    suspected = [e for e in found if e.ledger == "SUSPECTED" and e.status == "OPEN"]
    assert len(suspected) >= 5
    assert all(e.category in ("A", "B") and e.source in ("DOOR_TO_DOOR", "COMPARISON") for e in suspected)

    child = next(c for c in out if c.id in {e.child_id for e in suspected})
    school = next(s for s in SCHOOLS if s.region_code[:6] == child.residence_region_code[:6])
    query = """query($id: ID!, $sid: ID!) { node(id: $id) { ... on Student { name } }
      students(filter: {enrolled: false}) { totalCount }
      ledgerEntries(filter: {studentId: $sid}) { totalCount } }"""
    variables = {"id": gid("Student", child.id), "sid": gid("Student", child.id)}
    for username in (f"edu-school-{school.code}", f"staff-school-{school.code}"):
        result = (await gql(client, query, variables, await token_for(client, username)))["data"]
        assert result == {"node": None, "students": {"totalCount": 0}, "ledgerEntries": {"totalCount": 0}}
    village = await token_for(client, f"gov-village-{child.residence_region_code}")
    result = (await gql(client, query, variables, village))["data"]
    assert result["node"] == {"name": child.name}
    assert result["ledgerEntries"]["totalCount"] >= 1


async def test_special_groups_at_plausible_rates(session):
    """POLICY 004 §3: the key groups to monitor."""
    children = await children_of(session)
    share = {g: n / len(children) for g, n in Counter(g for c in children for g in c.special_groups).items()}
    assert 0.10 <= share["LEFT_BEHIND"] <= 0.30
    assert 0.03 <= share["POVERTY_REGISTERED"] <= 0.12
    assert 0.01 <= share["DISABLED"] <= 0.025
    assert 0 < share["ORPHAN"] <= 0.01
    assert 0.04 <= share["MIGRANT"] <= 0.12
    for child in children:
        disabled = "DISABLED" in child.special_groups
        assert (child.disability_category is not None) == disabled == (child.disability_grade is not None)
        assert not ("LEFT_BEHIND" in child.special_groups and "MIGRANT" in child.special_groups)


async def test_every_enrolled_child_has_its_enrolment_history(session):
    events = defaultdict(list)
    for event in (await session.scalars(select(EnrolmentEvent).order_by(EnrolmentEvent.on, EnrolmentEvent.id))).all():
        events[event.child_id].append(event)
    transfers = 0
    for child in await children_of(session):
        history = events.get(child.id, [])
        if child.school_code is None:  # never enrolled, or the 小升初 story: finished primary, no school since
            assert history == [] or (history[-1].change, history[-1].grade) == ("GRADUATE", 6)
            continue
        assert history[0].change == "ENROL"
        assert (history[-1].school_code, history[-1].change in ("ENROL", "TRANSFER_IN")) == (child.school_code, True)
        if len(history) > 1:
            out, into = history[1], history[2]
            assert (out.change, into.change, out.on, out.grade) == ("TRANSFER_OUT", "TRANSFER_IN", into.on, into.grade)
            assert out.school_code == history[0].school_code != into.school_code
            transfers += 1
        assert all(e.on <= AS_OF for e in history)
    assert transfers >= 10


async def test_the_attendance_story_is_flagged_by_the_county_rules(client, session):
    """POLICY 003 annex 1 note 1: absent more than a week without leave → suspected dropout."""
    story = (await session.scalars(select(Child).where(Child.name.in_(ABSENCE_STORY_NAMES)))).all()
    assert sorted(c.name for c in story) == sorted(ABSENCE_STORY_NAMES)
    assert all(c.school_path.startswith(f"53/5323/{WUDING}/") for c in story)
    ids = [c.id for c in story]
    assert await session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.child_id.in_(ids))) == 0
    marks = (await session.scalars(select(AttendanceMark).where(AttendanceMark.child_id.in_(ids)))).all()
    assert {m.mark for m in marks} == {"ABSENT"}
    assert len(marks) == 10 * len(story)
    registers = {(r.school_code, r.grade) for r in (await session.scalars(select(ClassRegister))).all()}
    assert {(c.school_code, c.grade) for c in story} == registers

    token = await token_for(client, f"edu-county-{WUDING}")
    rules = """mutation { runLedgerRules(input: {asOf: "2026-03-13"}) {
      opened { ledger source openedOn student { name } } escalated { id } returned { id } errors { code } } }"""
    result = (await gql(client, rules, token=token))["data"]["runLedgerRules"]
    assert result["errors"] == []
    assert result["escalated"] == []
    assert result["returned"] == []
    assert sorted(e["student"]["name"] for e in result["opened"]) == sorted(ABSENCE_STORY_NAMES)
    assert {(e["ledger"], e["source"], e["openedOn"]) for e in result["opened"]} == {
        ("SUSPECTED", "ATTENDANCE", "2026-03-09")
    }


def test_the_generator_is_deterministic():
    first, second = demo_data(), demo_data()
    assert first == second
    assert first.children[0]["national_id"] == second.children[0]["national_id"]


async def test_the_database_holds_what_the_generator_makes(session):
    data = demo_data()
    stored = (await session.scalars(select(Child.national_id).order_by(Child.id))).all()
    assert list(stored) == [c["national_id"] for c in data.children]
    assert await session.scalar(select(func.count()).select_from(LedgerEntry)) == len(data.entries)
    assert await session.scalar(select(func.count()).select_from(PersuasionVisit)) == len(data.visits)
