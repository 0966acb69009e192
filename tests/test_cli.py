"""The `baoxue` command against a real database of its own (these commands commit)."""

from __future__ import annotations

import io
import signal
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from baoxue.cli import main
from schema.root import schema


@pytest.fixture(autouse=True)
def worker_signal_handlers() -> Iterator[None]:
    """`main(["serve", …])` installs the command's stop handlers (SIGTERM, SIGINT exit at once) in this test
    process: the worker's own are put back after, or a signal at its teardown would exit from inside
    whatever runs then (seen as a SystemExit in a garbage-collector callback)."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.fixture
def cli_db(databases, monkeypatch):
    url = databases.create("cli")
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("BAOXUE_JWT_SECRET", "cli-test-secret-0123456789abcdefghij")
    return url


def _scalar(url: str, sql: str, **params: object) -> object:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        value = conn.execute(text(sql), params).scalar()
    engine.dispose()
    return value


def test_serve_refuses_an_unmigrated_external_database_and_names_the_command(cli_db, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--port", "0"])
    assert exit_info.value.code == 2
    assert "uv run baoxue migrate" in capsys.readouterr().err
    assert _scalar(cli_db, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'region'") == 0


def test_migrate_then_seed_demo_lists_the_accounts_and_is_idempotent(cli_db, capsys):
    main(["migrate"])
    main(["seed", "demo"])
    out = capsys.readouterr().out
    assert "edu-province-53" in out
    assert "baoxue-demo" in out
    assert "gov-village-" in out
    regions = _scalar(cli_db, "SELECT count(*) FROM region")
    main(["seed", "demo"])
    assert "demo data added: 0 regions, 0 schools, 0 accounts, 0 grants, 0 children" in capsys.readouterr().out
    assert _scalar(cli_db, "SELECT count(*) FROM region") == regions


def test_account_and_token_lifecycle_is_audited(cli_db, capsys, monkeypatch):
    main(["migrate"])
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password-1\n"))
    main(["account", "create", "ops-wang", "--display-name", "王运维", "--password-stdin"])
    main(["account", "create", "svc-sync", "--display-name", "同步服务", "--service"])
    main(["token", "create", "svc-sync", "--name", "sync job", "--days", "30"])
    out = capsys.readouterr().out
    secret = out.strip().splitlines()[-1]
    prefix = secret[:11]
    assert secret.startswith("bx_")
    assert prefix in out
    assert _scalar(cli_db, "SELECT count(*) FROM api_token WHERE token_hash = :s", s=secret) == 0  # only a hash kept

    main(["token", "revoke", prefix, "--reason", "rotated"])
    main(["account", "disable", "ops-wang", "--reason", "transferred"])
    assert _scalar(cli_db, "SELECT active FROM account WHERE username = 'ops-wang'") is False
    assert _scalar(cli_db, "SELECT revoked_at IS NOT NULL FROM api_token WHERE prefix = :p", p=prefix) is True
    actions = _scalar(cli_db, "SELECT string_agg(action, ',' ORDER BY id) FROM audit_log WHERE actor = 'cli'")
    assert actions == "account.create,account.create,token.create,token.revoke,account.disable"


def test_bad_input_is_refused_with_the_field_and_rule_and_nothing_written(cli_db, capsys, monkeypatch):
    main(["migrate"])
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    with pytest.raises(SystemExit) as exit_info:
        main(["account", "create", "ops-li", "--display-name", "李", "--password-stdin"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "password" in err
    assert "至少" in err
    assert "at least" in err
    assert _scalar(cli_db, "SELECT count(*) FROM account") == 0
    assert _scalar(cli_db, "SELECT count(*) FROM audit_log") == 0


def test_tokens_are_only_for_service_accounts(cli_db, capsys, monkeypatch):
    main(["migrate"])
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password-1\n"))
    main(["account", "create", "ops-zhao", "--display-name", "赵", "--password-stdin"])
    with pytest.raises(SystemExit):
        main(["token", "create", "ops-zhao", "--name", "x"])
    assert "service" in capsys.readouterr().err
    assert _scalar(cli_db, "SELECT count(*) FROM api_token") == 0


def test_export_schema_writes_the_sdl(tmp_path):
    target = tmp_path / "out.graphql"
    main(["export-schema", "--output", str(target)])
    assert target.read_text(encoding="utf-8") == schema.as_str() + "\n"


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("serve", "migrate", "seed", "account", "token", "export-schema"):
        assert command in out


def test_the_operator_creates_the_first_admin_of_a_fresh_database(cli_db, capsys, monkeypatch):
    main(["migrate"])
    main(["seed", "demo"])
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password-1\n"))
    main(
        [
            "account",
            "create",
            "yn-first-admin",
            "--display-name",
            "云南首位管理员",
            "--password-stdin",
            "--jurisdiction",
            "53",
        ]
    )
    main(["grant", "create", "yn-first-admin", "PERMISSION_ADMIN", "53", "--reason", "上线 / go-live"])
    assert "granted #" in capsys.readouterr().out
    assert _scalar(cli_db, "SELECT home_path FROM account WHERE username = 'yn-first-admin'") == "53"
    granted = _scalar(
        cli_db,
        "SELECT count(*) FROM role_grant g JOIN account a ON a.id = g.account_id "
        "WHERE a.username = 'yn-first-admin' AND g.role = 'PERMISSION_ADMIN' AND g.scope_path = '53'",
    )
    assert granted == 1
    with pytest.raises(SystemExit):
        main(["grant", "create", "yn-first-admin", "COUNTY_EDU", "53", "--reason", "x"])
    assert "cannot be held at that jurisdiction's level" in capsys.readouterr().err


def test_an_operator_stages_a_roster_then_applies_it(cli_db, capsys):
    """The CLI twins of POST /rosters and applyRosterImport: the poverty roster of 武定县, staged then applied."""
    from pathlib import Path

    main(["migrate"])
    main(["seed", "demo"])
    capsys.readouterr()
    example = Path(__file__).resolve().parent.parent / "docs" / "examples" / "rosters" / "532329-poverty.csv"
    main(["roster", "import", str(example), "--kind", "POVERTY", "--jurisdiction", "532329", "--as-of", "2026-11-30"])
    staged = capsys.readouterr().out
    assert " STAGED: " in staged
    number = staged.split()[1]
    main(["roster", "apply", number, "--note", "已核对"])
    assert f"batch {number} APPLIED" in capsys.readouterr().out
    assert _scalar(cli_db, "SELECT status FROM roster_import WHERE id = :n", n=int(number)) == "APPLIED"
    applied = "SELECT count(*) FROM audit_log WHERE action = 'roster.apply' AND target_id = :n"
    assert _scalar(cli_db, applied, n=number) == 1  # (the demo's pushed-down list was applied too, by the seed)
    with pytest.raises(SystemExit):
        main(["roster", "apply", number])
    assert "only a staged batch is applied" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("where", "english", "chinese"),
    [
        ("refused", "Connection refused", "连接被拒绝"),
        ("unknown host", "no-such-host.invalid", "主机名无法解析"),
        ("missing database", "does not exist", "数据库不存在"),
    ],
)
@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["migrate"], ["seed", "demo"]])
def test_an_unreachable_database_is_one_bilingual_line_and_exit_2(databases, monkeypatch, capsys, where, english,
                                                                 chinese, command):  # fmt: skip
    """Refused, unknown host, missing database: the cause in one line, in Chinese and English, not a traceback."""
    url = {
        "refused": "postgresql://postgres@127.0.0.1:1/baoxue",
        "unknown host": "postgresql://postgres@no-such-host.invalid:5432/baoxue",
        "missing database": make_url(databases.server_url)
        .set(database="baoxue_no_such_database")
        .render_as_string(hide_password=False),
    }[where]
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("BAOXUE_JWT_SECRET", "cli-test-secret-0123456789abcdefghij")
    with pytest.raises(SystemExit) as exit_info:
        main(command)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("cannot reach the database ")
    assert english in err
    assert f"无法连接数据库（{chinese}" in err


def test_a_setting_out_of_its_range_is_refused_naming_the_variable_and_the_rule(monkeypatch, capsys):
    """A bad environment variable stops every command before it starts: one line each, no traceback."""
    monkeypatch.setenv("BAOXUE_DB_POOL_SIZE", "0")
    monkeypatch.setenv("BAOXUE_DB_MAX_OVERFLOW", "many")
    with pytest.raises(SystemExit) as exit_info:
        main(["migrate"])
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["BAOXUE_DB_POOL_SIZE", "BAOXUE_DB_MAX_OVERFLOW"]
    assert "greater than or equal to 1" in lines[0]
    assert all("设置无效 / invalid setting" in line for line in lines)
