"""Reading XLSX rosters: time and peak memory (`uv run python -m bench.xlsx_reading`).

Two workbooks, written as Excel and WPS write them (every text a shared string,
`tests/roster_support.shared_strings_xlsx`): a household roster of `--rows` children (200,000 by default;
distinct names and IDs, repeated genders and codes), and a small file whose shared-string table repeats one
name `--repeats` times (5,000,000: a few hundred KB of zip that expands to about 110 MB). Each is read whole
through `read_roster` in a process of its own: as the server reads it (the shared strings on disk and the
package's expansion checked, `resolvers/rosters/xlsx.py`), the same without the hundredfold rule (which
refuses the second file at once), and with openpyxl's own reader (its list of every string in memory, no
checks); the process's peak RSS and wall time are printed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.common import log
from datagen.demo.people import national_id
from tests.roster_support import HOUSEHOLD, shared_strings_xlsx

ROOT = Path(__file__).resolve().parents[1]

READ = """
import json, sys, time
from models.roster import RosterKind
from resolvers.rosters import files

from resolvers.rosters import xlsx
if sys.argv[2] == "openpyxl-list":  # openpyxl's reader as it was used before resolvers/rosters/xlsx.py
    from openpyxl import load_workbook
    def open_workbook(data):
        return load_workbook(data, read_only=True, data_only=True), None
    xlsx.open_workbook = open_workbook
if sys.argv[2] == "disk, no ratio rule":
    xlsx.MAX_RATIO = 10**9
started = time.perf_counter()
with open(sys.argv[1], "rb") as stream:
    try:
        rows = sum(1 for _ in files.read_roster(stream, "r.xlsx", RosterKind.HOUSEHOLD, max_bytes=200 << 20))
    except files.RosterFileError as refused:
        rows = refused.code.name
# VmHWM, not ru_maxrss: the latter keeps the parent's peak across fork and exec.
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
seconds = round(time.perf_counter() - started, 2)
print(json.dumps({"rows": rows, "seconds": seconds, "peak_mb": round(peak_kb / 1024, 1)}))
"""


def roster(rows: int) -> bytes:
    given = "明华强伟芳娜敏静丽军洋勇艳杰娟涛超秀霞平刚桂英"
    lines = [HOUSEHOLD[0]]
    for n in range(rows):
        born = date(2012, 1, 1) + timedelta(days=n % 3000)
        male = n % 2 == 0
        name = "张" + given[n % len(given)] + given[n // len(given) % len(given)]
        nid = national_id("532329", born, n // 3000, male)
        lines.append([name, "男" if male else "女", nid, born.isoformat(), "532329101201", "532329101201"])
    return shared_strings_xlsx(lines)


def measure(path: Path, reader: str) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", READ, str(path), reader], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return dict(json.loads(done.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        workbooks = {
            f"roster of {args.rows:,} rows": roster(args.rows),
            f"one name repeated {args.repeats:,} times": shared_strings_xlsx(HOUSEHOLD, padding=args.repeats),
        }
        print("| workbook | file | reader | rows | seconds | peak RSS |")
        print("|---|---:|---|---:|---:|---:|")
        for label, data in workbooks.items():
            path = Path(folder) / "book.xlsx"
            path.write_bytes(data)
            for reader in ("disk", "disk, no ratio rule", "openpyxl-list"):
                log(f"{label}: {reader}")
                result = measure(path, reader)
                size = f"{len(data) / 1024:,.0f} KB"
                rows = f"{result['rows']:,}" if isinstance(result["rows"], int) else str(result["rows"])
                cells = [label, size, reader, rows, f"{result['seconds']} s", f"{result['peak_mb']} MB"]
                print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
