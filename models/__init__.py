"""SQLModel tables and the domain rules that need nothing but the data.

Importing this package registers every table on `SQLModel.metadata` (Alembic reads it).
"""

from .account import Account, ApiToken, LoginThrottle
from .attendance import AttendanceMark, ClassRegister
from .audit import AuditLog
from .budget import ExportAllowance, ExportRowsSpent, QueryBudgetWindow
from .change_feed import ChangeEvent, ChangeFeedScope, ChangeFeedState
from .child import Child, Gender, Guardian, SpecialGroup
from .child_counts import ChildCohortCount, ChildPathCount
from .comparison import ComparisonFinding, ComparisonRun
from .enrolment import EnrolmentEvent
from .entry_counts import LedgerEntryPathCount
from .grant import RoleGrant
from .ledger import Handover, LedgerEntry
from .ledger_counts import LedgerCount
from .period_statistics import PeriodStatistic
from .persisted_operation import PersistedOperation
from .persuasion import CasePlan, DeferralRequest, PersuasionVisit
from .platform_upload import PlatformBatch, PlatformBatchLine, PlatformChange
from .province import CitySetting, ProvinceSetting
from .region import Region, RegionLevel
from .report import (
    Report,
    ReportAssessment,
    ReportChild,
    ReportFigure,
    ReportFinding,
    ReportRevision,
    ReportSource,
    ReportVerdict,
)
from .roster_import import RosterImport, RosterRow
from .school import School, SchoolKind, SchoolStage
from .school_calendar import SchoolCalendar, SchoolCalendarDay, SchoolTerm
from .term_start import ReportUnreported, UnreportedExplanation, UnreportedVisit
from .term_visit import TermVisit
from .transition import ExamRegistrationExplanation
from .verification import VerificationTask

__all__ = [
    "Account",
    "ApiToken",
    "AttendanceMark",
    "AuditLog",
    "CasePlan",
    "ChangeEvent",
    "ChangeFeedScope",
    "ChangeFeedState",
    "Child",
    "ChildCohortCount",
    "ChildPathCount",
    "CitySetting",
    "ClassRegister",
    "ComparisonFinding",
    "ComparisonRun",
    "DeferralRequest",
    "EnrolmentEvent",
    "ExamRegistrationExplanation",
    "ExportAllowance",
    "ExportRowsSpent",
    "Gender",
    "Guardian",
    "Handover",
    "LedgerCount",
    "LedgerEntry",
    "LedgerEntryPathCount",
    "LoginThrottle",
    "PeriodStatistic",
    "PersistedOperation",
    "PersuasionVisit",
    "PlatformBatch",
    "PlatformBatchLine",
    "PlatformChange",
    "ProvinceSetting",
    "QueryBudgetWindow",
    "Region",
    "RegionLevel",
    "Report",
    "ReportAssessment",
    "ReportChild",
    "ReportFigure",
    "ReportFinding",
    "ReportRevision",
    "ReportSource",
    "ReportUnreported",
    "ReportVerdict",
    "RoleGrant",
    "RosterImport",
    "RosterRow",
    "School",
    "SchoolCalendar",
    "SchoolCalendarDay",
    "SchoolKind",
    "SchoolStage",
    "SchoolTerm",
    "SpecialGroup",
    "TermVisit",
    "UnreportedExplanation",
    "UnreportedVisit",
    "VerificationTask",
]
