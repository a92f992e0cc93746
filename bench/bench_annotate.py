"""Annotated copies (`check -o`, `deadlines -o`) as whole processes, and what they keep (issue 17).

Each case is a fresh process (as a clerk runs it); the table shows wall time, peak resident
memory and how many of the ledger's package parts came through byte for byte. Sizes: 2,000 and
20,000 rows (``--quick``: 2,000 only); ``--full`` adds 100,000 rows.

The openpyxl path these replaced (load the whole ledger, mark, save) was measured on this machine
before the change, with the same ledger files and commands; its figures are kept in BASELINE
(the 100,000-row figure is issue 17's: 234 s, 2 GB).

    python bench/run.py annotate
    python bench/bench_annotate.py --full
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_cli import _once, _xfsheets  # noqa: E402
from common import ledger_file, row  # noqa: E402

# (command, rows) -> (seconds, peak MiB, parts kept byte-identical "kept/total") of the openpyxl path
# (measured 2026-11-25 on the 2-core development machine, before the package editor replaced it)
BASELINE: dict[tuple[str, int], tuple[float, float, str]] = {
    ("check -o", 2_000): (3.40, 190, "1/9"), ("deadlines -o", 2_000): (3.17, 213, "1/9"),
    ("check -o", 20_000): (21.5, 489, "1/9"), ("deadlines -o", 20_000): (28.9, 583, "1/9"),
    ("deadlines -o", 100_000): (234.0, 2048, "1/9"),  # issue 17's figure (not rerun: 4 minutes)
}


def _kept(src: Path, out: Path) -> str:
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(out) as b:
        theirs = {n: a.read(n) for n in a.namelist()}
        ours = set(b.namelist())
        same = sum(1 for n, data in theirs.items() if n in ours and b.read(n) == data)
    return f"{same}/{len(theirs)}"


def run(quick: bool = False, full: bool = False) -> list[dict]:
    sizes = [2_000] if quick else [2_000, 20_000] + ([100_000] if full else [])
    xf = _xfsheets()
    out: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            ledger = ledger_file(n)
            for command, extra in (("check -o", ["check"]), ("deadlines -o", ["deadlines", "--as-of", "2026-11-25"])):
                target = Path(tmp) / f"{command.split()[0]}_{n}.xlsx"
                repeats = 3 if n <= 2_000 else 2 if n <= 20_000 else 1
                runs = []
                for _ in range(repeats):
                    target.unlink(missing_ok=True)
                    runs.append(_once([*xf, extra[0], str(ledger), *extra[1:], "-o", str(target)], tmp))
                seconds, peak = statistics.median(r[0] for r in runs), max(r[1] for r in runs)
                kept = _kept(ledger, target)
                note = f"median of {repeats}; parts kept {kept}"
                old = BASELINE.get((command, n))
                if old:
                    note += f"; openpyxl path: {old[0]:.1f} s, {old[1]:.0f} MiB, parts kept {old[2]}"
                out.append(row(f"annotate {n:,} rows", command, seconds, n, peak, note))
                target.unlink()
    return out


if __name__ == "__main__":
    from run import print_table

    print_table(run(quick="--quick" in sys.argv, full="--full" in sys.argv))
