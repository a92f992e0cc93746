"""Run every benchmark (bench/bench_*.py) and print one table.

    python bench/run.py            # full sizes (minutes)
    python bench/run.py --quick    # small sizes, a smoke run
    python bench/run.py read check # only these benchmarks
    python bench/run.py cli        # whole-process times of the commands, start-up included
                                   # (2,000 rows; the full run adds 100,000 rows with ratios to a raw read)
    python bench/run.py consolidate  # whole processes vs the naive loop, and where the time goes

Timings are printed, never asserted: tests do not depend on the machine's speed.
"""
from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="benchmark module suffixes, e.g. read check")
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    args = parser.parse_args(argv)
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if args.names:
        modules = [m for m in modules if m.removeprefix("bench_") in args.names]
    rows, failed = [], []
    for name in modules:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        try:
            rows.extend(importlib.import_module(name).run(quick=args.quick))
        except Exception:
            traceback.print_exc()
            failed.append(name)
    print_table(rows)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def print_table(rows: list[dict]) -> None:
    headers = ["benchmark", "case", "seconds", "rows/s", "peak MB", "note"]
    body = []
    for r in rows:
        body.append([
            r["benchmark"], r["case"], f"{r['seconds']:.3f}",
            f"{r['rows_per_s']:,.0f}" if r.get("rows_per_s") else "",
            f"{r['peak_mb']:.0f}" if r.get("peak_mb") is not None else "",
            r.get("note", ""),
        ])
    widths = [max(_width(str(x)) for x in col) for col in zip(headers, *body)] if body else [len(h) for h in headers]
    line = "| " + " | ".join(_pad(h, w) for h, w in zip(headers, widths)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for b in body:
        print("| " + " | ".join(_pad(str(x), w) for x, w in zip(b, widths)) + " |")


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


if __name__ == "__main__":
    sys.exit(main())
