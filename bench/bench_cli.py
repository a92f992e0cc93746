"""Whole-process wall time of the commands people type, start-up included (issue 13).

Each case is a fresh process (subprocess), run several times; the table shows the median and the
peak resident memory of that process. The ledger has 2,000 rows (``--quick``: 300 rows and fewer
repeats). Targets on the development machine: ``--help`` < 0.3 s, ``check`` and ``deadlines``
< 1.5 s, ``report`` < 2 s; they are printed beside the time, never asserted.

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


def run(quick: bool = False) -> list[dict]:
    n = 300 if quick else 2_000
    repeats = 2 if quick else 7
    ledger = str(ledger_file(n))
    xf = _xfsheets()
    out: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(10_000))
        cases = [
            ("python -c pass", lambda: [sys.executable, "-c", "pass"]),
            ('python -c "import pandas"', lambda: [sys.executable, "-c", "import pandas"]),
            ("--help", lambda: [*xf, "--help"]),
            ("inspect", lambda: [*xf, "inspect", ledger]),
            ("check", lambda: [*xf, "check", ledger]),
            ("deadlines --json", lambda: [*xf, "deadlines", ledger, "--json", "--as-of", "2026-11-25"]),
            ("report", lambda: [*xf, "report", ledger, "-o", str(Path(tmp) / f"report{next(counter)}.xlsx"),
                                "--as-of", "2026-11-25"]),
        ]
        for case, argv in cases:
            runs = [_once(argv(), tmp) for _ in range(repeats)]
            seconds = statistics.median(r[0] for r in runs)
            peak = max(r[1] for r in runs)
            target = TARGETS.get(case)
            note = f"median of {repeats}"
            if target is not None:
                note += f"; target < {target} s: {'ok' if seconds < target else 'OVER'}"
            label = f"cli {n:,} rows" if case not in ("python -c pass", 'python -c "import pandas"', "--help") \
                else "cli start-up"
            out.append(row(label, case, seconds, None, peak, note))
    return out
