"""POST /rosters through the ASGI app: a county bureau uploads its roster as a staged batch; refusals are
typed JSON naming the field, and nothing is stored for them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from datagen.demo.people import national_id
from models.repos import roster_lookups
from models.roster_import import RosterImport
from resolvers.rosters import imports, staging, xlsx
from tests.conftest import gql, token_for
from tests.roster_support import BIG5_HOUSEHOLD, SHISHAN_SCHOOL, csv_bytes, shared_strings_xlsx

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples" / "rosters"
HOUSEHOLD = EXAMPLES / "532329-household.csv"


def file_field(path: Path | None) -> dict[str, Any] | None:
    return {"file": (path.name, path.read_bytes(), "text/csv")} if path else None


async def upload(
    client: Any, token: str | None, fields: dict[str, str], path: Path | None = HOUSEHOLD, files: Any = None
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await client.post("/rosters", data=fields, files=files or file_field(path), headers=headers)


FIELDS = {"kind": "HOUSEHOLD", "jurisdiction": "532329", "asOf": "2026-11-30"}


async def batches(session: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(RosterImport)) or 0)


async def test_a_county_bureau_uploads_its_household_roster(client: Any, session: Any) -> None:
    response = await upload(client, await token_for(client, "edu-county-532329"), FIELDS)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "STAGED"
    assert body["counts"] == {"read": 165, "valid": 160, "refused": 5, "matched": 159, "new": 1, "outOfScope": 1}
    batch = await session.get(RosterImport, body["number"])
    assert batch is not None
    assert (batch.created_by, batch.file_name) == ("edu-county-532329", "532329-household.csv")
    again = await upload(client, await token_for(client, "gov-county-532329"), FIELDS)
    assert again.status_code == 400
    assert (again.json()["field"], again.json()["code"]) == ("file", "DUPLICATE_FILE")


@pytest.mark.parametrize(
    ("module", "name", "size"), [(roster_lookups, "NEAR_PER_TEXT", 2), (staging, "ROWS_PER_BLOCK", 7)]
)
async def test_a_file_read_in_small_pieces_is_checked_and_matched_as_in_one(
    client: Any, monkeypatch: pytest.MonkeyPatch, module: Any, name: str, size: int
) -> None:
    """Two sizes a test sets small, each read at call time:
    - the county's children are read for matching in several texts (a pooled connection keeps libpq's buffer as
      large as the largest one): in texts of two children, every row matches as with one text;
    - a file is checked a block at a time, each with the villages, schools and birth places learnt so far (the
      checks built again only when a block brings a new one): in blocks of seven rows the demo household
      roster, whose later blocks name villages the first did not, answers as in one block."""
    monkeypatch.setattr(module, name, size)
    response = await upload(client, await token_for(client, "edu-county-532329"), FIELDS)
    assert response.status_code == 201, response.text
    assert response.json()["counts"] == {
        "read": 165, "valid": 160, "refused": 5, "matched": 159, "new": 1, "outOfScope": 1,
    }  # fmt: skip


async def test_the_neighbouring_county_is_refused_and_nothing_is_stored(client: Any, session: Any) -> None:
    before = await batches(session)
    response = await upload(client, await token_for(client, "edu-county-532328"), FIELDS)
    assert response.status_code == 403
    assert "532329" not in response.text
    assert await batches(session) == before


async def test_without_a_token_the_upload_is_unauthenticated(client: Any) -> None:
    response = await upload(client, None, FIELDS)
    assert response.status_code == 401


TWO_FILES = [("file", (HOUSEHOLD.name, HOUSEHOLD.read_bytes(), "text/csv"))] * 2


@pytest.mark.parametrize(
    ("fields", "path", "files", "field", "code"),
    [
        ({**FIELDS, "kind": "CENSUS"}, HOUSEHOLD, None, "kind", "INVALID_KIND"),
        ({**FIELDS, "asOf": "30/11/2026"}, HOUSEHOLD, None, "asOf", "INVALID_DATE"),
        ({k: v for k, v in FIELDS.items() if k != "jurisdiction"}, HOUSEHOLD, None, "jurisdiction", "REQUIRED"),
        (FIELDS, None, None, "file", "REQUIRED"),
        (FIELDS, Path(__file__), None, "file", "UNKNOWN_FORMAT"),
        (FIELDS, None, [("file", ("big5.csv", BIG5_HOUSEHOLD, "text/csv"))], "file", "BAD_ENCODING"),
        ({"note": "x", **FIELDS}, HOUSEHOLD, None, "note", "UNEXPECTED_FIELD"),  # a fifth field, sent first
        ({**FIELDS, "kind": "H" * 1025}, HOUSEHOLD, None, "kind", "TOO_LONG"),
        (FIELDS, None, TWO_FILES, "file", "UNEXPECTED_FIELD"),
        ({**FIELDS, **{f"f{i}": "x" for i in range(9)}}, HOUSEHOLD, None, "f5", "UNEXPECTED_FIELD"),
    ],
)
async def test_bad_fields_are_refused_by_name_in_both_languages(
    client: Any, session: Any, fields: dict[str, str], path: Path | None, files: Any, field: str, code: str
) -> None:
    before = await batches(session)
    response = await upload(client, await token_for(client, "edu-county-532329"), fields, path, files)
    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["field"], body["code"]) == (field, code)
    assert " / " in body["message"]
    assert response.headers["content-type"] == "application/json"
    assert await batches(session) == before


async def test_a_file_over_the_size_limit_is_refused_before_and_while_it_is_read(
    client: Any, session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over MAX_ROSTER_BYTES: refused from its Content-Length, or mid-stream when the body is chunked."""
    monkeypatch.setattr(imports, "MAX_ROSTER_BYTES", 1024)
    big = HOUSEHOLD.read_bytes() * (64 * 1024 // HOUSEHOLD.stat().st_size + 1)  # over the limit and its overhead
    token = await token_for(client, "edu-county-532329")
    headers = {"Authorization": f"Bearer {token}"}
    before = await batches(session)
    declared = await client.post("/rosters", data=FIELDS, files={"file": ("big.csv", big, "text/csv")}, headers=headers)
    body = httpx.Request("POST", "/", data=FIELDS, files={"file": ("big.csv", big, "text/csv")})
    sent = 0

    async def chunked() -> AsyncIterator[bytes]:
        nonlocal sent
        for at in range(0, len(body.read()), 8192):
            sent = at + 8192
            yield body.content[at : at + 8192]

    streamed = await client.post(
        "/rosters", content=chunked(), headers={**headers, "Content-Type": body.headers["Content-Type"]}
    )
    for response in (declared, streamed):
        assert response.status_code == 413, response.text
        assert (response.json()["field"], response.json()["code"]) == ("file", "TOO_LARGE")
        assert "1024" in response.json()["message"]
    assert sent < len(body.content)  # the server stopped reading before the end
    small = HOUSEHOLD.read_bytes()[:1000]  # under the limit: the multipart overhead does not count against it
    response = await client.post("/rosters", data=FIELDS, files={"file": ("s.csv", small, "text/csv")}, headers=headers)
    assert response.status_code == 201, response.text
    assert await batches(session) == before + 1


async def test_an_xlsx_expanding_beyond_the_limit_is_refused_and_stores_nothing(
    client: Any, session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A few KB of zip that expands a hundredfold (resolvers/rosters/xlsx.py) is refused by the part that passes
    the limit, before openpyxl reads it; within the limit the same kind of file stages."""
    monkeypatch.setattr(xlsx, "MAX_EXPANDED_BYTES", 256 << 10)
    token = await token_for(client, "edu-county-532329")
    before = await batches(session)
    bomb = shared_strings_xlsx([["姓名", "公民身份号码", "户籍地区划代码"]], padding=20_000)
    files = {"file": ("bomb.xlsx", bomb, "application/octet-stream")}
    response = await client.post("/rosters", data=FIELDS, files=files, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 413, response.text
    assert (response.json()["field"], response.json()["code"]) == ("file", "TOO_LARGE")
    assert "xl/sharedStrings.xml" in response.json()["message"]
    assert await batches(session) == before
    boy = national_id("532329", date(2016, 4, 6), 9, male=True)
    rows = [["姓名", "公民身份号码", "户籍地区划代码"], ["张小军", boy, "532329101201"]]
    files = {"file": ("ok.xlsx", shared_strings_xlsx(rows), "application/octet-stream")}
    response = await client.post("/rosters", data=FIELDS, files=files, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.text
    assert response.json()["counts"]["valid"] == 1


def _children_rows(count: int) -> list[list[str]]:
    header = ["姓名", "公民身份号码", "户籍地区划代码"]
    return [header] + [
        ["张小军", national_id("532329", date(2016, 4, 6), 400 + n, male=True), "532329101201"] for n in range(count)
    ]


BROKEN_LATE = {
    # Refused after blocks of rows were staged: a cell naming a missing shared string at row 40; a line past the
    # line bound after 30 rows.
    "xlsx": (
        "late.xlsx",
        shared_strings_xlsx(_children_rows(30), sheet_tail='<row r="40"><c r="A40" t="s"><v>999</v></c></row>'),
    ),
    "csv": ("late.csv", csv_bytes(_children_rows(30)) + b"," * (1 << 20) + b"\n"),
}


@pytest.mark.parametrize("fmt", list(BROKEN_LATE))
async def test_a_file_refused_after_rows_were_staged_leaves_nothing(
    client: Any, session: Any, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    """In blocks of four rows, seven blocks are read (the COPY stage trails the reader by a block or two) before
    the reader meets the fault: the answer is 400
    UNKNOWN_FORMAT naming the rule in both languages, and neither the batch nor any of its rows is kept."""
    from models.roster_import import RosterRow

    monkeypatch.setattr(staging, "ROWS_PER_BLOCK", 4)
    rows_before = int(await session.scalar(select(func.count()).select_from(RosterRow)) or 0)
    before = await batches(session)
    name, data = BROKEN_LATE[fmt]
    token = await token_for(client, "edu-county-532329")
    response = await client.post(
        "/rosters", data=FIELDS, files={"file": (name, data, "application/octet-stream")},
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    assert response.status_code == 400, response.text
    assert (response.json()["field"], response.json()["code"]) == ("file", "UNKNOWN_FORMAT")
    assert " / " in response.json()["message"]
    assert await batches(session) == before
    assert int(await session.scalar(select(func.count()).select_from(RosterRow)) or 0) == rows_before


@pytest.mark.parametrize("kind", ["household", "REGISTRY", "in_school", "POVERTY"])
async def test_a_signed_in_account_downloads_the_template_of_each_kind(client: Any, kind: str) -> None:
    token = await token_for(client, "gov-township-532329101")
    response = await client.get(f"/rosters/templates/{kind}.xlsx", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.content[:4] == b"PK\x03\x04"  # an XLSX (zip) workbook
    assert (await client.get(f"/rosters/templates/{kind}.xlsx")).status_code == 401
    unknown = await client.get("/rosters/templates/census.xlsx", headers={"Authorization": f"Bearer {token}"})
    assert (unknown.status_code, unknown.json()["code"]) == (400, "INVALID_KIND")


STATUS_ROWS = """query($id: ID!) { node(id: $id) { ... on RosterImport {
  rows(first: 10) { edges { node { line status registryStatus problems { column code } } } } } } }"""


async def test_a_registry_rosters_status_column_is_read_and_a_status_that_is_none_refused(client: Any) -> None:
    """学籍状态 over HTTP: each row shows the status read (blank: null, read as 在读); a word that is no status
    refuses the row, naming the column. The neighbouring county reads none of the rows."""
    boy, girl, other = (national_id("532329", date(2016, 4, n), n, male=n % 2 == 1) for n in (1, 2, 3))
    rows = [
        ["姓名", "公民身份号码", "学籍号", "学校标识码", "年级", "学籍状态"],
        ["张一", boy, f"G{boy}", SHISHAN_SCHOOL, "3", "休学"],
        ["李二", girl, f"G{girl}", SHISHAN_SCHOOL, "3", ""],
        ["王三", other, f"G{other}", SHISHAN_SCHOOL, "3", "退学"],
    ]
    files = {"file": ("532329-registry.csv", csv_bytes(rows), "text/csv")}
    token = await token_for(client, "edu-county-532329")
    response = await upload(client, token, {**FIELDS, "kind": "REGISTRY"}, files=files)
    assert response.status_code == 201, response.text
    batch = response.json()["id"]
    read = await gql(client, STATUS_ROWS, {"id": batch}, token=token)
    seen = [e["node"] for e in read["data"]["node"]["rows"]["edges"]]
    assert [(r["line"], r["status"], r["registryStatus"]) for r in seen] == [
        (2, "VALID", "SUSPENDED"),
        (3, "VALID", None),
        (4, "REFUSED", None),
    ]
    assert seen[2]["problems"] == [{"column": "学籍状态", "code": "INVALID_REGISTRY_STATUS"}]
    neighbour = await gql(client, STATUS_ROWS, {"id": batch}, token=await token_for(client, "edu-county-532328"))
    assert neighbour["data"]["node"] is None
