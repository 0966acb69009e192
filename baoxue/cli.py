"""The `baoxue` command: serve, migrate, seed, schema export, and the parser of every subcommand (the operator's
commands on the data are in cli_operator.py)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from authz.passwords import use_profile as use_password_profile
from models.roster import RosterKind
from resolvers.context import Context

from .cli_operator import (
    cmd_account_create,
    cmd_account_disable,
    cmd_changes_prune,
    cmd_grant_create,
    cmd_grant_revoke,
    cmd_ledger_sweep,
    cmd_operations_add,
    cmd_operations_list,
    cmd_roster_apply,
    cmd_roster_import,
    cmd_stats_snapshot,
    cmd_token_create,
    cmd_token_revoke,
)
from .cli_support import fail, migrated_url, reachable_url, run_in_transaction, setting_problem
from .database import migrate
from .settings import Settings

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def _port_free(host: str, port: int) -> None:
    """Fail before the database starts (and the demo loads) when the port is taken, not once uvicorn binds it."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        fail(f"--host: 无法解析地址 {host} / cannot resolve {host}: {exc.strerror}")
        return
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no conflict
        try:
            probe.bind(address)
        except OSError as exc:
            fail(
                f"--port: 端口 {host}:{port} 已被占用或不可用，请换一个端口（--port） / "
                f"port {host}:{port} is not available ({exc.strerror}): choose another with --port"
            )


async def _is_empty(session: AsyncSession) -> bool:
    from models.repos.regions import count_regions

    return await count_regions(session) == 0


_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _exit_once(*_: object) -> None:
    """Before uvicorn runs (migrating, loading the demo): exit on the first SIGINT/SIGTERM through SystemExit,
    so the exit hook stops the embedded PostgreSQL, and ignore the ones after it, which would otherwise
    raise again inside the interpreter's shutdown and print a traceback."""
    for signum in _STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    sys.exit(0)


def print_demo_accounts(file: TextIO | None = None) -> None:
    """The demo accounts and their password, as `seed demo` (on standard output) and `serve` on an empty
    database (on standard error) list them."""
    from datagen.demo.seed import DEMO_PASSWORD, demo_accounts

    print(f"demo accounts (password: {DEMO_PASSWORD}):", file=file)
    for account in demo_accounts():
        print(
            f"  {account.username:32} {account.role.value:17} {account.jurisdiction:12} {account.display_name}",
            file=file,
        )


def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    # uvicorn re-raises SIGTERM after its graceful shutdown; exiting through SystemExit (here from the start,
    # also while migrating or loading the demo) lets the exit hook stop the embedded PostgreSQL.
    for signum in _STOP_SIGNALS:
        signal.signal(signum, _exit_once)
    _port_free(args.host, args.port)

    import uvicorn

    from datagen.demo.seed import seed_demo

    url = migrated_url(settings, migrate_if_embedded=True)
    if settings.embedded:

        async def seed_if_empty(ctx: Context) -> bool:
            if not await _is_empty(ctx.session):
                return False
            print("empty database: loading the demo data (baoxue seed demo)", file=sys.stderr)
            await seed_demo(ctx.session)
            return True

        if run_in_transaction(url, seed_if_empty):
            print_demo_accounts(sys.stderr)
        print(f"embedded PostgreSQL data directory: {settings.data_dir / 'pgdata'}", file=sys.stderr)
    # Worker processes read these: same database, same environment, same signing secret.
    os.environ["DATABASE_URL"] = url
    os.environ["BAOXUE_ENV"] = settings.environment
    os.environ.setdefault("BAOXUE_JWT_SECRET", settings.signing_secret)
    print(f"baoxue on http://{args.host}:{args.port}/graphql ({settings.environment})", file=sys.stderr)
    # uvicorn takes the signals while it runs and, after its graceful shutdown, raises each one it caught
    # again against the handler it found. That handler must do nothing: raising SystemExit there, inside
    # the event loop, cancels a lifespan still pending (a second Ctrl-C skips its shutdown) with a logged
    # traceback. uvicorn.run then returns, and the normal exit runs the embedded PostgreSQL's stop hook.
    for signum in _STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    uvicorn.run(
        "baoxue.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,
        access_log=False,
        # The app believes X-Forwarded-For only from BAOXUE_TRUSTED_PROXIES; uvicorn's own handling would
        # believe every loopback peer, letting a local client rotate the header past the login throttle.
        proxy_headers=False,
    )


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> None:
    url = reachable_url(settings)
    migrate(url, args.revision)
    print(f"database migrated to {args.revision}")


