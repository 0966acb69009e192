"""A change's object as the API names it: GraphQL field names, global IDs, personal data masked.

The feed keeps each row as the database stored it at the change (`to_jsonb`); this is the one place that
turns such a row into what a client sees, so a mirror built from the feed and one built from the tables
now (`tests/test_change_feed.py`) compare field for field.
"""

from __future__ import annotations

from typing import Any

from strawberry import relay

from models.change_feed import ChangeType
from models.child import mask_national_id

# Columns that point at another object: the field's name and the referenced type (values become global IDs).
REFERENCES = {
    "child_id": ("studentId", ChangeType.STUDENT),
    "entry_id": ("entryId", ChangeType.LEDGER_ENTRY),
    "escalated_from_id": ("escalatedFromId", ChangeType.LEDGER_ENTRY),
    "previous_entry_id": ("previousEntryId", ChangeType.LEDGER_ENTRY),
}
# Paths are the jurisdiction machinery, not data: the API shows the codes they end in.
AS_CODE = {"from_path": "fromRegionCode", "to_path": "toRegionCode"}
# Personal data on a child, masked (first 6, last 4) unless the caller may read it (CHILD:READ_PII).
PERSONAL = ("national_id", "registry_number")


def global_id(type_name: str, object_id: int | str) -> str:
    return str(relay.GlobalID(type_name, str(object_id)))


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def api_object(type_name: str, row: dict[str, Any], *, personal_data: bool) -> dict[str, Any]:
    """The stored row as the API shows it: `id` a global ID, references global IDs, codes for paths."""
    shown: dict[str, Any] = {"id": global_id(type_name, row["id"])}
    for column, value in row.items():
        if column == "id" or (column.endswith("_path") and column not in AS_CODE):
            continue
        if column in REFERENCES:
            name, target = REFERENCES[column]
            shown[name] = global_id(target, value) if value is not None else None
        elif column in AS_CODE:
            shown[AS_CODE[column]] = value.rsplit("/", 1)[-1] if value else None
        elif type_name == ChangeType.STUDENT and column in PERSONAL and not personal_data:
            shown[camel(column)] = mask_national_id(value)
        else:
            shown[camel(column)] = value
    return shown
