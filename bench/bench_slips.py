"""Generating 500 交办单 (issue 5): slips per second, against load-fill-save per slip."""
from __future__ import annotations

import datetime as dt

import pandas as pd

from common import OUT, measure, row

AS_OF = dt.date(2026, 11, 25)


def _ledger(n: int):
    from xfsheets.reader import read_ledger
    from xfsheets.sample import write_sample_ledger

    path = OUT / f"slips_{n}.xlsx"
    if not path.exists():
        OUT.mkdir(exist_ok=True)
        # open matters (as of 2026-06-30 nothing has closed yet), ten units, due dates inside 2026
        write_sample_ledger(path, n, seed=5, units=[f"单位{k:02d}" for k in range(10)],
                            start=dt.date(2026, 3, 1), end=dt.date(2026, 6, 20), as_of=dt.date(2026, 6, 30))
    ledger = read_ledger(path)
    # every matter still open, so that each one gets a slip
    ledger.frame["status"] = "办理中"
    ledger.frame["closed_on"] = pd.NaT
    return ledger


def run(quick: bool = False) -> list[dict]:
    from openpyxl import load_workbook

    from xfsheets.slips import generate_slips, template_path

    n = 40 if quick else 500
    ledger = _ledger(n)

    def ours():
        return generate_slips(ledger, OUT / "slips_out", as_of=AS_OF).slips

    def naive():
        tpl = template_path("交办单")
        for k, case in enumerate(ledger.frame["case_id"].head(n // 5)):
            wb = load_workbook(tpl)
            ws = wb.active
            for r in ws.iter_rows():
                for c in r:
                    if isinstance(c.value, str) and "{{case_id}}" in c.value:
                        c.value = c.value.replace("{{case_id}}", str(case))
            wb.save(OUT / f"naive_{k}.xlsx")
        return n // 5

    seconds, peak, made = measure(ours)
    out = [row(f"slips {n}", "xfsheets generate_slips (copy_worksheet per matter, one workbook per unit)",
               seconds, made, peak, f"{made} slips, {made / seconds:.0f} slips/s")]
    seconds, peak, made = measure(naive)
    out.append(row(f"slips {n // 5}", "naive load template, fill, save per slip", seconds, made, peak,
                   f"{made / seconds:.0f} slips/s"))
    return out