def cmd_seed_demo(args: argparse.Namespace, settings: Settings) -> None:
    from datagen.demo.seed import seed_demo

    url = migrated_url(settings, migrate_if_embedded=True)
    added = run_in_transaction(url, lambda ctx: seed_demo(ctx.session, actor=ctx.actor))
    print("demo data added: " + ", ".join(f"{n} {what}" for what, n in added.items()))
    print_demo_accounts()


def cmd_seed_synthetic(args: argparse.Namespace, settings: Settings) -> None:
    from datagen.demo.seed import DEMO_PASSWORD
    from datagen.synthetic.seed import SyntheticDataExists, seed_synthetic

    url = migrated_url(settings, migrate_if_embedded=True)
    try:
        result = seed_synthetic(
            url, children=args.children, provinces=args.provinces, seed=args.seed, change_feed=args.with_change_feed
        )
    except (SyntheticDataExists, ValueError) as exc:
        fail(str(exc))
        raise  # unreachable: _fail exits
    print("synthetic data added: " + ", ".join(f"{n} {what}" for what, n in result["added"].items()))
    print("seconds: " + ", ".join(f"{phase} {s}" for phase, s in result["seconds"].items()))
    print(f"accounts named as in the demo (edu-county-<code>, gov-township-<code>, …), password: {DEMO_PASSWORD}")


def _replace_between(text: str, begin: str, end: str, block: str) -> str:
    """`text` with the block from `begin` to `end` (both kept, as `block` holds them) replaced."""
    start, stop = text.find(begin), text.find(end)
    return text[:start] + block + text[stop + len(end) :] if start >= 0 and stop > start else text


