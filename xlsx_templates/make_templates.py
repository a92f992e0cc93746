"""Build the slip templates 交办单.xlsx and 督办单.xlsx (run: python xlsx_templates/make_templates.py).

They are ordinary workbooks: a clerk may move the ``{{field}}`` placeholders, restyle the
form or change the wording in Excel/WPS, and xfsheets fills whatever placeholders it finds.
"""
from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side

from xfsheets.writer import page_setup_openpyxl

HERE = Path(__file__).resolve().parent
# One size for every label and value (公文: 黑体 labels, 仿宋 text), a larger title.
TITLE_FONT = Font(name="方正小标宋简体", size=22)  # Excel/WPS fall back to 宋体 when absent
LABEL_FONT = Font(name="黑体", size=14)
BODY_FONT = Font(name="仿宋", size=14)
SMALL = BODY_FONT
SIDE = Side(style="thin", color="000000")
BOX = Border(left=SIDE, right=SIDE, top=SIDE, bottom=SIDE)
WRAP = Alignment(wrap_text=True, vertical="center")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
WIDTHS = {"A": 15, "B": 27, "C": 15, "D": 27}  # about 17 cm: fits A4 portrait with 2 cm margins


def _sheet(title: str):
    wb = Workbook()
    ws = wb.active
    ws.title = "模板"
    for col, width in WIDTHS.items():
        ws.column_dimensions[col].width = width
    page_setup_openpyxl(ws, "form", header_row=None)  # A4 portrait, one page (xfsheets.writer.PAGE_SETUP)
    ws.sheet_view.showGridLines = False
    ws["A1"] = title
    ws["A1"].font = TITLE_FONT
    ws["A1"].alignment = CENTER
    ws.merge_cells("A1:D1")
    ws.row_dimensions[1].height = 48
    return wb, ws


def _pair_row(ws, row: int, left: tuple[str, str], right: tuple[str, str] | None, height: float = 30) -> None:
    cells = [left[0], left[1]] + (list(right) if right else ["", ""])
    for col, value in zip("ABCD", cells):
        cell = ws[f"{col}{row}"]
        cell.value = value or None
        cell.border = BOX
        cell.font = LABEL_FONT if col in "AC" else BODY_FONT
        cell.alignment = CENTER if col in "AC" else WRAP
    if right is None:
        ws.merge_cells(f"B{row}:D{row}")
    ws.row_dimensions[row].height = height


def _text_row(ws, row: int, label: str, text: str, height: float) -> None:
    _pair_row(ws, row, (label, text), None, height)
    ws[f"B{row}"].alignment = Alignment(wrap_text=True, vertical="top")


def _footer(ws, row: int) -> None:
    ws[f"A{row}"] = "签发：{{signer}}"
    ws[f"C{row}"] = "联系人及电话：{{contact}}"
    ws[f"A{row + 1}"] = "{{issuing_unit}}"
    ws[f"D{row + 1}"] = "（盖章）"  # the place for the issuing unit's seal
    ws[f"A{row + 2}"] = "{{issued_on}}"  # the slip's date: a 交办单 its 交办日期, a 督办单 the day it is issued
    for r, height in ((row, 30), (row + 1, 56), (row + 2, 30)):  # room for the seal over the 落款
        ws.row_dimensions[r].height = height
    for ref in (f"A{row}", f"C{row}", f"A{row + 1}", f"D{row + 1}", f"A{row + 2}"):
        ws[ref].font = SMALL
        ws[ref].alignment = Alignment(vertical="center")
    ws.merge_cells(f"A{row}:B{row}")
    ws.merge_cells(f"C{row}:D{row}")
    ws[f"A{row + 1}"].alignment = Alignment(horizontal="right", vertical="center")
    ws.merge_cells(f"A{row + 1}:C{row + 1}")
    ws[f"A{row + 2}"].alignment = Alignment(horizontal="right", vertical="center")
    ws.merge_cells(f"A{row + 2}:D{row + 2}")


def _number_row(ws) -> None:
    """Row 2: the slip's number, right-aligned above the table."""
    ws["A2"] = "{{slip_no}}"
    ws["A2"].font = SMALL
    ws["A2"].alignment = Alignment(horizontal="right", vertical="center")
    ws.merge_cells("A2:D2")
    ws.row_dimensions[2].height = 24


def assignment() -> Workbook:
    wb, ws = _sheet("信访事项交办单")
    _number_row(ws)
    _pair_row(ws, 3, ("交办单位", "{{assigning_unit}}"), ("交办日期", "{{assigned_on}}"))
    _pair_row(ws, 4, ("承办单位", "{{unit}}"), ("办理时限", "{{due_on}}"))
    _pair_row(ws, 5, ("信访件编号", "{{case_id}}"), ("登记日期", "{{received_on}}"))
    _pair_row(ws, 6, ("信访人", "{{petitioner}}"), ("联系电话", "{{phone}}"))
    _pair_row(ws, 7, ("信访形式", "{{channel}}"), ("问题类别", "{{category}}"))
    _pair_row(ws, 8, ("住址", "{{address}}"), None)
    _text_row(ws, 9, "反映问题", "{{summary}}", 150)
    _text_row(ws, 10, "交办要求", "请依照《信访工作条例》依法按政策办理，于{{due_on}}前将办理结果及办结报告"
                                 "（含答复意见书送达回证）报送交办单位；确需延期的，请在期限届满前书面申请。", 78)
    _pair_row(ws, 11, ("包案领导", "{{leader}}"), ("责任人", "{{handler}}"))
    _text_row(ws, 12, "备注", "{{notes}}", 40)
    _footer(ws, 14)
    ws.print_area = "A1:D16"
    return wb


def supervision() -> Workbook:
    wb, ws = _sheet("信访事项督办单")
    _number_row(ws)
    _pair_row(ws, 3, ("被督办单位", "{{unit}}"), ("原交办文号", "{{original_no}}"))
    _pair_row(ws, 4, ("信访件编号", "{{case_id}}"), ("登记日期", "{{received_on}}"))
    _pair_row(ws, 5, ("信访人", "{{petitioner}}"), ("联系电话", "{{phone}}"))
    _pair_row(ws, 6, ("原办理时限", "{{due_on}}"), ("超期天数", "{{days_overdue}}"))
    _text_row(ws, 7, "反映问题", "{{summary}}", 120)
    _text_row(ws, 8, "督办事由", "{{reason}}。{{explain}}", 70)
    _text_row(ws, 9, "督办要求", "请接此单后高度重视，由包案领导{{leader}}亲自过问，查明超期原因，依法依规加快办理，"
                                 "于{{feedback_due}}前将办理进展及结果书面反馈；逾期未反馈的，将按规定通报。", 78)
    _pair_row(ws, 10, ("反馈时限", "{{feedback_due}}"), ("责任人", "{{handler}}"))
    _footer(ws, 12)
    ws.print_area = "A1:D14"
    return wb


if __name__ == "__main__":
    assignment().save(HERE / "交办单.xlsx")
    supervision().save(HERE / "督办单.xlsx")
    print(HERE / "交办单.xlsx", HERE / "督办单.xlsx")
