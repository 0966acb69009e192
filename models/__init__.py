"""SQLModel tables and the domain rules that need nothing but the data.

Importing this package registers every table on `SQLModel.metadata` (Alembic reads it).
"""

from .account import Account, ApiToken, LoginThrottle
from .audit import AuditLog
from .child import Child, Gender, Guardian, SpecialGroup
from .grant import RoleGrant
from .region import Region, RegionLevel
from .school import School, SchoolKind, SchoolStage

__all__ = [
    "Account",
    "ApiToken",
    "AuditLog",
    "Child",
    "Gender",
    "Guardian",
    "LoginThrottle",
    "Region",
    "RegionLevel",
    "RoleGrant",
    "School",
    "SchoolKind",
    "SchoolStage",
    "SpecialGroup",
]