def cmd_export_schema(args: argparse.Namespace, settings: Settings) -> None:
    from authz import policy_table
    from schema.errors import README_BEGIN, README_END, codes_markdown
    from schema.root import schema

    Path(args.output).write_text(schema.as_str() + "\n", encoding="utf-8")
    print(f"wrote {args.output}")
    if Path(args.output).resolve() != SCHEMA_FILE:
        return
    readme = SCHEMA_FILE.parent / "README.md"  # the repository's own, next to schema.graphql
    text = readme.read_text(encoding="utf-8")
    text = _replace_between(text, README_BEGIN, README_END, codes_markdown())
    perms = policy_table.permissions_markdown()
    text = _replace_between(text, policy_table.README_BEGIN, policy_table.README_END, perms)
    readme.write_text(text, encoding="utf-8")
    print(f"wrote the error codes and the role permissions in {readme}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="baoxue",
        description="baoxue (保学): GraphQL API for compulsory-education dropout control. "
        "Without DATABASE_URL every command uses the embedded PostgreSQL in BAOXUE_DATA_DIR.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the API (embedded database: migrates and loads demo data when empty)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.set_defaults(func=cmd_serve)

    mig = sub.add_parser("migrate", help="apply database migrations (Alembic) up to a revision")
    mig.add_argument("revision", nargs="?", default="head", help="target revision (default head)")
    mig.set_defaults(func=cmd_migrate)

    seed = sub.add_parser("seed", help="load data").add_subparsers(dest="what", required=True, metavar="WHAT")
    demo = seed.add_parser("demo", help="the demo regions, schools and accounts (idempotent); lists the accounts")
    demo.set_defaults(func=cmd_seed_demo)
    synthetic = seed.add_parser(
        "synthetic", help="province-scale generated data (provinces 41, 42, …; refused if already there)"
    )
    synthetic.add_argument("--children", type=int, required=True, help="children in all, e.g. 7000000")
    synthetic.add_argument("--provinces", type=int, default=1, help="how many provinces share them (default 1)")
    synthetic.add_argument("--seed", type=int, default=1, help="random seed: the same seed gives the same rows")
    synthetic.add_argument(
        "--with-change-feed",
        action="store_true",
        help="also write the loaded rows to the change feed (default: skipped, see README Integrators)",
    )
    synthetic.set_defaults(func=cmd_seed_synthetic)

    account = sub.add_parser("account", help="create or disable accounts").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    create = account.add_parser("create", help="create an account (asks for the password)")
    create.add_argument("username")
    create.add_argument("--display-name", required=True, help="name shown to people, e.g. 武定县教育体育局")
    create.add_argument("--service", action="store_true", help="a service account: signs in with API tokens only")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    create.add_argument(
        "--jurisdiction",
        default=None,
        help="region code, 10-digit school code or CN the account belongs to (default CN)",
    )
    create.set_defaults(func=cmd_account_create)
    disable = account.add_parser("disable", help="disable an account (kept, never deleted)")
    disable.add_argument("username")
    disable.add_argument("--reason", required=True, help="why, for the audit trail")
    disable.set_defaults(func=cmd_account_disable)

    token = sub.add_parser("token", help="service-account API tokens").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    tcreate = token.add_parser("create", help="issue a token for a service account (printed once)")
    tcreate.add_argument("username")
    tcreate.add_argument("--name", required=True, help="what the token is for")
    tcreate.add_argument("--days", type=int, default=90, help="validity in days, 1–366 (default 90)")
    tcreate.set_defaults(func=cmd_token_create)
    trevoke = token.add_parser("revoke", help="revoke a token by its visible prefix (bx_…)")
    trevoke.add_argument("prefix")
    trevoke.add_argument("--reason", required=True, help="why, for the audit trail")
    trevoke.set_defaults(func=cmd_token_revoke)

    grant = sub.add_parser(
        "grant", help="grant or revoke roles as the operator (e.g. the first admins)"
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    gcreate = grant.add_parser("create", help="grant ROLE at JURISDICTION (region code, school code or CN)")
    gcreate.add_argument("username")
    gcreate.add_argument("role", help="a role of the catalogue, e.g. PERMISSION_ADMIN")
    gcreate.add_argument("jurisdiction")
    gcreate.add_argument("--reason", required=True, help="why, for the audit trail")
    gcreate.add_argument("--expires", default=None, help="ISO date-time the grant ends, e.g. 2027-07-31T00:00:00+08:00")
    gcreate.set_defaults(func=cmd_grant_create)
    grevoke = grant.add_parser("revoke", help="revoke a grant by its number")
    grevoke.add_argument("grant_id", type=int)
    grevoke.add_argument("--reason", required=True, help="why, for the audit trail")
    grevoke.set_defaults(func=cmd_grant_revoke)

    ledger = sub.add_parser("ledger", help="the three ledgers").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    lsweep = ledger.add_parser("sweep", help="apply the attendance rules (POLICY 003 annex 1) to every child")
    lsweep.add_argument("--as-of", help="the date to apply them as of (YYYY-MM-DD; default today in China)")
    lsweep.set_defaults(func=cmd_ledger_sweep)

    roster = sub.add_parser("roster", help="rosters (四查): stage a file as a batch, apply it").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    rimport = roster.add_parser("import", help="stage a roster file (CSV in UTF-8 or GB18030, or XLSX)")
    rimport.add_argument("file", help="the roster file")
    rimport.add_argument("--kind", required=True, choices=[k.value for k in RosterKind])
    rimport.add_argument(
        "--jurisdiction", required=True, help="the county (or township, village) code; CN or a province for PUSHED"
    )
    rimport.add_argument("--as-of", help="the roster's date (YYYY-MM-DD; default today in China)")
    rimport.set_defaults(func=cmd_roster_import)
    rapply = roster.add_parser("apply", help="apply a staged batch: register the children no one knew")
    rapply.add_argument("number", type=int, help="the batch's number (as the import printed it)")
    rapply.add_argument("--note", help="a note kept with the decision")
    rapply.set_defaults(func=cmd_roster_apply)

    stats = sub.add_parser("stats", help="month-end statistics (ledgerStatistics)").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    snapshot = stats.add_parser(
        "snapshot", help="take the months' statistics (again) from the ledgers' history, every province"
    )
    snapshot.add_argument("--from", dest="first", help="first month, YYYY-MM (default: the current month in China)")
    snapshot.add_argument("--to", dest="last", help="last month, YYYY-MM (default: the current month in China)")
    snapshot.set_defaults(func=cmd_stats_snapshot)

    changes = sub.add_parser("changes", help="the change feed (GET /exports/changes)").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    cprune = changes.add_parser("prune", help="delete changes older than the retention (BAOXUE_CHANGE_RETENTION_DAYS)")
    cprune.add_argument("--days", type=int, help="keep this many days instead (1–3650)")
    cprune.set_defaults(func=cmd_changes_prune)
    operations = sub.add_parser(
        "operations", help="persisted operations: the documents clients may send by hash"
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    oadd = operations.add_parser(
        "add", help="register the operations of a manifest ({sha256: document}, or Apollo's operation manifest)"
    )
    oadd.add_argument("file", help="the manifest (JSON)")
    oadd.set_defaults(func=cmd_operations_add)
    operations.add_parser("list", help="list the registered operations").set_defaults(func=cmd_operations_list)

    export = sub.add_parser(
        "export-schema", help="write the GraphQL SDL (default: schema.graphql, and the README's error codes)"
    )
    export.add_argument("--output", default=str(SCHEMA_FILE), help="file to write")
    export.set_defaults(func=cmd_export_schema)
    return parser


def main(argv: list[str] | None = None) -> None:
    args: Any = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:  # a bad environment variable: one line each, naming it and the rule
        fail("\n".join(setting_problem(error) for error in exc.errors()))
        raise  # unreachable: fail exits
    use_password_profile(settings.password_hasher)
    try:
        args.func(args, settings)
    except KeyboardInterrupt:
        fail("已中断 / interrupted", 130)
