"""Build the reader's fixture ledgers in tests/data/reader/ (committed with the files).

Each file is named for what it exercises. Run: python tests/data/make_reader.py
"""
from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font

OUT = Path(__file__).resolve().parent / "reader"
PASSWORD = "xf2026"

HEADER = ["序号", "信访件编号", "登记日期", "信访人", "联系电话", "反映问题", "责任单位", "办理状态"]
ROWS = [
    [1, "X2026-001", dt.datetime(2026, 3, 2), "张三", "13812345678", "反映拖欠工资", "县人社局", "办理中"],
    [2, "X2026-002", dt.datetime(2026, 3, 5), "李四", "13912345678", "征地补偿未到位", "城关镇", "已办结"],
    [3, "X2026-003", dt.datetime(2026, 3, 9), "王五", "0773-1234567", "物业服务不到位", "县住建局", "已受理"],
]


def _book(title: str = "台账"):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    return wb, ws


def _table(ws, header, rows, start_row=1):
    for c, label in enumerate(header, 1):
        ws.cell(start_row, c, label).font = Font(bold=True)
    for r, row in enumerate(rows, start_row + 1):
        for c, value in enumerate(row, 1):
            cell = ws.cell(r, c, value)
            if isinstance(value, dt.datetime):
                cell.number_format = "yyyy-mm-dd"


def simple(path):
    wb, ws = _book()
    _table(ws, HEADER, ROWS)
    wb.save(path)


def title_rows(path):
    wb, ws = _book("信访台账")
    ws["A1"] = "XX县信访局信访事项登记台账"
    ws["A1"].font = Font(bold=True, size=16)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.merge_cells("A1:H1")
    ws["A2"] = "填报单位：XX县信访局"
    ws["F2"] = "填报日期：2026年3月10日"
    _table(ws, HEADER, ROWS, start_row=3)
    wb.save(path)


def two_row_header(path):
    """信访人 merged over 姓名 | 身份证号码 | 联系电话; single columns merged vertically."""
    wb, ws = _book()
    ws["A1"] = "信访事项台账（2026年）"
    ws.merge_cells("A1:I1")
    top = ["序号", "信访件编号", "登记日期", "信访人", None, None, "反映问题", "责任单位", "办理状态"]
    for c, label in enumerate(top, 1):
        if label:
            ws.cell(2, c, label)
    for c, label in zip((4, 5, 6), ("姓名", "身份证号码", "联系电话")):
        ws.cell(3, c, label)
    ws.merge_cells("D2:F2")
    for col in "ABCGHI":
        ws.merge_cells(f"{col}2:{col}3")
    data = [
        [1, "X2026-101", dt.datetime(2026, 4, 1), "赵六", "450324199001011234", "13812345678", "拖欠工资", "县人社局", "办理中"],
        [2, "X2026-102", dt.datetime(2026, 4, 2), "钱七", "11010519491231002X", "13712345678", "宅基地纠纷", "河西镇", "已交办"],
    ]
    for r, row in enumerate(data, 4):
        for c, v in enumerate(row, 1):
            ws.cell(r, c, v)
    wb.save(path)


DATE_FORMS = [
    # (as typed, what it means, note)
    (dt.datetime(2026, 3, 5), "2026-03-05", "real Excel date"),
    (46086, "2026-03-05", "serial number in a General cell"),
    ("2026.3.5", "2026-03-05", "dots"),
    ("2026/03/05", "2026-03-05", "slashes"),
    ("2026-03-05", "2026-03-05", "ISO text"),
    ("2026年3月5日", "2026-03-05", "Chinese"),
    ("20260305", "2026-03-05", "compact text"),
    (20260305, "2026-03-05", "compact number"),
    ("２０２６年３月５日", "2026-03-05", "full-width digits"),
    ("2026-03-05 14:30", "2026-03-05", "with a time"),
    ("2026.13.05", None, "month 13"),
    ("2月30日", None, "no year, no such day"),
    ("2026-02-29", None, "2026 is not a leap year"),
    ("待定", None, "not a date"),
]


def date_forms(path):
    wb, ws = _book()
    _table(ws, ["信访件编号", "登记日期", "信访人", "反映问题", "说明"], [])
    for r, (value, _, note) in enumerate(DATE_FORMS, 2):
        ws.cell(r, 1, f"D-{r - 1:02d}")
        cell = ws.cell(r, 2, value)
        if isinstance(value, dt.datetime):
            cell.number_format = "yyyy-mm-dd"
        ws.cell(r, 3, "测试人")
        ws.cell(r, 4, "日期写法")
        ws.cell(r, 5, note)
    wb.save(path)


