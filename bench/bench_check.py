"""Checking the 100k-row ledger end to end (read + check) against the read alone (issue 3)."""
from __future__ import annotations

from common import ledger_file, measure, row


def run(quick: bool = False) -> list[dict]:
    from xfsheets.checks import check
    from xfsheets.reader import read_ledger

    rows = 2_000 if quick else 100_000
    path = ledger_file(rows)
    label = f"check {rows // 1000}k x 26" if rows >= 1000 else "check"
    read_s, read_peak, _ = measure(lambda: len(read_ledger(path)))
    both_s, both_peak, n = measure(lambda: len(check(read_ledger(path)).findings))
    return [row(label, "read only", read_s, rows, read_peak),
            row(label, "read + check", both_s, rows, both_peak,
                f"check adds {100 * (both_s - read_s) / read_s:.0f}% to the read; {n} findings (1% planted defects)")]
