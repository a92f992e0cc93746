"""The history store (issue 23): whole processes of `history record` and `changes`, with CPU seconds.

- record a ledger of N matters, then the same ledger sorted and changed in 5% of its rows: wall and CPU
  seconds of the second record, and the bytes the store grew by per unchanged matter;
- `changes --json` between those two snapshots.
Full sizes: 10,000 matters for record, 100,000 for changes; --quick: 2,000 and 5,000.
"""
from __future__ import annotations

import datetime as dt
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import row

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import history_sim  # noqa: E402


def _timed(args: list[str]) -> tuple[float, float]:
    """(wall, CPU seconds of the child) of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "xfsheets", *args], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise RuntimeError(done.stderr[-2000:])
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _two_snapshots(work: Path, size: int) -> tuple[list[dict], int]:
    rng = random.Random(size)
    day = dt.date(2026, 11, 2)
    sim = history_sim.start(rng, size, day)
    ledger = work / "台账.xlsx"
    store = work / "历史.sqlite"
    history_sim.write(sim, ledger, day)
    first = _timed(["history", "record", str(ledger), "--store", str(store), "--as-of", day.isoformat()])
    size1 = store.stat().st_size
    changed = rng.sample(sim.rows, size // 20)  # 5% of the rows change
    for r in changed:
        r["summary"] += "（已核实）"
    rng.shuffle(sim.rows)
    day2 = day + dt.timedelta(days=1)
    history_sim.write(sim, ledger, day2)
    second = _timed(["history", "record", str(ledger), "--store", str(store), "--as-of", day2.isoformat()])
    grown = store.stat().st_size - size1
    changes = _timed(["changes", "--json", "--store", str(store)])
    unchanged = size - len(changed)
    return [
        row("history", f"record {size:,} matters (first)", first[0], size, note=f"CPU {first[1]:.2f} s"),
        row("history", f"record {size:,} matters, 5% changed", second[0], size,
            note=f"CPU {second[1]:.2f} s; store +{grown / unchanged:.0f} B per unchanged matter"),
        row("history", f"changes --json on {size:,} matters", changes[0], size, note=f"CPU {changes[1]:.2f} s"),
    ], grown


def run(quick: bool = False) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="xfsheets-bench-history-") as tmp:
        for size in ((2_000,) if quick else (10_000, 100_000)):
            folder = Path(tmp) / str(size)
            folder.mkdir()
            rows += _two_snapshots(folder, size)[0]
    return rows


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    from run import print_table

    print_table(run(quick="--quick" in sys.argv))
