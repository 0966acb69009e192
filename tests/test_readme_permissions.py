"""The README's table of who may do what is authz/policy.csv, as `baoxue export-schema` writes it (issue 14 §7)."""

from __future__ import annotations

from pathlib import Path

from authz.policy_table import README_BEGIN, README_END, permissions_markdown, role_permissions

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_permission_table_is_policy_csv():
    text = README.read_text(encoding="utf-8")
    start, end = text.find(README_BEGIN), text.find(README_END)
    assert 0 <= start < end, "the README lost its permission markers"
    assert text[start : end + len(README_END)] == permissions_markdown(), "run `uv run baoxue export-schema`"


def test_the_table_says_who_reads_ledgers_on_the_government_line():
    """Issue 14 §7: the city and province bureaus read ledger entries on the government line too, and the
    deferral is proposed by the county bureau and approved by the county government (seed 001 二2)."""
    roles = role_permissions()
    for role in ("CITY_EDU", "PROVINCE_EDU"):
        assert roles[role]["LEDGER:READ"] == ["edu", "gov"]
        assert f"| `{role}` |" in README.read_text(encoding="utf-8")
    assert "LEDGER:APPROVE_DEFERRAL" not in roles["COUNTY_EDU"]
    assert roles["COUNTY_EDU"]["LEDGER:PROPOSE_DEFERRAL"] == ["edu", "gov"]
    assert roles["COUNTY_GOV"]["LEDGER:APPROVE_DEFERRAL"] == ["gov"]
    assert {role for role, perms in roles.items() if "VISIT:ORDER" in perms} == {"COUNTY_EDU", "TOWNSHIP"}
