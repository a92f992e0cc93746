"""Build xlsx_templates/台账模板.xlsm: a blank ledger with the xfsheets buttons.

Run: python xlsx_templates/make_ledger_template.py
The template's xlwings.conf names no interpreter: the buttons use the one each PC's
`xfsheets excel addin install` wrote into %USERPROFILE%/.xlwings/xlwings.conf.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

from xfsheets.sample import LABELS_STANDARD
from xfsheets.xlsm import install

HERE = Path(__file__).resolve().parent
WIDTHS = {"信访件编号": 14, "登记日期": 12, "身份证号": 21, "联系电话": 14, "反映问题": 40, "责任单位": 14,
          "办理时限": 12, "交办日期": 12, "受理日期": 12, "办结日期": 12, "办理结果": 30, "住址": 20}


def blank_ledger(path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "信访台账"
    last = len(LABELS_STANDARD)
    ws.cell(1, 1, "信访事项登记台账").font = Font(name="宋体", size=16, bold=True)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last)
    ws.cell(2, 1, "填报单位：              填报日期：")
    side = Side(style="thin")
    for c, label in enumerate(LABELS_STANDARD, 1):
        cell = ws.cell(3, c, label)
        cell.font = Font(name="宋体", bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.border = Border(left=side, right=side, top=side, bottom=side)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[cell.column_letter].width = WIDTHS.get(label, 10)
    ws.freeze_panes = "C4"
    ws.auto_filter.ref = f"A3:{ws.cell(3, last).column_letter}3"
    wb.save(path)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        blank = Path(tmp) / "台账模板.xlsx"
        blank_ledger(blank)
        target = HERE / "台账模板.xlsm"
        target.unlink(missing_ok=True)  # the committed template is rebuilt, not kept
        out = install(blank, target)
    print(out)
