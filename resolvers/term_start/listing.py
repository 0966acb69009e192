"""The unreported list (未报到名单, POLICY 002 一(三)): 每学期开学后15天内，对未报到的学生登记造册并逐一核实原因.

The list is computed from the data on every read (models/repos/term_start.py), so it needs no job: a pupil
recorded present later in the window leaves it, one recorded absent enters it. While the window is still
open the list is provisional (`windowClosed: false`); once it has closed it changes only when attendance
of the window is corrected. The reasons the school finds are kept (`unreported_explanation`).

Scoped like the ledgers (LEDGER:READ): the education line by the school that lists the pupil (the school
of the previous term's end), the government line by the pupil's household or residence.
"""

from __future__ import annotations

from dataclasses import dataclass

from authz.errors import Forbidden
from models.base import today
from models.reporting_calendar import Cadence, TermStartWindow, parse_period, term_start_window
from models.repos import term_start as term_repo
from models.repos.paging import Page
from models.term_start import UnreportedReason

from ..context import Context
from ..errors import BadInput
from ..geography.regions import filter_region_path, filter_school_path
from ..paging import decode_id_cursor, page_size
from ..reports.common import rules_for
from .errors import TermStartErrorCode

LEDGER = "LEDGER"


def bad_term(field: str = "term") -> BadInput:
    return BadInput(field, TermStartErrorCode.BAD_TERM)


def parse_term(term: str, field: str = "term") -> tuple[int, str]:
    """(year, half) of a term code `2026-AUTUMN`; BAD_TERM otherwise."""
    if parse_period(Cadence.TERM_START, term) is None:
        raise bad_term(field)
    year, half = term.split("-")
    return int(year), half


async def window_of(ctx: Context, province_code: str, term: str) -> TermStartWindow:
    """The province's window for the term: its school calendar's term, else its settings' term start."""
    year, half = parse_term(term)
    return term_start_window(year, half, await rules_for(ctx, province_code))


async def windows_in_view(ctx: Context, term: str) -> dict[str, TermStartWindow]:
    """The term's window in each province the caller reads ledgers in, where the window has begun."""
    parse_term(term, "filter.term")
    granted = ctx.access().all_granted_paths(LEDGER, "READ")
    if "" in granted:
        provinces = await term_repo.province_codes(ctx.session)
    else:
        provinces = sorted({p[:2] for p in granted})
    windows = {p: await window_of(ctx, p, term) for p in provinces}
    return {p: w for p, w in windows.items() if w.first_day <= today()}


def scope_of(ctx: Context, listed: object) -> object:
    c = listed.c  # type: ignore[attr-defined]
    return ctx.access().list_scope(
        LEDGER, "READ", {"EDU": [c.school_path], "GOV": [c.household_path, c.residence_path]}
    )


@dataclass(frozen=True)
class ListFilter:
    term: str
    school_code: str | None = None
    region_code: str | None = None
    explained: bool | None = None
    reason: UnreportedReason | None = None


async def list_unreported(
    ctx: Context, f: ListFilter, *, first: int | None, after: str | None
) -> Page[term_repo.UnreportedRow]:
    """A page of the unreported list in the caller's scope (`unreportedPupils`)."""
    if not ctx.access().holds_anywhere(LEDGER, "READ"):
        raise Forbidden()  # a role that may not read the list at all: not an empty list (Access.list_scope)
    limit = page_size(first)
    cursor = decode_id_cursor(after)
    windows = await windows_in_view(ctx, f.term)
    if not windows:
        return Page(rows=[], has_next=False, total=0)
    wanted = term_repo.UnreportedFilter(
        school_path=await filter_school_path(ctx, f.school_code),
        region_path=await filter_region_path(ctx, f.region_code),
    )
    listed = term_repo.listed_subquery(windows, today(), school_code=f.school_code)
    where = [scope_of(ctx, listed), *term_repo.filter_conditions(listed, wanted)]
    return await term_repo.list_unreported(
        ctx.session,
        listed,
        f.term,
        where=where,  # type: ignore[arg-type]
        explained=f.explained,
        reason=f.reason,
        after=int(cursor) if cursor is not None else None,
        limit=limit,
    )


async def listed_row(ctx: Context, child_id: int, province_code: str, term: str) -> term_repo.UnreportedRow | None:
    """The pupil's row on the term's list, if listed (whoever asks: the caller's scope is checked after)."""
    window = await window_of(ctx, province_code, term)
    if window.first_day > today():
        return None
    listed = term_repo.listed_subquery({province_code: window}, today(), child_id=child_id)
    page = await term_repo.list_unreported(
        ctx.session,
        listed,
        term,
        where=term_repo.filter_conditions(listed, term_repo.UnreportedFilter(child_ids=(child_id,))),
        explained=None,
        reason=None,
        after=None,
        limit=1,
    )
    return page.rows[0] if page.rows else None
