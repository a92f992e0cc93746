"""Reading hostile workbooks before and after the limits of xfsheets/limits.py (issues 11, 12).

    python bench/bench_hostile.py            # full sizes (a 300 MB zip bomb, a 100k-row ledger)
    python bench/bench_hostile.py --quick    # small sizes, a smoke run

Each file is read by read_ledger in a child process limited to 4 GB of address space
(so "before" cannot take the machine): "before" with the checks switched off (calamine
gets the file as it is), "after" as shipped. Printed: the outcome (rows read, refused,
or how the process died), seconds and peak resident memory of the child. Also run by
bench/run.py (the ``run`` function). Timings are printed, never asserted.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LIMIT_AS = 4 << 30

_CHILD = r"""
import json, resource, sys, time
mode, path = sys.argv[1], sys.argv[2]
import xfsheets.limits as limits
if mode == "before":  # calamine gets the file as it is, and its panics are not caught
    limits.check_workbook = lambda path, source, *a, **k: limits.Plan(source)
    limits.reader_panic = lambda exc, *a, **k: exc
from xfsheets.errors import LedgerReadError
from xfsheets.reader import read_ledger
t0 = time.perf_counter()
try:
    ledger = read_ledger(path)
    outcome = f"{len(ledger)} rows"
    skipped = sum(len(s.skipped) for s in ledger.sources)
except LedgerReadError as exc:
    outcome, skipped = "refused: " + str(exc).split("：", 1)[-1][:24], 0
except MemoryError:
    outcome, skipped = "MemoryError", 0
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"outcome": outcome, "seconds": seconds, "peak_mb": peak}, ensure_ascii=False))
"""


def _limit() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_AS, LIMIT_AS))


def measure(mode: str, path: Path, timeout: float = 600) -> dict:
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-c", _CHILD, mode, str(path)], capture_output=True, text=True,
                              timeout=timeout, preexec_fn=_limit, cwd=ROOT, env={**os.environ, "RUST_BACKTRACE": "0"})
    except subprocess.TimeoutExpired:
        return {"outcome": f"timeout {timeout:.0f}s", "seconds": timeout, "peak_mb": None}
    if proc.returncode == 0 and proc.stdout.strip():
        return json.loads(proc.stdout.strip().splitlines()[-1])
    if proc.returncode < 0:
        how = f"died ({signal.Signals(-proc.returncode).name})"
    else:
        last = (proc.stderr.strip().splitlines() or [""])[-1]
        how = f"crashed: {last.split(':')[0][:40]}"
    return {"outcome": how, "seconds": time.perf_counter() - t0, "peak_mb": None}


def cases(folder: Path, quick: bool) -> list[tuple[str, Path]]:
    sys.path.insert(0, str(ROOT / "tests" / "hostile"))
    import make_bombs
    from xfsheets.sample import write_sample_ledger

    mb = 50 if quick else 300
    rows = 2_000 if quick else 100_000
    return [
        ("dimension bomb .xlsx (2 KB, A1 + XFD1048576)", make_bombs.dimension_bomb(folder / "dimension.xlsx")),
        (f"zip bomb .xlsx ({mb} MB of rows)", make_bombs.zip_bomb(folder / "zip_bomb.xlsx", megabytes=mb)),
        ("far-away cell .xls (IV65536)", make_bombs.far_cell_xls(folder / "far.xls")),
        ("dimension bomb .xlsb (XFD1048576)", make_bombs.xlsb_dimension_bomb(folder / "dimension.xlsb")),
        ("repeat bomb .ods (90 000 rows x 1 000 cols)", make_bombs.ods_repeat_bomb(folder / "repeat.ods")),
        ("panicking .xlsb", make_bombs.panic_xlsb(folder / "panic.xlsb")),
        ("truncated .xlsx", make_bombs.corrupt_zip(folder / "corrupt.xlsx")),
        (f"ordinary ledger ({rows:,} rows, overhead)", write_sample_ledger(folder / "ordinary.xlsx", rows, seed=7)),
        ("same + one value at XFD1048576", make_bombs.with_stray_cell(folder / "ordinary.xlsx", folder / "stray.xlsx")),
        (f"ordinary .xls ({rows // 2:,} rows, overhead)", make_bombs.xls_ledger(folder / "ordinary.xls", rows // 2)),
    ]


def table(quick: bool) -> list[dict]:
    out = []
    with tempfile.TemporaryDirectory(prefix="xfsheets-hostile-") as tmp:
        for name, path in cases(Path(tmp), quick):
            size = path.stat().st_size
            before, after = measure("before", path), measure("after", path)
            out.append({"case": name, "bytes": size, "before": before, "after": after})
            print(f"  {name}: before {before['outcome']}, after {after['outcome']}", file=sys.stderr, flush=True)
    return out


def _fmt(m: dict) -> tuple[str, str, str]:
    peak = f"{m['peak_mb']:.0f}" if m.get("peak_mb") is not None else "—"
    return m["outcome"], f"{m['seconds']:.2f}", peak


def print_table(rows: list[dict]) -> None:
    headers = ["file", "size", "before: outcome", "s", "peak MB", "after: outcome", "s", "peak MB"]
    body = [[r["case"], f"{r['bytes']:,}", *_fmt(r["before"]), *_fmt(r["after"])] for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *body)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for b in body:
        print("| " + " | ".join(str(x).ljust(w) for x, w in zip(b, widths)) + " |")


def run(quick: bool = False) -> list[dict]:
    """Rows for bench/run.py: the "after" measurement, the "before" one in the note."""
    rows = []
    for r in table(quick):
        b = r["before"]
        before = f"before: {b['outcome']}, {b['seconds']:.1f}s" + (f", {b['peak_mb']:.0f} MB" if b.get("peak_mb") else "")
        rows.append({"benchmark": "hostile", "case": r["case"], "seconds": r["after"]["seconds"], "rows_per_s": None,
                     "peak_mb": r["after"]["peak_mb"], "note": f"{r['after']['outcome']} ({before})"})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    args = parser.parse_args(argv)
    print_table(table(args.quick))
    return 0


if __name__ == "__main__":
    sys.exit(main())
