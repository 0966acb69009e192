"""The term-start window of the unreported list (POLICY 002 一(三): 每学期开学后15天内): from the province's
recorded term, else its settings' term start; 15 calendar days unless the province sets another number."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from models.reporting_calendar import DEFAULT_RULES, Cadence, parse_period, term_start_window

RECORDED = replace(
    DEFAULT_RULES,
    recorded_terms=(
        (date(2025, 9, 8), date(2026, 1, 16)),
        (date(2026, 3, 2), date(2026, 7, 3)),
        (date(2026, 9, 7), date(2027, 1, 15)),
    ),
)


@pytest.mark.parametrize(
    ("rules", "year", "half", "previous_end", "first", "last"),
    [
        (DEFAULT_RULES, 2026, "AUTUMN", date(2026, 6, 30), date(2026, 9, 1), date(2026, 9, 15)),
        (DEFAULT_RULES, 2027, "SPRING", date(2026, 12, 31), date(2027, 3, 1), date(2027, 3, 15)),
        (RECORDED, 2026, "AUTUMN", date(2026, 7, 3), date(2026, 9, 7), date(2026, 9, 21)),
        (RECORDED, 2026, "SPRING", date(2026, 1, 16), date(2026, 3, 2), date(2026, 3, 16)),
        (RECORDED, 2027, "SPRING", date(2027, 1, 15), date(2027, 3, 1), date(2027, 3, 15)),  # none recorded yet
        (replace(DEFAULT_RULES, term_start_report_days=5), 2026, "AUTUMN", date(2026, 6, 30), date(2026, 9, 1),
         date(2026, 9, 5)),
        (replace(DEFAULT_RULES, autumn_term_start=(8, 28)), 2026, "AUTUMN", date(2026, 6, 30), date(2026, 8, 28),
         date(2026, 9, 11)),
    ],
)  # fmt: skip
def test_the_window_runs_from_the_term_start(rules, year, half, previous_end, first, last):
    window = term_start_window(year, half, rules)
    assert (window.previous_term_end, window.first_day, window.last_day) == (previous_end, first, last)


def test_the_term_start_report_is_due_five_days_after_the_window():
    period = parse_period(Cadence.TERM_START, "2026-AUTUMN")
    assert period is not None
    assert (period.start, period.end, period.due) == (date(2026, 9, 1), date(2026, 9, 15), date(2026, 9, 20))
    assert parse_period(Cadence.TERM_START, "2026-AUTUMN-OPENING") is None
    assert parse_period(Cadence.TERM_START, "2026-03") is None
