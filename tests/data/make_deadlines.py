"""Build tests/data/deadlines/: small files for the working-day calendar and the deadline columns.

holidays_2027.xlsx   a user holiday file (日期, 类型 休/班, 名称) for a year chinese-calendar 1.11 lacks:
                     2027-01-01 元旦 off, a blank row, 2027-01-04 off, 2027-01-09 (Saturday) 班, plus
                     2026-06-15 off (overrides an ordinary official working day); dates typed as dates
                     and as text; a row "2027年全年" (the whole-year marker) makes 2027 a known year.
holidays_bad.xlsx    row 3 has a 类型 nobody understands (column B).
title_rows.xlsx      a ledger with a title row, a blank row and the header in row 3, as bureaux keep them:
                     row 4 register stage over 劳动节, row 5 handling stage, row 6 closed late, row 7 an
                     acceptance whose 15日 runs into 2027 (unknown as of 2026-11-25).
Run: python tests/data/make_deadlines.py
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl

OUT = Path(__file__).resolve().parent / "deadlines"
D = dt.datetime


def holidays_2027(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "节假日"
    ws.append(["日期", "类型", "名称"])
    ws.append(["2027年全年", "全年", "测试用：本文件列全了 2027 年"])
    ws.append([D(2027, 1, 1), "休", "元旦"])
    ws.append([None, None, None])
    ws.append(["2027-01-04", "休", "元旦补休"])
    ws.append([D(2027, 1, 9), "班", "元旦调休上班"])
    ws.append([D(2026, 6, 15), "休", "本地假日"])
    for row in ws.iter_rows(min_row=2, max_col=1):
        row[0].number_format = "yyyy-mm-dd"
    wb.save(path)


def holidays_bad(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["日期", "类型", "名称"])
    ws.append(["2027-01-01", "休", "元旦"])
    ws.append(["2027-02-06", "半天", "春节"])
    wb.save(path)


def title_rows(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "信访台账"
    ws.append(["某县信访事项登记台账（2026年）"])
    ws.merge_cells("A1:H1")
    ws.append([])
    ws.append(["信访件编号", "登记日期", "信访人", "责任单位", "交办日期", "受理日期", "办理状态", "办结日期"])
    ws.append(["T1", D(2026, 4, 20), "钱七", "县住建局", None, None, "待受理", None])
    ws.append(["T2", D(2026, 9, 1), "张三", "县人社局", D(2026, 9, 3), D(2026, 10, 9), "办理中", None])
    ws.append(["T3", D(2026, 3, 1), "李四", "城关镇", D(2026, 3, 2), D(2026, 3, 2), "已办结", D(2026, 5, 20)])
    ws.append(["T4", D(2026, 12, 10), "王五", "县教育局", D(2026, 12, 20), None, "已交办", None])
    for row in ws.iter_rows(min_row=4):
        for cell in row:
            if isinstance(cell.value, dt.datetime):
                cell.number_format = "yyyy-mm-dd"
    ws["A3"].font = openpyxl.styles.Font(bold=True)
    wb.save(path)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    holidays_2027(OUT / "holidays_2027.xlsx")
    holidays_bad(OUT / "holidays_bad.xlsx")
    title_rows(OUT / "title_rows.xlsx")


if __name__ == "__main__":
    main()
