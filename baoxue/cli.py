"""The `baoxue` command: serve, migrate, seed, accounts, tokens, schema export."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TextIO, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from authz.passwords import use_profile as use_password_profile
from models.roster import RosterKind
from resolvers.context import Context
from resolvers.errors import BadInput

from .database import (
    DatabaseUnreachableError,
    NotMigratedError,
    check_migrated,
    make_engine,
    migrate,
    ping,
    resolve_url,
)
from .settings import Settings

T = TypeVar("T")
SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def _fail(message: str, code: int = 2) -> None:
    print(message, file=sys.stderr)
    raise SystemExit(code)


def _reachable_url(settings: Settings) -> str:
    """The database's URL (starting the embedded one), once a connection to it succeeds; else one line, exit 2."""
    try:
        url = resolve_url(settings)
        ping(url)
    except (DatabaseUnreachableError, ValueError) as exc:
        _fail(str(exc))
        raise  # unreachable: _fail exits
    return url


def _database(settings: Settings, *, migrate_if_embedded: bool = False) -> str:
    url = _reachable_url(settings)
    if settings.embedded and migrate_if_embedded:
        migrate(url)
    try:
        check_migrated(url)
    except NotMigratedError as exc:
        _fail(str(exc))
    return url


def _port_free(host: str, port: int) -> None:
    """Fail before the database starts (and the demo loads) when the port is taken, not once uvicorn binds it."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        _fail(f"--host: 无法解析地址 {host} / cannot resolve {host}: {exc.strerror}")
        return
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no conflict
        try:
            probe.bind(address)
        except OSError as exc:
            _fail(
                f"--port: 端口 {host}:{port} 已被占用或不可用，请换一个端口（--port） / "
                f"port {host}:{port} is not available ({exc.strerror}): choose another with --port"
            )


def run_in_transaction(url: str, work: Callable[[Context], Awaitable[T]]) -> T:
    """Run one use case as the operator (`cli`) in one transaction, committed only on success."""

    async def go() -> T:
        engine = make_engine(url)
        try:
            async with async_sessionmaker(engine, expire_on_commit=False)() as session:
                result = await work(Context(session=session, principal=None, system_actor="cli", operator=True))
                await session.commit()
                return result
        finally:
            await engine.dispose()

    try:
        return asyncio.run(go())
    except BadInput as exc:
        _fail(f"{exc.error.field}: {exc.error.message}")
        raise  # unreachable: _fail exits


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

    url = _database(settings, migrate_if_embedded=True)
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
    url = _reachable_url(settings)
    migrate(url, args.revision)
    print(f"database migrated to {args.revision}")


def cmd_seed_demo(args: argparse.Namespace, settings: Settings) -> None:
    from datagen.demo.seed import seed_demo

    url = _database(settings, migrate_if_embedded=True)
    added = run_in_transaction(url, lambda ctx: seed_demo(ctx.session, actor=ctx.actor))
    print("demo data added: " + ", ".join(f"{n} {what}" for what, n in added.items()))
    print_demo_accounts()


def cmd_seed_synthetic(args: argparse.Namespace, settings: Settings) -> None:
    from datagen.demo.seed import DEMO_PASSWORD
    from datagen.synthetic.seed import SyntheticDataExists, seed_synthetic

    url = _database(settings, migrate_if_embedded=True)
    try:
        result = seed_synthetic(
            url, children=args.children, provinces=args.provinces, seed=args.seed, change_feed=args.with_change_feed
        )
    except (SyntheticDataExists, ValueError) as exc:
        _fail(str(exc))
        raise  # unreachable: _fail exits
    print("synthetic data added: " + ", ".join(f"{n} {what}" for what, n in result["added"].items()))
    print("seconds: " + ", ".join(f"{phase} {s}" for phase, s in result["seconds"].items()))
    print(f"accounts named as in the demo (edu-county-<code>, gov-township-<code>, …), password: {DEMO_PASSWORD}")


def cmd_account_create(args: argparse.Namespace, settings: Settings) -> None:
    from resolvers.admin.accounts import create_account

    password = None
    if not args.service:
        password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("password: ")
    url = _database(settings)
    account = run_in_transaction(
        url,
        lambda ctx: create_account(
            ctx,
            username=args.username,
            display_name=args.display_name,
            password=password,
            is_service=args.service,
            jurisdiction_code=args.jurisdiction,
        ),
    )
    print(f"created {'service ' if account.is_service else ''}account {account.username}")


def cmd_account_disable(args: argparse.Namespace, settings: Settings) -> None:
    from resolvers.admin.accounts import disable_account

    url = _database(settings)
    run_in_transaction(url, lambda ctx: disable_account(ctx, username=args.username, reason=args.reason))
    print(f"disabled account {args.username}")


def cmd_token_create(args: argparse.Namespace, settings: Settings) -> None:
    from resolvers.admin.accounts import create_token

    url = _database(settings)
    issued = run_in_transaction(
        url, lambda ctx: create_token(ctx, username=args.username, name=args.name, valid_days=args.days)
    )
    print(f"token {issued.token.prefix} for {args.username}, expires {issued.token.expires_at:%Y-%m-%d}")
    print("shown once, store it now / 令牌只显示这一次:")
    print(issued.secret)


def cmd_token_revoke(args: argparse.Namespace, settings: Settings) -> None:
    from resolvers.admin.accounts import revoke_token

    url = _database(settings)
    run_in_transaction(url, lambda ctx: revoke_token(ctx, prefix=args.prefix, reason=args.reason))
    print(f"revoked token {args.prefix}")


def cmd_grant_create(args: argparse.Namespace, settings: Settings) -> None:
    from datetime import datetime

    from authz.catalogue import Role
    from resolvers.admin.grants import grant_role

    if args.role not in Role.__members__:
        _fail(f"role: 没有这个角色 / no such role (one of {', '.join(Role.__members__)})")
    expires = datetime.fromisoformat(args.expires) if args.expires else None
    url = _database(settings)
    grant = run_in_transaction(
        url,
        lambda ctx: grant_role(
            ctx,
            username=args.username,
            role=Role(args.role),
            jurisdiction_code=args.jurisdiction,
            expires_at=expires,
            reason=args.reason,
        ),
    )
    print(f"granted #{grant.id}: {args.role} at {args.jurisdiction} to {args.username}")


def cmd_grant_revoke(args: argparse.Namespace, settings: Settings) -> None:
    from resolvers.admin.grants import revoke_grant

    url = _database(settings)
    run_in_transaction(url, lambda ctx: revoke_grant(ctx, grant_id=str(args.grant_id), reason=args.reason))
    print(f"revoked grant #{args.grant_id}")


def cmd_ledger_sweep(args: argparse.Namespace, settings: Settings) -> None:
    from models.base import today
    from resolvers.ledgers.counts import take_statistics
    from resolvers.ledgers.rules import RulesOutcome, sweep

    as_of = date.fromisoformat(args.as_of) if args.as_of else today()
    url = _database(settings)

    async def sweep_and_take(ctx: Context) -> RulesOutcome:
        outcome = await sweep(ctx, as_of)
        # This month's statistics, and last month's again: what was recorded since its last day completes it.
        await take_statistics(ctx, as_of.replace(day=1) - timedelta(days=1), as_of)
        return outcome

    outcome = run_in_transaction(url, sweep_and_take)
    print(
        f"ledger rules as of {as_of}: {len(outcome.opened)} suspected opened, {len(outcome.reopened)} reopened, "
        f"{len(outcome.escalated)} escalated to dropout, {len(outcome.returned)} returned"
    )


def cmd_changes_prune(args: argparse.Namespace, settings: Settings) -> None:
    from resolvers.changes.retention import prune

    days = args.days if args.days is not None else settings.change_retention_days
    pruned = run_in_transaction(_database(settings), lambda ctx: prune(ctx, days))
    print(
        f"change feed: {pruned.deleted} changes older than {days} days deleted; cursors before change "
        f"{pruned.through} now answer CURSOR_EXPIRED"
    )


def cmd_stats_snapshot(args: argparse.Namespace, settings: Settings) -> None:
    import time

    from models.base import today
    from models.period_statistics import month_code, month_start
    from resolvers.ledgers.counts import take_statistics

    first, last = (month_start(m) if m else month_start(month_code(today())) for m in (args.first, args.last))
    if first is None or last is None or first > last:
        _fail("--from/--to: 月份须写作 YYYY-MM，且起不晚于止 / months are YYYY-MM, --from not after --to")
        return
    url = _database(settings)
    started = time.perf_counter()
    rows = run_in_transaction(url, lambda ctx: take_statistics(ctx, first, last))
    print(f"statistics {first:%Y-%m} to {last:%Y-%m}: {rows} rows in {time.perf_counter() - started:.1f} s")


def cmd_roster_import(args: argparse.Namespace, settings: Settings) -> None:
    from models.base import today
    from models.roster import RosterKind
    from resolvers.rosters.imports import ImportResult, import_roster

    path = Path(args.file)
    as_of = date.fromisoformat(args.as_of) if args.as_of else today()

    with path.open("rb") as stream:

        def stage(ctx: Context) -> Awaitable[ImportResult]:
            return import_roster(
                ctx, kind=RosterKind(args.kind), jurisdiction_code=args.jurisdiction, as_of=as_of,
                file_name=path.name, stream=stream,
            )  # fmt: skip

        found = run_in_transaction(_database(settings), stage).batch
    print(
        f"batch {found.id} {found.status}: {found.rows_read} rows read, {found.rows_valid} valid, "
        f"{found.rows_refused} refused, {found.rows_matched} matched, {found.rows_new} new"
    )


def cmd_roster_apply(args: argparse.Namespace, settings: Settings) -> None:
    """The operator's twin of applyRosterImport: the batch as it stands now (its current version)."""
    from models.roster_import import RosterImport
    from resolvers.rosters.decisions import apply_import

    async def apply(ctx: Context) -> RosterImport:
        batch = await ctx.session.get(RosterImport, int(args.number))
        version = batch.version if batch is not None else 0
        return await apply_import(ctx, import_id=str(args.number), version=version, note=args.note)

    found = run_in_transaction(_database(settings), apply)
    print(f"batch {found.id} {found.status}: {found.rows_matched} matched, {found.rows_new} registered as children")


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


def cmd_operations_add(args: argparse.Namespace, settings: Settings) -> None:
    from resolvers.operations import ManifestError, read_manifest, register

    try:
        operations = read_manifest(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ManifestError) as exc:
        _fail(f"{args.file}: {exc}")
    done = run_in_transaction(_database(settings), lambda ctx: register(ctx, operations))
    print(
        f"registered {done.added} operations, {done.known} already known / 新登记 {done.added} 个，已有 {done.known} 个"
    )


def cmd_operations_list(args: argparse.Namespace, settings: Settings) -> None:
    from resolvers.operations import list_operations

    for op in run_in_transaction(_database(settings), list_operations):
        print(f"{op.sha256}  {op.operation_name or '(anonymous)'}  {op.created_at:%Y-%m-%d} {op.added_by}")


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
    settings = Settings()
    use_password_profile(settings.password_hasher)
    try:
        args.func(args, settings)
    except KeyboardInterrupt:
        _fail("已中断 / interrupted", 130)
