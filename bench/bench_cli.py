"""Whole-process wall time of the commands people type, start-up included (issues 13, 17).

Each case is a fresh process (subprocess), run several times; the table shows the median and the
peak resident memory of that process, and each command's time as a ratio to a raw fastexcel read
of the same file in a fresh process (interpreter start + import + read to Arrow: the least any
command that reads the ledger can cost).

Two sizes. 2,000 rows (``--quick``: 300 rows, fewer repeats), with start-up targets: ``--help``
< 0.3 s, ``check`` and ``deadlines`` < 1.5 s, ``report`` < 2 s. 100,000 rows (full run only, never
in ``--quick``): every command that reads a ledger with ``--json`` and with ``-o``; targets
``check --json``, ``deadlines --json`` and ``report`` within 2x of the raw read, ``-o`` copies within
2x of it too. Targets are printed beside the time, never asserted.

    python bench/run.py cli
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ledger_file, row

TARGETS = {"--help": 0.3, "check": 1.5, "deadlines --json": 1.5, "report": 2.0}
# at 100k rows: at most this many times the raw fastexcel read (a whole process)
RATIO_TARGETS = {"check --json": 2.0, "deadlines --json": 2.0, "report -o": 2.0, "check -o": 2.0,
                 "deadlines -o": 2.0}
AS_OF = "2026-11-25"

# The least a command that reads the ledger can cost: start, import, read every cell to Arrow.
_RAW_READ = ("import sys, fastexcel; "
             "fastexcel.read_excel(sys.argv[1]).load_sheet(0, header_row=2).to_arrow()")


def _xfsheets() -> list[str]:
    script = Path(sys.executable).with_name("xfsheets")
    return [str(script)] if script.exists() else [sys.executable, "-m", "xfsheets"]


# Timed from a small launcher process: a child forked from this (large) benchmark process would
# report the parent's resident memory as its own peak.
_LAUNCHER = """
import json, os, subprocess, sys, time
t0 = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
err = proc.stderr.read()
_, status, usage = os.wait4(proc.pid, 0)
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024, "rc": os.waitstatus_to_exitcode(status),
                  "err": err.decode("utf-8", "replace")[-2000:]}))
"""


def _once(argv: list[str], cwd: str) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MiB, exit code) of one process."""
    done = subprocess.run([sys.executable, "-c", _LAUNCHER, *argv], cwd=cwd, capture_output=True, text=True,
                          check=True)
    r = json.loads(done.stdout)
    if r["rc"] not in (0, 1) or "Traceback" in r["err"]:
        raise RuntimeError(f"{' '.join(argv)} failed ({r['rc']}):\n{r['err']}")
    return r["seconds"], r["peak_mb"], r["rc"]


def _case(argv: list[str], cwd: str, repeats: int) -> tuple[float, float]:
    runs = [_once(argv, cwd) for _ in range(repeats)]
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs)


def _small(n: int, repeats: int, xf: list[str], tmp: str) -> list[dict]:
    ledger = str(ledger_file(n))
    counter = iter(range(10_000))
    out: list[dict] = []
    cases = [
        ("python -c pass", lambda: [sys.executable, "-c", "pass"]),
        ('python -c "import pandas"', lambda: [sys.executable, "-c", "import pandas"]),
        ("raw fastexcel read", lambda: [sys.executable, "-c", _RAW_READ, ledger]),
        ("--help", lambda: [*xf, "--help"]),
        ("inspect", lambda: [*xf, "inspect", ledger]),
        ("check", lambda: [*xf, "check", ledger]),
        ("check --json", lambda: [*xf, "check", ledger, "--json"]),
        ("deadlines --json", lambda: [*xf, "deadlines", ledger, "--json", "--as-of", AS_OF]),
        ("report", lambda: [*xf, "report", ledger, "-o", str(Path(tmp) / f"report{next(counter)}.xlsx"),
                            "--as-of", AS_OF]),
    ]
    raw = None
    for case, argv in cases:
        seconds, peak = _case(argv(), tmp, repeats)
        raw = seconds if case == "raw fastexcel read" else raw
        target = TARGETS.get(case)
        note = f"median of {repeats}"
        label = f"cli {n:,} rows" if case not in ("python -c pass", 'python -c "import pandas"', "--help") \
            else "cli start-up"
        if raw and label != "cli start-up" and case != "raw fastexcel read":
            note += f"; {seconds / raw:.1f}x raw read"
        if target is not None:
            note += f"; target < {target} s: {'ok' if seconds < target else 'OVER'}"
        out.append(row(label, case, seconds, None, peak, note))
    return out


