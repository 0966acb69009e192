"""The budget counters, shared by every server process through the database (README, Budgets).

Each spend is one upsert that adds to the account's counter only if the sum stays within the
allowance; the conflicting row's lock makes concurrent spends queue, and each sees the sum the one
before it left. So exactly the allowance is granted, whatever the number of processes and clients.
Times come from the database clock, the one clock every process shares.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ..budget import ExportAllowance

SHANGHAI_NOW = "(clock_timestamp() AT TIME ZONE 'Asia/Shanghai')"


@dataclass(frozen=True)
class Spend:
    """The outcome of one spend: granted or not, what is spent after it, and when the counter resets."""

    granted: bool
    spent: int
    resets_in_seconds: int


_SPEND_QUERY_COST = text(
    """
    INSERT INTO query_budget_window AS b (account_id, window_start, spent, allowance)
    SELECT :account, date_trunc('minute', clock_timestamp()), :cost, :allowance WHERE :cost <= :allowance
    ON CONFLICT (account_id) DO UPDATE
    SET spent = CASE WHEN b.window_start = EXCLUDED.window_start THEN b.spent + EXCLUDED.spent
                     ELSE EXCLUDED.spent END,
        window_start = EXCLUDED.window_start,
        allowance = EXCLUDED.allowance
    WHERE b.window_start <> EXCLUDED.window_start OR b.spent + EXCLUDED.spent <= EXCLUDED.allowance
    RETURNING spent, ceil(extract(epoch FROM window_start + interval '1 minute' - clock_timestamp()))::int
    """
)

_QUERY_WINDOW = text(
    """
    SELECT CASE WHEN window_start = date_trunc('minute', clock_timestamp()) THEN spent ELSE 0 END,
           ceil(extract(epoch FROM date_trunc('minute', clock_timestamp()) + interval '1 minute'
                - clock_timestamp()))::int
    FROM (SELECT 1) one LEFT JOIN query_budget_window ON account_id = :account
    """
)


async def spend_query_cost(session: AsyncSession, account_id: int, cost: int, allowance: int) -> Spend:
    """Spend `cost` from the account's budget of this minute, if it fits in `allowance`."""
    row = (
        await session.execute(_SPEND_QUERY_COST, {"account": account_id, "cost": cost, "allowance": allowance})
    ).one_or_none()
    if row is not None:
        return Spend(True, int(row[0]), max(1, int(row[1])))
    spent, resets = (await session.execute(_QUERY_WINDOW, {"account": account_id})).one()
    return Spend(False, int(spent or 0), max(1, int(resets)))


_SPEND_EXPORT_ROWS = text(
    f"""
    INSERT INTO export_rows_spent AS s (account_id, day, rows, allowance)
    SELECT :account, {SHANGHAI_NOW}::date, :rows, :allowance WHERE :rows <= :allowance
    ON CONFLICT (account_id, day) DO UPDATE
    SET rows = s.rows + EXCLUDED.rows, allowance = EXCLUDED.allowance
    WHERE s.rows + EXCLUDED.rows <= EXCLUDED.allowance
    RETURNING rows
    """  # noqa: S608  (a fixed SQL expression, no input)
)

_EXPORT_DAY = text(
    f"""
    SELECT coalesce((SELECT rows FROM export_rows_spent WHERE account_id = :account AND day = {SHANGHAI_NOW}::date), 0),
           ceil(extract(epoch FROM date_trunc('day', {SHANGHAI_NOW}) + interval '1 day' - {SHANGHAI_NOW}))::int
    """  # noqa: S608  (a fixed SQL expression, no input)
)


async def spend_export_rows(session: AsyncSession, account_id: int, rows: int, allowance: int) -> Spend:
    """Spend `rows` from the account's export rows of today (China Standard Time), if they fit."""
    granted = (
        await session.execute(_SPEND_EXPORT_ROWS, {"account": account_id, "rows": rows, "allowance": allowance})
    ).one_or_none()
    spent, resets = (await session.execute(_EXPORT_DAY, {"account": account_id})).one()
    return Spend(granted is not None, int(spent), max(1, int(resets)))


_SETTLE_EXPORT_ROWS = text(
    f"""
    INSERT INTO export_rows_spent AS s (account_id, day, rows, allowance)
    VALUES (:account, {SHANGHAI_NOW}::date, greatest(:delta, 0), :allowance)
    ON CONFLICT (account_id, day) DO UPDATE SET rows = greatest(0, s.rows + :delta)
    """  # noqa: S608  (a fixed SQL expression, no input)
)


async def settle_export_rows(session: AsyncSession, account_id: int, delta: int, allowance: int) -> None:
    """Correct today's spent rows by `delta` without the allowance check: an export that sent more rows
    than it reserved (rows added meanwhile) pays the rest, one cut off gets back what it did not send."""
    await session.execute(_SETTLE_EXPORT_ROWS, {"account": account_id, "delta": delta, "allowance": allowance})


async def export_rows_spent_today(session: AsyncSession, account_id: int) -> tuple[int, int]:
    """(rows spent today, seconds until the day ends)."""
    spent, resets = (await session.execute(_EXPORT_DAY, {"account": account_id})).one()
    return int(spent), max(1, int(resets))


async def get_export_allowance(session: AsyncSession, account_id: int) -> ExportAllowance | None:
    return await session.get(ExportAllowance, account_id)


async def set_export_allowance(
    session: AsyncSession, account_id: int, rows_per_day: int, set_by: str
) -> ExportAllowance:
    """Insert or change the account's allowance (the row is locked first: concurrent admins queue)."""
    allowance = await session.get(ExportAllowance, account_id, with_for_update=True)
    if allowance is None:
        allowance = ExportAllowance(account_id=account_id, rows_per_day=rows_per_day, set_by=set_by)
        session.add(allowance)
    else:
        allowance.rows_per_day, allowance.set_by = rows_per_day, set_by
        allowance.version += 1
    await session.flush()
    return allowance


@dataclass(frozen=True)
class Standing:
    """One account's counter as /metrics shows it."""

    username: str
    spent: int
    allowance: int


async def query_windows_now(session: AsyncSession) -> list[Standing]:
    """Accounts that spent query cost in the current minute (the only ones with a budget in use)."""
    rows = await session.execute(
        text(
            """
            SELECT a.username, b.spent, b.allowance FROM query_budget_window b JOIN account a ON a.id = b.account_id
            WHERE b.window_start = date_trunc('minute', clock_timestamp()) ORDER BY a.username
            """
        )
    )
    return [Standing(str(u), int(s), int(a)) for u, s, a in rows]


async def export_days_today(session: AsyncSession) -> list[Standing]:
    """Accounts that exported rows today (China Standard Time)."""
    rows = await session.execute(
        text(
            f"""
            SELECT a.username, s.rows, s.allowance FROM export_rows_spent s JOIN account a ON a.id = s.account_id
            WHERE s.day = {SHANGHAI_NOW}::date ORDER BY a.username
            """  # noqa: S608  (a fixed SQL expression, no input)
        )
    )
    return [Standing(str(u), int(s), int(a)) for u, s, a in rows]
