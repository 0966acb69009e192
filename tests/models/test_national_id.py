"""The national ID check (models/child.national_id_problem) asks python-stdnum's birth-place database once per
region prefix and birth year; what it remembers never turns a refusal into an acceptance."""

from __future__ import annotations

from datetime import date

import pytest
from stdnum.cn import ric

from datagen.synthetic.people import check_digit
from models import child
from models.child import national_id_problem


def number(prefix: str, born: date, order: str = "001") -> str:
    body = f"{prefix}{born:%Y%m%d}{order}"
    return body + check_digit(body)


@pytest.fixture(autouse=True)
def empty_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(child, "_BIRTH_PLACES", {})


def code(nid: str, born: date) -> str | None:
    problem = national_id_problem(nid, born)
    return problem[0] if problem else None


def test_an_unknown_county_is_refused_after_a_known_one_of_the_same_province_was_remembered() -> None:
    born = date(2015, 3, 1)
    assert code(number("410102", born), born) is None  # 中原区, 郑州市, 河南省
    assert code(number("410199", born), born) == "INVALID_NATIONAL_ID"
    assert code(number("419999", born), born) == "INVALID_NATIONAL_ID"  # stdnum itself raises KeyError here
    assert code(number("410102", born, "003"), born) is None
    assert child._BIRTH_PLACES == {("410102", 2015): True, ("410199", 2015): False, ("419999", 2015): False}


def test_a_county_is_remembered_by_birth_year_as_stdnum_dates_it() -> None:
    # 中原区 has existed since 1983: a child born there in 2015 may have its number, one born in 1980 not.
    assert code(number("410102", date(2015, 3, 1)), date(2015, 3, 1)) is None
    assert code(number("410102", date(1980, 1, 1)), date(1980, 1, 1)) == "INVALID_NATIONAL_ID"
    assert not ric.is_valid(number("410102", date(1980, 1, 1)))


def test_the_answers_agree_with_stdnums_own_validation_remembered_or_not() -> None:
    cases = [
        number("532329", date(2016, 4, 6)),
        number("532329", date(2016, 4, 6))[:17] + "0",
        "53232920160230001" + check_digit("53232920160230001"),  # no 30 February
        number("999999", date(2016, 4, 6)),
        number("110101", date(2012, 12, 12), "998"),
        "53232920150301001",
        "5323292015030100１2",
        "53232920160406001x",
    ]
    for _ in range(2):  # the second time from what was remembered
        for nid in cases:
            assert (code(nid, ric.get_birth_date(nid) if ric.is_valid(nid) else date.min) is None) == ric.is_valid(nid)


def test_past_its_bound_the_memory_stops_growing_and_the_answers_stay_right(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(child, "BIRTH_PLACES_CACHED", 1)
    born = date(2015, 3, 1)
    assert code(number("410102", born), born) is None
    assert code(number("410199", born), born) == "INVALID_NATIONAL_ID"
    assert code(number("410103", born), born) is None
    assert len(child._BIRTH_PLACES) == 1
