"""What the README says of the demo and the schema is what a newcomer finds (issue 17 §7): the accounts it names
exist with its roles and names, and the connections it lists are the schema's, with the page size it gives."""

from __future__ import annotations

import re
from pathlib import Path

from datagen.demo.seed import demo_accounts
from resolvers.paging import page_size
from schema.root import build_schema

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
ACCOUNTS = {account.username: account for account in demo_accounts()}
ACCOUNT_NAME = re.compile(
    r"\b(?:edu|staff|gov|admin|integrator|supervisor)-(?:nation|province|city|county|township|village|school)-[0-9A-Z]+\b"
)


def _section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end > 0 else None]


def test_every_account_the_readme_names_is_a_demo_account():
    """Except the synthetic provinces' (41, 42, …), which `seed synthetic` makes, not the demo."""
    for line in README.splitlines():
        if "seed synthetic" in line:
            continue
        for name in ACCOUNT_NAME.findall(line):
            assert name in ACCOUNTS, f"README names {name}, which the demo does not have: {line[:120]}"


def test_a_name_given_beside_an_account_is_how_the_demo_shows_it():
    """`edu-county-532329` (武定县) or (武定县教育局): the display name, or the place it begins with."""
    named = re.findall(r"`([a-z]+-[a-z]+-[0-9A-Z]+)` \(([^)]*[\u4e00-\u9fff][^)]*)\)", README)
    assert len(named) >= 5
    for username, shown in named:
        assert ACCOUNTS[username].display_name.startswith(shown), (username, shown, ACCOUNTS[username].display_name)


def test_the_demo_accounts_table_gives_each_example_its_role():
    rows = [line for line in _section("Demo accounts").splitlines() if line.startswith("| `")]
    assert len(rows) >= 10
    for row in rows:
        pattern, role_cell, example_cell = (cell.strip() for cell in row.strip("|").split("|"))
        roles = re.findall(r"`([A-Z_]+)`", role_cell)
        prefix = pattern.strip("`").split("<")[0]
        for example in re.findall(r"`([^`]+)`", example_cell):
            account = ACCOUNTS[example]
            assert example.startswith(prefix), (example, pattern)
            if "…" not in role_cell:  # `PROVINCE_GOV` … `VILLAGE`: a range, not a list
                assert account.role.value in roles, (example, account.role.value, role_cell)


def test_the_connections_the_readme_lists_are_root_fields_with_first_and_a_page_of_20():
    schema = build_schema(production=False)
    query = schema._schema.query_type
    assert query is not None
    sentence = next(line for line in README.splitlines() if "are Relay cursor connections" in line)
    listed = re.findall(r"`([a-zA-Z]+)`", sentence.split(" are Relay")[0])
    assert listed == ["regions", "schools", "students"]
    for name in listed:
        field = query.fields[name]
        assert {"filter", "first", "after"} <= set(field.args), name
        assert field.args["first"].default_value is None, "the README explains a default of null"
    assert "left out or `null`, a page holds 20" in sentence
    assert page_size(None) == 20
