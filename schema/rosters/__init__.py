"""Rosters (四查): batches imported with their provenance. Uploading is `POST /rosters` (bulk data goes
over HTTP, not through field resolution: ARCHITECTURE §7); the schema reads what was imported.

The domain's root fields: `schema/root.py` merges every domain's `Query` and `Mutation`."""

from __future__ import annotations

import strawberry

from ..connection import Connection
from . import types as roster_types


@strawberry.type
class Query:
    roster_imports: Connection[roster_types.RosterImport] = strawberry.field(
        resolver=roster_types.roster_imports,
        description="名册导入批次（四查）/ roster batches of my jurisdiction (ROSTER:READ), oldest first: provenance "
        "and counts, no personal data.",
    )


@strawberry.type
class Mutation:
    apply_roster_import: roster_types.RosterImportPayload = strawberry.mutation(
        resolver=roster_types.apply_roster_import,
        description="应用导入批次 / apply a staged batch: its rows become evidence for the comparisons, and each "
        "row no known child fits is registered as a child. Refused while a candidate match awaits a decision.",
    )
    resolve_roster_match: roster_types.RosterImportPayload = strawberry.mutation(
        resolver=roster_types.resolve_roster_match,
        description="确认或否定疑似对应 / confirm or reject candidate matches of a staged batch (one or many, all "
        "or none): nothing is merged on a guess.",
    )
    discard_roster_import: roster_types.RosterImportPayload = strawberry.mutation(
        resolver=roster_types.discard_roster_import,
        description="放弃导入批次 / discard a staged batch with the reason (kept, marked DISCARDED; the same file "
        "may then be imported again).",
    )
