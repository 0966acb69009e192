"""A file's rows written as the COPY CSV text that `roster_cells` takes (resolvers/rosters/rows.py checks them
there): every cell quoted, short rows padded, NULs marked; the plain ID cells' (prefix, year) gathered on the
way, so PostgreSQL need not read every ID for its birth place."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from models.repos.roster_cells import CellChecks

ROWS_PER_BLOCK = 2000


def cell_blocks(rows: Iterable[tuple[int, list[str]]], checks: CellChecks) -> Iterator[str]:
    """The rows as COPY CSV text (`line`, `n`, `nul`, then `checks.width` cells), `ROWS_PER_BLOCK` rows a block,
    the (prefix, year) of each plain ID cell gathered on the way into `checks.ids`.

    Every field is quoted, so an empty cell is an empty string and never NULL; a short row is padded (its
    `n` says how many cells it had), a long one cut at the headers. A block with a NUL is written again row
    by row: PostgreSQL text cannot hold one (the cell is refused `INVALID_TEXT`, its raw copy holds U+FFFD).
    """
    width, id_cell, ids = checks.width, checks.id_cell, checks.ids
    pairs = ids.pairs
    batch: list[tuple[Any, ...]] = []
    for line, cells in rows:
        n = len(cells)
        if id_cell is not None and id_cell < n and (cell := cells[id_cell]):
            # As the checks' SQL reads a plain cell: 15 digits are converted (19 before the year), 18 keep theirs.
            if not (cell.isascii() and cell.isalnum()):
                ids.unplain = True
            elif len(cell) == 18 and cell[:17].isdigit():
                pairs.add(cell[:10])
            elif len(cell) == 15 and cell.isdigit():
                pairs.add(cell[:6] + "19" + cell[6:8])
        batch.append((line, n, "", *cells) if n == width else (line, n, "", *(cells + [""] * width)[:width]))
        if len(batch) == ROWS_PER_BLOCK:
            yield _csv_block(batch)
            batch = []
    if batch:
        yield _csv_block(batch)


def _csv_block(batch: list[tuple[Any, ...]]) -> str:
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(batch)
    text = out.getvalue()
    if "\x00" not in text:
        return text
    return _csv_block([_without_nul(row) for row in batch])


def _without_nul(row: tuple[Any, ...]) -> tuple[Any, ...]:
    cells = row[3:]
    held = [i for i, c in enumerate(cells) if "\x00" in c]
    if not held:
        return row
    nul = "," + ",".join(str(i) for i in held) + ","
    return (row[0], row[1], nul, *(c.replace("\x00", "\ufffd") for c in cells))
