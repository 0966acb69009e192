"""Report files (issue 6 item 9): `Report.downloadUrl` and GET /reports/{id}/download give Guyuan's Table 1
and Table 2 (POLICY 003 annexes 1–2) as an Excel workbook or a CSV file, with what the API shows, to the
readers of the report only, and every download is audited."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit
from zoneinfo import ZoneInfo

import httpx
from openpyxl import load_workbook

from models.base import utcnow
from resolvers.reports.export import ReportFileFormat
from resolvers.reports.links import LinkSigner
from tests.conftest import TEST_SECRET, gql, token_for
from tests.ledger_support import WUDING, gid, make_student, open_entry, raw_id
from tests.report_support import (
    COUNTY_EDU,
    MINISTRY,
    NEIGHBOUR_EDU,
    NOTE,
    PRINCIPAL,
    STAFF,
    confirm_all,
    draft_county,
    draft_school,
    review,
    submitted_march,
)

ROW = """seq name gender nationalId registryNumber homeAddress povertyRegistered reason schoolAfterReturn closedOut
  remarks note"""
READ = f"""query($id: ID!, $f: ReportFileFormat!) {{ report(id: $id) {{ id unitCode unitName period periodStart
  periodEnd status submittedAt current {{ asOf }} downloadUrl(format: $f)
  table1 {{ stage shouldAttend onLeave suspected dropouts byCategory {{ category count }} }}
  dropouts {{ {ROW} }} }} }}"""
AUDIT = """query($f: AuditFilter) { auditLog(filter: $f, first: 100) { edges { node { actor action targetId } } } }"""

# POLICY 003, annex 1 and annex 2: the tables' header lines exactly as the policy prints them (tab-separated).
ANNEX1_HEADER = [
    "学段\t应到校人数\t请假未到校人数\t疑似辍学人数\t辍学人数\t其中：辍学学生分类" + "\t" * 19,
    "\t" * 5 + "\t".join("ABCDEFGHIJKLMNOPQRST"),
]
ANNEX2_HEADER = ["序号\t姓名\t性别\t身份证号\t学籍号\t家庭住址\t是否建档立卡\t辍学原因\t劝返后就读学校\t是否销账\t备注"]
STAGES = {"PRIMARY": "小学", "JUNIOR": "初中", "TOTAL": "合计"}
WITHHELD = "本账号无权查看辍学学生名单（需台账查看权限）/ the dropout list is not available to this account"
SEED_003 = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def _headers(lines: list[str]) -> list[list[str]]:
    return [line.split("\t") for line in lines]


def test_the_header_lines_are_seed_003s():
    """POLICY 003 annexes 1–2: the header lines above are copied from the policy text (when it is at hand)."""
    seeds = sorted(SEED_003.glob("003_*.txt"))
    if not seeds:
        return  # a clone without shared/: the copies above stand for the text
    text = seeds[0].read_text().splitlines()
    for line in [*ANNEX1_HEADER, *ANNEX2_HEADER]:
        assert line in text


async def _read(client: httpx.AsyncClient, token: str, report_id: str, fmt: str = "XLSX") -> dict[str, Any]:
    result = await gql(client, READ, {"id": report_id, "f": fmt}, token)
    assert not result.get("errors"), result
    return result["data"]["report"]  # type: ignore[no-any-return]


def _table1_from_api(report: dict[str, Any]) -> list[list[Any]]:
    return [
        [STAGES[r["stage"]], r["shouldAttend"], r["onLeave"], r["suspected"], r["dropouts"]]
        + [c["count"] for c in sorted(r["byCategory"], key=lambda c: c["category"])]
        for r in report["table1"]
    ]


def _table2_from_api(report: dict[str, Any]) -> list[list[Any]]:
    return [
        [
            r["seq"],
            r["name"],
            {"MALE": "男", "FEMALE": "女"}[r["gender"]],
            r["nationalId"] or "",
            r["registryNumber"] or "",
            r["homeAddress"],
            "是" if r["povertyRegistered"] else "否",
            r["reason"] or "",
            r["schoolAfterReturn"] or "",
            "是" if r["closedOut"] else "否",
            "；".join(x for x in (r["remarks"], r["note"]) if x),
        ]
        for r in report["dropouts"]
    ]


def _facts(report: dict[str, Any], filed: str) -> list[str]:
    return [
        f"填报单位：{report['unitName']}（{report['unitCode']}）",
        f"报告期：{report['period']}（{report['periodStart']} 至 {report['periodEnd']}）",
        f"数据截至：{report['current']['asOf']}",
        f"填报日期：{filed}",
    ]


def _filed(report: dict[str, Any]) -> str:
    at = report["submittedAt"]
    return datetime.fromisoformat(at).astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat() if at else "草稿 / draft"


def _cells(row: tuple[Any, ...]) -> list[Any]:
    return ["" if v is None else v for v in row]


def _xlsx(content: bytes) -> dict[str, Any]:
    """The workbook as a reader sees it: per sheet its title, facts line, header rows and body rows."""
    book = load_workbook(io.BytesIO(content))
    out: dict[str, Any] = {"sheets": book.sheetnames}
    for key, sheet in zip(("table1", "table2"), book.worksheets, strict=True):
        rows = [_cells(r) for r in sheet.iter_rows(values_only=True)]
        size = 2 if key == "table1" else 1
        out[key] = {"title": rows[0][0], "facts": rows[1][0], "header": rows[2 : 2 + size], "body": rows[2 + size :]}
    return out


def _csv(content: bytes) -> dict[str, Any]:
    """The CSV file: Table 1, a blank line, Table 2's heading line and Table 2; numbers as text."""
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel shows the Chinese
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    blank = rows.index([])
    first, second = rows[:blank], rows[blank + 1 :]
    return {
        "table1": {"title": first[0][0], "facts": first[1][0], "header": first[2:4], "body": first[4:]},
        "table2": {"title": second[0][0], "header": second[1:2], "body": second[2:]},
    }


