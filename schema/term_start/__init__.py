"""Term-start reporting (开学报到, POLICY 002 一(三)): the root fields are in `fields.py`."""

from __future__ import annotations

from models.term_start import UNREPORTED_REASON_LABELS, UnreportedReason

from ..enums import described

described(UnreportedReason, UNREPORTED_REASON_LABELS, "未报到原因（002 一(三)）/ why a pupil has not reported")
