"""The operator's commands on the data (`baoxue account|token|grant|ledger|changes|stats|roster|operations`):
each one use case, run as `cli` in one transaction (`run_in_transaction`), audited like the API's."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Awaitable
from datetime import date, timedelta
from pathlib import Path

from resolvers.context import Context

from .cli_support import fail, migrated_url, run_in_transaction
from .settings import Settings


def cmd_account_create(args: argparse.Namespace, settings: Settings) -> None:
    from resolvers.admin.accounts import create_account

    password = None
    if not args.service:
        password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("password: ")
    url = migrated_url(settings)
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

    url = migrated_url(settings)
    run_in_transaction(url, lambda ctx: disable_account(ctx, username=args.username, reason=args.reason))
    print(f"disabled account {args.username}")


def cmd_token_create(args: argparse.Namespace, settings: Settings) -> None:
    from resolvers.admin.accounts import create_token

    url = migrated_url(settings)
    issued = run_in_transaction(
        url, lambda ctx: create_token(ctx, username=args.username, name=args.name, valid_days=args.days)
    )
    print(f"token {issued.token.prefix} for {args.username}, expires {issued.token.expires_at:%Y-%m-%d}")
    print("shown once, store it now / 令牌只显示这一次:")
    print(issued.secret)


def cmd_token_revoke(args: argparse.Namespace, settings: Settings) -> None:
    from resolvers.admin.accounts import revoke_token

    url = migrated_url(settings)
    run_in_transaction(url, lambda ctx: revoke_token(ctx, prefix=args.prefix, reason=args.reason))
    print(f"revoked token {args.prefix}")


def cmd_grant_create(args: argparse.Namespace, settings: Settings) -> None:
    from datetime import datetime

    from authz.catalogue import Role
    from resolvers.admin.grants import grant_role

    if args.role not in Role.__members__:
        fail(f"role: 没有这个角色 / no such role (one of {', '.join(Role.__members__)})")
    expires = datetime.fromisoformat(args.expires) if args.expires else None
    url = migrated_url(settings)
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

    url = migrated_url(settings)
    run_in_transaction(url, lambda ctx: revoke_grant(ctx, grant_id=str(args.grant_id), reason=args.reason))
    print(f"revoked grant #{args.grant_id}")


def cmd_ledger_sweep(args: argparse.Namespace, settings: Settings) -> None:
    from models.base import today
    from resolvers.ledgers.counts import take_statistics
    from resolvers.ledgers.rules import RulesOutcome, sweep

    as_of = date.fromisoformat(args.as_of) if args.as_of else today()
    url = migrated_url(settings)

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
    pruned = run_in_transaction(migrated_url(settings), lambda ctx: prune(ctx, days))
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
        fail("--from/--to: 月份须写作 YYYY-MM，且起不晚于止 / months are YYYY-MM, --from not after --to")
        return
    url = migrated_url(settings)
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

        found = run_in_transaction(migrated_url(settings), stage).batch
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

    found = run_in_transaction(migrated_url(settings), apply)
    print(f"batch {found.id} {found.status}: {found.rows_matched} matched, {found.rows_new} registered as children")


def cmd_operations_add(args: argparse.Namespace, settings: Settings) -> None:
    from resolvers.operations import ManifestError, read_manifest, register

    try:
        operations = read_manifest(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ManifestError) as exc:
        fail(f"{args.file}: {exc}")
    done = run_in_transaction(migrated_url(settings), lambda ctx: register(ctx, operations))
    print(
        f"registered {done.added} operations, {done.known} already known / 新登记 {done.added} 个，已有 {done.known} 个"
    )


def cmd_operations_list(args: argparse.Namespace, settings: Settings) -> None:
    from resolvers.operations import list_operations

    for op in run_in_transaction(migrated_url(settings), list_operations):
        print(f"{op.sha256}  {op.operation_name or '(anonymous)'}  {op.created_at:%Y-%m-%d} {op.added_by}")
