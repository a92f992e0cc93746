"""Build the privacy/mail fixture workbooks in tests/data/privacy/ (committed with the files).

Each file is named for what it exercises. Run: python tests/data/make_privacy.py

- 汇总报表_含个人信息.xlsx: a small summary report like `xfsheets report` writes: a
  `总体情况` headline sheet (with a bar chart) and a `重复信访` sheet holding identity
  numbers and phones in every form people type them (text, numbers, a float that lost its
  digits, a landline, a typo, inside free text, in a comment and in a formula).
- 汇总报表_无个人信息.xlsx: the same headline sheet and nothing personal.
"""
from __future__ import annotations

from pathlib import Path

import openpyxl
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

OUT = Path(__file__).resolve().parent / "privacy"

HEADLINE = [
    ["指标", "数值", "分子", "分母"],
    ["统计期间", "2026年3月1日至2026年3月31日", None, None],
    ["信访总量（件）", 12, None, None],
    ["信访人次", 30, None, None],
    ["及时受理率", "91.7%", 11, 12],
    ["按期办结率", "80.0%", 4, 5],
    ["满意率", "—", 0, 0],
]

PEOPLE_HEADER = ["信访件编号", "信访人", "身份证号", "联系电话", "反映问题"]
PEOPLE = [
    ["X2026-001", "张三", "450324199001011234", "13812345678", "拖欠工资，联系人手机13987654321"],
    ["X2026-002", "李四", 4.50324199202021e17, 13912345678, "征地补偿"],
    ["X2026-003", "王五", "45032419850303123X", "0773-1234567", "身份证另附：450324198503031231"],
    ["X2026-004", "赵六", "45032419900101123", "07731234567", "物业服务"],  # 17 characters: a typo
    ["X2026-005", "钱七", None, "无", "无"],
]


def _headline(ws) -> None:
    ws["A1"] = "信访工作汇总报表"
    ws["A1"].font = Font(bold=True, size=14)
    for r, row in enumerate(HEADLINE, 3):
        for c, value in enumerate(row, 1):
            cell = ws.cell(r, c, value)
            if r == 3:
                cell.font = Font(bold=True)
                cell.fill = PatternFill("solid", fgColor="DDEBF7")
    ws["A11"] = "3月共受理信访事项12件30人次，及时受理率91.7%（11/12）。"
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 30


def build() -> None:
    OUT.mkdir(parents=True, exist_ok=True)

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "总体情况"
    _headline(ws)
    chart = BarChart()
    chart.title = "按单位"
    chart.add_data(Reference(ws, min_col=3, min_row=7, max_row=8), titles_from_data=False)
    ws.add_chart(chart, "F3")
    people = wb.create_sheet("重复信访")
    for c, label in enumerate(PEOPLE_HEADER, 1):
        people.cell(1, c, label).font = Font(bold=True)
    for r, row in enumerate(PEOPLE, 2):
        for c, value in enumerate(row, 1):
            people.cell(r, c, value)
    people["C3"].number_format = "0"
    people["D3"].number_format = "0"
    people["E3"].comment = Comment("回访电话 13700001111", "经办人")
    people["F2"] = '=CONCATENATE("回访：","13600002222")'
    people.column_dimensions["C"].width = 22
    wb.save(OUT / "汇总报表_含个人信息.xlsx")

    clean = openpyxl.Workbook()
    ws = clean.active
    ws.title = "总体情况"
    _headline(ws)
    clean.save(OUT / "汇总报表_无个人信息.xlsx")


if __name__ == "__main__":
    build()
    print(f"written to {OUT}")