def label_variants(path):
    """Line breaks, spaces, full-width characters, asterisks, synonyms, bracketed hints."""
    wb, ws = _book()
    header = ["序 号", "信访\n编号", "来信来访日期（年月日）", "＊信访人姓名", "手机号码", "主要诉求", " 承办单位 ", "办理进度"]
    _table(ws, header, ROWS)
    wb.save(path)


def blank_and_total_rows(path):
    wb, ws = _book()
    rows = [ROWS[0], [None] * 8, ROWS[1], ["", "  ", None, None, None, None, None, None], ROWS[2],
            ["合计", None, None, None, None, "3件", None, None], [None] * 8,
            ["填表人：王某", None, None, None, "审核人：李某", None, None, None]]
    _table(ws, HEADER, rows)
    wb.save(path)


def second_sheet(path):
    wb, ws = _book("填表说明")
    ws["A1"] = "填表说明"
    ws["A2"] = "1. 登记日期请按 2026-03-05 格式填写。"
    ws["A3"] = "2. 身份证号请设置为文本格式。"
    ledger = wb.create_sheet("台账")
    _table(ledger, HEADER, ROWS)
    wb.save(path)


def unmapped_columns(path):
    wb, ws = _book()
    header = HEADER + ["是否重点", "化解措施", None, "序号"]
    rows = [row + ["是", "约谈", None, "x"] for row in ROWS]
    _table(ws, header, rows)
    wb.save(path)


def duplicate_field(path):
    wb, ws = _book()
    header = ["编号", "信访件编号", "登记日期", "信访人", "反映问题", "责任单位"]
    _table(ws, header, [["1", "X-1", dt.datetime(2026, 3, 2), "张三", "问题", "县人社局"]])
    wb.save(path)


def empty_ledger(path):
    wb, ws = _book()
    ws["A1"] = "城关镇信访事项台账"
    _table(ws, HEADER, [], start_row=2)
    wb.save(path)


def no_ledger(path):
    wb, ws = _book("Sheet1")
    _table(ws, ["品名", "数量", "单价"], [["纸", 10, 2.5], ["笔", 3, 1.0]])
    wb.save(path)


def legacy_xls(path):
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet("台账")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for c, label in enumerate(HEADER):
        ws.write(0, c, label)
    for r, row in enumerate(ROWS, 1):
        for c, value in enumerate(row):
            if isinstance(value, dt.datetime):
                ws.write(r, c, value, date_style)
            else:
                ws.write(r, c, value)
    book.save(str(path))


def encrypted(path):
    import msoffcrypto.format.ooxml

    plain = io.BytesIO()
    wb, ws = _book()
    _table(ws, HEADER, ROWS)
    wb.save(plain)
    plain.seek(0)
    with open(path, "wb") as out:
        msoffcrypto.format.ooxml.OOXMLFile(plain).encrypt(PASSWORD, out)


def corrupt(path):
    buf = io.BytesIO()
    wb, ws = _book()
    _table(ws, HEADER, ROWS)
    wb.save(buf)
    data = buf.getvalue()
    path.write_bytes(data[: len(data) // 2])  # a download that stopped half way


def not_a_workbook(path):
    path.write_text("<html><body>这是一个网页，不是 Excel 文件</body></html>", encoding="utf-8")


FIXTURES = {
    "simple.xlsx": simple,
    "title_rows.xlsx": title_rows,
    "two_row_header.xlsx": two_row_header,
    "date_forms.xlsx": date_forms,
    "label_variants.xlsx": label_variants,
    "blank_and_total_rows.xlsx": blank_and_total_rows,
    "second_sheet.xlsx": second_sheet,
    "unmapped_columns.xlsx": unmapped_columns,
    "duplicate_field.xlsx": duplicate_field,
    "empty_ledger.xlsx": empty_ledger,
    "no_ledger.xlsx": no_ledger,
    "legacy.xls": legacy_xls,
    "encrypted.xlsx": encrypted,
    "corrupt.xlsx": corrupt,
    "not_a_workbook.xlsx": not_a_workbook,
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, build in FIXTURES.items():
        build(OUT / name)
        print(OUT / name)


if __name__ == "__main__":
    main()
