"""Checking the 100k-row ledger end to end (read + check) against the read alone (issue 3).

Read and check are timed inside the same forked child, so the overhead ratio is not skewed by
load from other processes between two separate runs (the machine is shared).
"""
from __future__ import annotations

import time

from common import ledger_file, measure, row


def _read_then_check(path):
    from xfsheets.checks import check
    from xfsheets.reader import read_ledger

    t0 = time.perf_counter()
    ledger = read_ledger(path)
    t1 = time.perf_counter()
    report = check(ledger)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, len(report.findings)


def run(quick: bool = False) -> list[dict]:
    rows = 2_000 if quick else 100_000
    path = ledger_file(rows)
    label = f"check {rows // 1000}k x 26"
    total_s, peak, (read_s, check_s, n) = measure(lambda: _read_then_check(path))
    return [row(label, "read only", read_s, rows, None, "same run as the check below"),
            row(label, "check only", check_s, rows, None, f"{n} findings (1% planted defects)"),
            row(label, "read + check", total_s, rows, peak,
                f"check adds {100 * check_s / read_s:.0f}% to the read")]
