"""Writing the 100k-row consolidated table: rustpy-xlsxwriter (ours) vs xlsxwriter vs openpyxl write-only (issue 6)."""
from __future__ import annotations

import datetime

from common import OUT, ledger_file, measure, row


def _frame(rows: int):
    from xfsheets.consolidation import consolidate, consolidated_frame

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

    def openpyxl_write_only():
        import openpyxl
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font, PatternFill

        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet("汇总台账")
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{openpyxl.utils.get_column_letter(frame.shape[1])}{len(frame) + 1}"
        bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
        header = []
        for name in frame.columns:
            cell = WriteOnlyCell(ws, value=name)
            cell.font, cell.fill = bold, fill
            header.append(cell)
        ws.append(header)
        values = frame.astype(object).where(frame.notna(), None)
        for record in values.itertuples(index=False):
            out = []
            for v in record:
                if isinstance(v, datetime.datetime):
                    v = WriteOnlyCell(ws, value=v)
                    v.number_format = "yyyy-mm-dd"
                out.append(v)
            ws.append(out)
        wb.save(OUT / "w_openpyxl.xlsx")

    out = []
    for case, fn, note in [("xfsheets write_tables (rustpy-xlsxwriter)", ours, "header style, widths, dates, freeze, filter"),
                           ("pandas + xlsxwriter", xlsxwriter, "dates, freeze, filter"),
                           ("openpyxl write-only", openpyxl_write_only, "header style, dates, freeze, filter")]:
        seconds, peak, _ = measure(fn)
        out.append(row(label, case, seconds, rows, peak, note))
    return out