def _numbers(rows: list[list[Any]]) -> list[list[Any]]:
    return [[int(v) if isinstance(v, str) and v.isdigit() else v for v in row] for row in rows]


async def _get(client: httpx.AsyncClient, url: str, token: str | None = None) -> httpx.Response:
    return await client.get(url, headers={"Authorization": f"Bearer {token}"} if token else {})


async def _report_with_cases(client: httpx.AsyncClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """The Wuding school's March drafted with a new dropout (poverty-registered, category G) and a new
    suspected child; the report and the dropout."""
    staff, county = await token_for(client, STAFF), await token_for(client, COUNTY_EDU)
    dropout = await make_student(client, county, enrolledOn="2025-09-01", special_groups=["POVERTY_REGISTERED"])
    suspected = await make_student(client, county, enrolledOn="2025-09-01")
    opened = await open_entry(client, staff, dropout["id"], ledger="DROPOUT", opened_on=date(2026, 3, 2), category="G")
    assert opened["errors"] == []
    assert (await open_entry(client, staff, suspected["id"], opened_on=date(2026, 3, 20)))["errors"] == []
    drafted = await draft_school(client, staff)
    assert drafted["errors"] == []
    return drafted["report"], dropout


async def test_the_school_workbook_shows_what_the_api_shows(client):
    """POLICY 003 annexes 1–2: Table 1 (小学, 初中, 合计; 应到校人数 … 辍学人数, then A–T) and Table 2 with the
    annex's columns, every number and row as `Report.table1` and `Report.dropouts` give them, the IDs masked."""
    draft, _ = await _report_with_cases(client)
    staff, principal = await token_for(client, STAFF), await token_for(client, PRINCIPAL)
    report = await submitted_march(client, staff, principal, version=draft["version"])
    county = await token_for(client, COUNTY_EDU)
    seen = await _read(client, county, report["id"])
    assert seen["dropouts"], "the case opened above is listed"

    response = await client.get(seen["downloadUrl"])  # the signed link: no bearer header, as a browser opens it

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="report_2153000036_2026-03.xlsx"')
    assert f"filename*=UTF-8''{quote(seen['unitName'] + '_2153000036_2026-03_控辍保学报表.xlsx')}" in disposition
    book = _xlsx(response.content)
    assert book["sheets"] == ["表1 摸底排查统计", "表2 辍学学生信息"]
    t1, t2 = book["table1"], book["table2"]
    assert t1["title"] == f"{seen['unitName']}义务教育控辍保学摸底排查统计报表"
    assert t2["title"] == f"{seen['unitName']}义务教育控辍保学辍学学生信息统计报表"
    assert t1["facts"].split("　　") == [*_facts(seen, _filed(seen)), "状态：已报送 / submitted"]
    assert t1["header"] == _headers(ANNEX1_HEADER)
    assert t2["header"] == _headers(ANNEX2_HEADER)
    assert t1["body"] == _table1_from_api(seen)
    assert t2["body"] == _table2_from_api(seen)
    masked = [row[3] for row in t2["body"]]
    assert all(re.fullmatch(r"\d{6}\*{8}[\dX]{4}", m) for m in masked)
    assert any(row[6] == "是" and row[7] == "G" for row in t2["body"])


async def test_the_csv_file_shows_what_the_api_shows(client):
    """The same tables in one CSV file (UTF-8 with BOM), with a bearer token instead of a signed link; a draft
    says so on its 填报日期, and a note that looks like a formula is kept as text."""
    drafted, dropout = await _report_with_cases(client)
    staff = await token_for(client, STAFF)
    note = {"reportId": drafted["id"], "studentId": dropout["id"], "note": "=1+1 核实中", "version": drafted["version"]}
    assert (await gql(client, NOTE, {"input": note}, staff))["data"]["setReportNote"]["errors"] == []
    seen = await _read(client, staff, drafted["id"], "CSV")

    response = await _get(client, f"/reports/{drafted['id']}/download?format=csv", staff)  # the global ID

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="report_2153000036_2026-03.csv"' in response.headers["content-disposition"]
    tables = _csv(response.content)
    t1, t2 = tables["table1"], tables["table2"]
    assert t1["title"] == f"{seen['unitName']}义务教育控辍保学摸底排查统计报表"
    assert t1["facts"].split("　　") == [*_facts(seen, "草稿 / draft"), "状态：草稿 / draft"]
    assert t1["header"] == _headers(ANNEX1_HEADER)
    assert _numbers(t1["body"]) == _table1_from_api(seen)
    assert t2["title"] == f"{seen['unitName']}义务教育控辍保学辍学学生信息统计报表"
    assert t2["header"] == _headers(ANNEX2_HEADER)
    expected = _table2_from_api(seen)
    noted = next(row for row in expected if row[1] == dropout["name"])
    assert noted[-1] == "=1+1 核实中"
    noted[-1] = "'=1+1 核实中"  # a spreadsheet must not run it: it stays text
    assert _numbers(t2["body"]) == expected
    workbook = await _get(client, f"/reports/{drafted['id']}/download?format=xlsx", staff)
    cells = [c for row in load_workbook(io.BytesIO(workbook.content)).worksheets[1].iter_rows() for c in row]
    assert [c.data_type for c in cells if c.value == "=1+1 核实中"] == ["s"]  # text in the workbook too


async def test_the_county_quarter_file_holds_the_county_tables(client):
    """POLICY 004 §5: the county's quarter downloads like a school's month, with its own unit, period and rows."""
    draft, _ = await _report_with_cases(client)
    staff, principal = await token_for(client, STAFF), await token_for(client, PRINCIPAL)
    county = await token_for(client, COUNTY_EDU)
    month = await submitted_march(client, staff, principal, version=draft["version"])
    assert (await review(client, county, month, "APPROVE", verdicts=confirm_all(month)))["errors"] == []
    quarter = await draft_county(client, county)
    assert quarter["errors"] == []
    seen = await _read(client, county, quarter["report"]["id"])
    assert seen["dropouts"]

    workbook = await client.get(seen["downloadUrl"])
    text = await _get(client, f"/reports/{raw_id(seen['id'])}/download?format=csv", county)

    assert workbook.status_code == text.status_code == 200
    assert f'filename="report_{WUDING}_2026-Q1.xlsx"' in workbook.headers["content-disposition"]
    book, tables = _xlsx(workbook.content), _csv(text.content)
    assert book["table1"]["title"] == "武定县义务教育控辍保学摸底排查统计报表"
    assert book["table1"]["facts"].split("　　")[:4] == _facts(seen, "草稿 / draft")
    assert "报告期：2026-Q1（2026-01-01 至 2026-03-31）" in book["table1"]["facts"]
    assert book["table1"]["body"] == _numbers(tables["table1"]["body"]) == _table1_from_api(seen)
    assert book["table2"]["body"] == _numbers(tables["table2"]["body"]) == _table2_from_api(seen)


async def test_the_ministry_file_has_table1_and_no_children(client):
    """Issue 6 §5: the ministry reads figures, not children: Table 2 has its header and one line saying the
    list is not available to this account, in both formats."""
    draft, _ = await _report_with_cases(client)
    staff, principal = await token_for(client, STAFF), await token_for(client, PRINCIPAL)
    report = await submitted_march(client, staff, principal, version=draft["version"])
    ministry = await token_for(client, MINISTRY)
    seen = await _read(client, ministry, report["id"])
    assert seen["dropouts"] is None

    book = _xlsx((await client.get(seen["downloadUrl"])).content)
    tables = _csv((await _get(client, f"/reports/{report['id']}/download?format=csv", ministry)).content)

    assert book["table1"]["body"] == _numbers(tables["table1"]["body"]) == _table1_from_api(seen)
    for table2 in (book["table2"], tables["table2"]):
        assert table2["header"] == _headers(ANNEX2_HEADER)
        assert [[v for v in row if v != ""] for row in table2["body"]] == [[WITHHELD]]


async def test_the_neighbouring_county_gets_not_found(client):
    """Issue 6 §5: a county sees only its own jurisdiction: Yuanmou's bureau gets 404 for Wuding's report, with
    its own token, by number or global ID, exactly as for a report that does not exist."""
    report = await submitted_march(client, await token_for(client, STAFF), await token_for(client, PRINCIPAL))
    neighbour = await token_for(client, NEIGHBOUR_EDU)
    for path in (report["id"], raw_id(report["id"]), gid("Report", 999999999), "nonsense"):
        response = await _get(client, f"/reports/{path}/download", neighbour)
        assert response.status_code == 404
        assert response.json() == {"error": "not_found", "message": "没有这份报告 / no such report"}


async def test_a_signed_link_opens_only_as_it_was_signed(client):
    """A link is the signer's for ten minutes: another user, report or format in it is refused (403), an
    expired one asks for a new link (401), and a link validly signed for the neighbouring county still finds
    nothing (404): grants are checked again when it is opened."""
    report = await submitted_march(client, await token_for(client, STAFF), await token_for(client, PRINCIPAL))
    county = await token_for(client, COUNTY_EDU)
    url = (await _read(client, county, report["id"]))["downloadUrl"]
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    number = raw_id(report["id"])
    assert parts.path == f"/reports/{number}/download"
    assert (query["format"], query["user"]) == ("xlsx", COUNTY_EDU)
    assert 0 < int(query["exp"]) - utcnow().timestamp() <= 600

    def link(path: str = parts.path, **changes: str) -> str:
        q = {**query, **changes}
        return f"{path}?" + "&".join(f"{k}={quote(str(v))}" for k, v in q.items())

    signer = LinkSigner.from_secret(TEST_SECRET)
    past = utcnow() - timedelta(minutes=11)
    expired = urlsplit(signer.link(COUNTY_EDU, number, ReportFileFormat.XLSX, past)).query
    forged = signer.link(NEIGHBOUR_EDU, number, ReportFileFormat.XLSX, utcnow())
    tampered = query["sig"][:-2] + ("BB" if query["sig"].endswith("AA") else "AA")  # never the signature itself
    refusals = {
        link(user=NEIGHBOUR_EDU): 403,
        link(path=f"/reports/{number + 1}/download"): 403,
        link(format="csv"): 403,
        link(sig=tampered): 403,
        link(exp=str(int(query["exp"]) + 3600)): 403,
        f"{parts.path}?{expired}": 401,
        forged: 404,
        parts.path: 401,  # no credential at all
    }
    for url_, status in refusals.items():
        response = await client.get(url_)
        assert response.status_code == status, (url_, response.text)
        assert " / " in response.json()["message"]  # bilingual
    assert (await _get(client, parts.path, "not-a-token")).status_code == 401
    assert (await _get(client, f"{parts.path}?format=pdf", county)).status_code == 400
    assert (await client.get(url)).status_code == 200


async def test_every_download_is_audited(client):
    """ARCHITECTURE §5: each file served writes `report.download` (actor, report) in a committed transaction; a
    refused download writes nothing."""
    report = await submitted_march(client, await token_for(client, STAFF), await token_for(client, PRINCIPAL))
    county, ministry = await token_for(client, COUNTY_EDU), await token_for(client, MINISTRY)
    neighbour = await token_for(client, NEIGHBOUR_EDU)
    assert (await client.get((await _read(client, county, report["id"]))["downloadUrl"])).status_code == 200
    assert (await _get(client, f"/reports/{report['id']}/download?format=csv", ministry)).status_code == 200
    assert (await _get(client, f"/reports/{report['id']}/download", neighbour)).status_code == 404

    supervisor = await token_for(client, f"supervisor-county-{WUDING}")
    rows = (await gql(client, AUDIT, {"f": {"action": "report.download"}}, supervisor))["data"]["auditLog"]["edges"]
    mine = [r["node"]["actor"] for r in rows if r["node"]["targetId"] == str(raw_id(report["id"]))]
    assert sorted(mine) == sorted([COUNTY_EDU, MINISTRY])
