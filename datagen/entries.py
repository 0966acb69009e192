"""A ledger entry as the demo and the synthetic loader write it with COPY.

What it takes from the child is the application's own rule (`models.ledger.from_child`, which the use cases
call too); here only what a generator adds: who opened it, and the blanks of a case still open.
"""

from __future__ import annotations

from typing import Any

# What an entry that is still open has not got yet.
OPEN_CASE_BLANKS: dict[str, None] = {
    "handover_path": None,
    "last_visit_on": None,
    "returned_on": None,
    "placement": None,
    "placement_school_code": None,
    "placement_note": None,
    "placed_on": None,
    "closed_at": None,
    "closed_by": None,
    "close_reason": None,
    "close_note": None,
}


def opener(source: str, *, school_code: str | None, village_code: str, responsible_path: str) -> str:
    """The demo account that opens an entry from this source: the school's staff for attendance, the village
    for door-to-door findings, the school for a manual entry, else the county's education bureau."""
    if source == "ATTENDANCE" and school_code:
        return f"staff-school-{school_code}"
    if source == "DOOR_TO_DOOR":
        return f"gov-village-{village_code}"
    if source == "MANUAL" and school_code:
        return f"edu-school-{school_code}"
    return f"edu-county-{responsible_path[-6:]}"


def open_entry(
    copied: dict[str, Any], ledger: str, source: str, *, opened_at: Any, updated_at: Any, village_code: str
) -> dict[str, Any]:
    """An open entry's columns: `copied` from the child (`models.ledger.from_child`), opened from `source`."""
    return {
        "ledger": ledger,
        "status": "OPEN",
        "source": source,
        "category": None,
        "opened_at": opened_at,
        "opened_by": opener(
            source,
            school_code=copied["school_code"],
            village_code=village_code,
            responsible_path=copied["responsible_path"],
        ),
        "note": None,
        "is_relapse": False,
        **copied,
        **OPEN_CASE_BLANKS,
        "updated_at": updated_at,
        "version": 1,
    }
