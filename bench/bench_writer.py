"""Writing the 100k-row consolidated table: rustpy-xlsxwriter (ours) vs xlsxwriter vs openpyxl (issue 6)."""
from __future__ import annotations

from common import OUT, ledger_file, measure, row


def _frame(rows: int):
    from xfsheets.consolidate import consolidate, consolidated_frame

    ledger, _ = consolidate([ledger_file(rows)], jobs=1)
    return consolidated_frame(ledger)


def run(quick: bool = False) -> list[dict]:
    import pandas as pd

    from xfsheets.writer import Table, write_tables

    rows = 2_000 if quick else 100_000
    frame = _frame(rows)
    OUT.mkdir(exist_ok=True)
    label = f"write {rows // 1000}k x {frame.shape[1]}"

    def ours():
        write_tables(OUT / "w_ours.xlsx", [Table("汇总台账", frame)])

    def xlsxwriter():
        with pd.ExcelWriter(OUT / "w_xlsxwriter.xlsx", engine="xlsxwriter",
                            datetime_format="yyyy-mm-dd") as xw:
            frame.to_excel(xw, sheet_name="汇总台账", index=False)
            ws = xw.sheets["汇总台账"]
            ws.freeze_panes(1, 0)
            ws.autofilter(0, 0, len(frame), frame.shape[1] - 1)

    def openpyxl():
        frame.to_excel(OUT / "w_openpyxl.xlsx", sheet_name="汇总台账", index=False, engine="openpyxl")

    out = []
    for case, fn, note in [("xfsheets write_tables (rustpy-xlsxwriter)", ours, "header style, widths, dates, freeze, filter"),
                           ("pandas + xlsxwriter", xlsxwriter, "dates, freeze, filter"),
                           ("pandas + openpyxl", openpyxl, "plain")]:
        seconds, peak, _ = measure(fn)
        out.append(row(label, case, seconds, rows, peak, note))
    return out
