"""SQLModel tables and the domain rules that need nothing but the data.

Importing this package registers every table on `SQLModel.metadata` (Alembic reads it).
"""

from .account import Account, ApiToken, LoginThrottle
from .audit import AuditEvent
from .region import Region, RegionLevel
from .school import School, SchoolKind, SchoolStage

__all__ = [
    "Account",
    "ApiToken",
    "AuditEvent",
    "LoginThrottle",
    "Region",
    "RegionLevel",
    "School",
    "SchoolKind",
    "SchoolStage",
]
