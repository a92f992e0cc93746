"""Consolidating 200 unit workbooks x 1,000 rows end to end vs a naive pandas loop (issue 6)."""
from __future__ import annotations

import os

from common import OUT, measure, row


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


def run(quick: bool = False) -> list[dict]:
    files, rows = (6, 200) if quick else (200, 1_000)
    folder = unit_folder(files, rows)
    total = files * rows
    label = f"consolidate {files} x {rows}"

    def ours(jobs):
        from xfsheets.consolidation import consolidate, write_consolidated

        ledger, report = consolidate([folder], jobs=jobs)
        write_consolidated(ledger, report, OUT / "consolidated.xlsx")
        return report.rows_out

    def naive():
        import pandas as pd

        frames = [pd.read_excel(p, engine="openpyxl", header=2) for p in sorted(folder.glob("*.xlsx"))]
        pd.concat(frames, ignore_index=True).to_excel(OUT / "naive.xlsx", index=False)
        return sum(len(f) for f in frames)

    out = []
    cpus = os.cpu_count() or 1
    for case, fn, note in [(f"xfsheets consolidate --jobs {cpus}", lambda: ours(cpus), "read+map+dedupe+styled write; peak MB: parent process only"),
                           ("xfsheets consolidate --jobs 1", lambda: ours(1), ""),
                           ("naive read_excel(openpyxl)+concat+to_excel", naive,
                            "no header detection: two-row headers come out wrong")]:
        seconds, peak, n = measure(fn)
        out.append(row(label, case, seconds, total, peak, note + (f"; {n} rows" if n else "")))
    return out
