"""The summary report for a 100k-row ledger (issue 7): figures, then the workbook."""
from __future__ import annotations

import datetime as dt

from common import OUT, ledger_file, measure, row


def run(quick: bool = False) -> list[dict]:
    from xfsheets.reader import read_ledger
    from xfsheets.report import write_report
    from xfsheets.summary import compute_summary

    rows = 2_000 if quick else 100_000
    ledger = read_ledger(ledger_file(rows))
    as_of = dt.date(2026, 11, 25)
    seconds, peak, summary = measure(lambda: compute_summary(ledger, as_of=as_of))
    out = [row(f"report {rows // 1000}k", "compute_summary (deadlines + every figure)", seconds, rows, peak)]
    seconds, peak, _ = measure(lambda: str(write_report(summary, OUT / "report.xlsx")))
    out.append(row(f"report {rows // 1000}k", "write_report (masked, charts)", seconds, rows, peak,
                   f"{summary.totals['overdue']} overdue rows listed"))
    return out
