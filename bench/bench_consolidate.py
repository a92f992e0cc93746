"""Consolidating unit workbooks x 1,000 rows vs a naive pandas loop, as whole processes (issues 6, 17).

For each size (50 and 200 files; ``--quick``: 6 x 200): ``xfsheets consolidate FOLDER -o OUT --json``
and a naive script (read_excel(openpyxl) + concat + to_excel) are each timed as a fresh process,
start-up included (goal: at least 10x the naive loop). Then where the time goes, step by step in
one process: imports, discovery, the pool's start-up, reading (map), concatenation, de-duplication,
the 汇总台账 frame and the styled write.
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time

from common import OUT, row

# The loop people write first: no header detection, no provenance, no duplicate flags.
_NAIVE = """
import sys, pandas as pd
from pathlib import Path
frames = [pd.read_excel(p, engine="openpyxl", header=2) for p in sorted(Path(sys.argv[1]).glob("*.xlsx"))]
pd.concat(frames, ignore_index=True).to_excel(sys.argv[2], index=False)
"""


def unit_folder(files: int, rows: int):
    """``files`` unit workbooks with the three header layouts, cached in bench/out/."""
    from xfsheets.sample import UNITS, write_sample_ledger

    folder = OUT / f"units_{files}x{rows}"
    done = folder / ".complete"
    if not done.exists():
        folder.mkdir(parents=True, exist_ok=True)
        for k in range(files):
            unit = f"{UNITS[k % len(UNITS)]}{k:03d}"
            write_sample_ledger(folder / f"{unit}.xlsx", rows, seed=k, unit=unit, header_variant=k % 3,
                                prefix=f"U{k:03d}-")
        done.write_text("ok")
    return folder


def stages(folder, jobs: int, out_path) -> list[tuple[str, float]]:
    """Seconds of each step of a consolidation, in this process (imports timed cold only when
    this is the first import of the library in the process)."""
    t = time.perf_counter()
    from concurrent.futures import ProcessPoolExecutor

    import xfsheets.consolidation as c
    from xfsheets.ledger import Ledger
    from xfsheets.limits import worker_memory
    from xfsheets.writer import Table, write_tables

    marks = [("imports", time.perf_counter() - t)]

    def step(name, fn):
        t0 = time.perf_counter()
        value = fn()
        marks.append((name, time.perf_counter() - t0))
        return value

    files, ignored = step("discover (folder walk, output stamps)", lambda: c.discover([folder]))
    args = [(str(p), None, None, None) for p in files]

    def spin_up():  # what a pool costs before it reads anything: fork + worker set-up
        with ProcessPoolExecutor(max_workers=jobs, initializer=c._worker_init, initargs=(worker_memory(jobs),)) as pool:
            list(pool.map(abs, range(jobs)))

    step(f"pool start-up ({jobs} workers, fork + limits)", spin_up)
    results = step(f"read (map, {jobs} workers; includes a pool start-up)", lambda: c._read_in_pool(args, jobs, None)
                   if jobs > 1 else [c.read_one(*a) for a in args])
    ledger = step("concatenate", lambda: Ledger.concat([l for _, l in results if l is not None]))
    dups = step("de-duplicate (find_duplicates)", lambda: c.find_duplicates(ledger))
    report = c.ImportReport(files=[r for r, _ in results], ignored=ignored, rows_in=len(ledger), rows_out=len(ledger),
                            duplicates=dups)
    frame = step("汇总台账 frame", lambda: c.consolidated_frame(ledger))
    step("styled write (write_tables, 3 sheets)", lambda: write_tables(out_path, [
        Table("汇总台账", frame, widths={"反映问题": 40}), Table("导入情况", c.import_frame(report), widths={"原因": 60}),
        Table("重复记录", report.duplicates)]))
    return marks


def _stages_fresh(folder, jobs, out_path) -> list[tuple[str, float]]:
    """stages() in a fresh interpreter, so that imports are cold and the pool forks a process
    that is as small as the command's."""
    import json
    import subprocess

    done = subprocess.run([sys.executable, __file__, str(folder), str(jobs), str(out_path)], capture_output=True,
                          text=True, check=True)
    return [tuple(m) for m in json.loads(done.stdout)]


def run(quick: bool = False) -> list[dict]:
    from bench_cli import _once, _xfsheets

    sizes = [(6, 200)] if quick else [(50, 1_000), (200, 1_000)]
    cpus = os.cpu_count() or 1
    xf = _xfsheets()
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for files, rows in sizes:
            folder = unit_folder(files, rows)
            total = files * rows
            label = f"consolidate {files} x {rows:,}"
            repeats = 2 if quick else 3
            naive_repeats = 1 if quick or files > 50 else 2
            ours = [_once([*xf, "consolidate", str(folder), "-o", os.path.join(tmp, f"c{files}_{k}.xlsx"), "--json"], tmp)
                    for k in range(repeats)]
            naive = [_once([sys.executable, "-c", _NAIVE, str(folder), os.path.join(tmp, f"n{files}_{k}.xlsx")], tmp)
                     for k in range(naive_repeats)]
            ours_s, naive_s = statistics.median(r[0] for r in ours), statistics.median(r[0] for r in naive)
            speedup = naive_s / ours_s
            out.append(row(label, f"xfsheets consolidate --json (whole process, --jobs {cpus})", ours_s, total,
                           max(r[1] for r in ours),
                           f"median of {repeats}; {speedup:.1f}x faster than naive (goal >= 10x: "
                           f"{'ok' if speedup >= 10 else 'not met'}); peak MB: parent process only"))
            out.append(row(label, "naive read_excel(openpyxl)+concat+to_excel (whole process)", naive_s, total,
                           max(r[1] for r in naive), f"median of {naive_repeats}; no header detection: "
                                                     "two-row headers come out wrong"))
            marks = _stages_fresh(folder, cpus, os.path.join(tmp, f"stages{files}.xlsx"))
            spent = sum(s for name, s in marks if not name.startswith("pool start-up"))
            for name, seconds in marks:
                out.append(row(label, f"  step: {name}", seconds, None, None,
                               f"{seconds / spent:.0%} of the steps" if not name.startswith("pool start-up")
                               else "measured apart (an empty pool), also inside read"))
    return out


if __name__ == "__main__":  # python bench_consolidate.py FOLDER JOBS OUT: the steps as JSON (see _stages_fresh)
    import json

    print(json.dumps(stages(sys.argv[1], int(sys.argv[2]), sys.argv[3])))