def _large(n: int, repeats: int, xf: list[str], tmp: str) -> list[dict]:
    """Every command that reads one ledger, with --json and with -o, at ``n`` rows."""
    ledger = str(ledger_file(n))
    counter = iter(range(10_000))

    def out_file(stem: str, suffix: str = ".xlsx") -> str:
        return str(Path(tmp) / f"{stem}{next(counter)}{suffix}")

    cases = [
        ("python -c pass", lambda: [sys.executable, "-c", "pass"]),
        ("raw fastexcel read", lambda: [sys.executable, "-c", _RAW_READ, ledger]),
        ("inspect --json", lambda: [*xf, "inspect", ledger, "--json"]),
        ("check --json", lambda: [*xf, "check", ledger, "--json"]),
        ("check (text)", lambda: [*xf, "check", ledger]),
        ("check -o", lambda: [*xf, "check", ledger, "-o", out_file("checked")]),
        ("deadlines --json", lambda: [*xf, "deadlines", ledger, "--json", "--as-of", AS_OF]),
        ("deadlines (text)", lambda: [*xf, "deadlines", ledger, "--as-of", AS_OF]),
        ("deadlines -o", lambda: [*xf, "deadlines", ledger, "-o", out_file("deadlines"), "--as-of", AS_OF]),
        ("report -o", lambda: [*xf, "report", ledger, "-o", out_file("report"), "--as-of", AS_OF]),
        ("report -o --json", lambda: [*xf, "report", ledger, "-o", out_file("report"), "--as-of", AS_OF, "--json"]),
        ("consolidate -o --json", lambda: [*xf, "consolidate", ledger, "-o", out_file("consolidated"), "--json"]),
    ]
    out: list[dict] = []
    raw = None
    for case, argv in cases:
        try:
            seconds, peak = _case(argv(), tmp, repeats)
        except RuntimeError as exc:  # a command broken at this run is a line of the table, not the end of it
            why = str(exc).splitlines()
            out.append(row(f"cli {n:,} rows", case, float("nan"), None, None,
                           "FAILED at this run: " + (why[1] if len(why) > 1 else why[0])[:160]))
            print(f"  {case}: failed", file=sys.stderr, flush=True)
            continue
        print(f"  {case}: {seconds:.2f} s", file=sys.stderr, flush=True)
        raw = seconds if case == "raw fastexcel read" else raw
        note = f"median of {repeats}"
        if raw and case not in ("python -c pass", "raw fastexcel read"):
            note += f"; {seconds / raw:.1f}x raw read"
            target = RATIO_TARGETS.get(case)
            if target is not None:
                note += f" (target <= {target:g}x: {'ok' if seconds <= target * raw else 'OVER'})"
        out.append(row(f"cli {n:,} rows", case, seconds, n if case != "python -c pass" else None, peak,
                       note + f"; {peak / n * 1024:.1f} KB/row" if case != "python -c pass" else note))
    return out


def run(quick: bool = False) -> list[dict]:
    xf = _xfsheets()
    with tempfile.TemporaryDirectory() as tmp:
        out = _small(300 if quick else 2_000, 2 if quick else 7, xf, tmp)
        if not quick:  # minutes: the full bench only, never CI's --quick
            out += _large(100_000, 3, xf, tmp)
    return out
