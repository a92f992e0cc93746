"""Build tests/data/checks/: ledgers with planted defects of every finding code, clean rows around them.

EXPECTED lists every (row, column, code) the checker must report for defects.xlsx, and
nothing else. Run: python tests/data/make_checks.py
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

OUT = Path(__file__).resolve().parent / "checks"
HEADER = ["信访件编号", "登记日期", "信访形式", "信访人", "身份证号", "联系电话", "问题类别", "反映问题", "责任单位",
          "交办日期", "受理日期", "延期天数", "办理状态", "办结日期", "办理结果"]
D = dt.datetime


def with_check_digit(body17: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body17 + "10X98765432"[sum(int(c) * w for c, w in zip(body17, weights)) % 11]


GOOD_ID = with_check_digit("45032419900101123")
X_ID = with_check_digit("11010519491231002")  # ends in X
WRONG_SUM = GOOD_ID[:17] + ("0" if GOOD_ID[17] != "0" else "1")


def row(case, **kw):
    base = {"信访件编号": case, "登记日期": D(2026, 3, 2), "信访形式": "来访", "信访人": "张三", "身份证号": GOOD_ID,
            "联系电话": "13812345678", "问题类别": "劳动社保", "反映问题": "拖欠工资", "责任单位": "县人社局",
            "交办日期": D(2026, 3, 3), "受理日期": D(2026, 3, 5), "延期天数": None, "办理状态": "办理中",
            "办结日期": None, "办理结果": None}
    base.update(kw)
    return [base[h] for h in HEADER]


ROWS = [
    row("C-02"),
    row("C-03", 信访人="   "),
    row("C-04", 办理状态="已办结", 办结日期=D(2026, 4, 1), 办理结果="已答复"),
    row("C-05", 登记日期="2026.13.05"),
    row("C-06", 受理日期="2月30日"),
    row("C-07", 联系电话="0773-1234567", 身份证号=X_ID),
    row("C-08", 办理状态="已办结", 办结日期=D(2026, 3, 4), 办理结果="已答复"),
    row("C-09", 身份证号=WRONG_SUM),
    row("C-10", 身份证号=float(GOOD_ID)),
    row("C-11", 联系电话="1381234567"),
    row("C-12", 办理状态="挂账"),
    row("C-13"),
    row("C-13", 信访人="李四"),
    row("C-15", 延期天数=45, 办理状态="延期办理"),
    row("C-16", 办理状态="已办结"),
    row("C-17", 受理日期=None),
    row("C-18", 身份证号=GOOD_ID[:17]),
    row("C-19", 身份证号=with_check_digit("45032419901301123")),
    row("C-20", 联系电话="13812345678、0771-5556666", 延期天数=30, 办理状态="延期办理"),
    row("C-21", 登记日期="2026年3月2日", 交办日期="20260303", 受理日期=46086),
]
EXPECTED = {
    (3, "D", "required_missing"),
    (5, "B", "bad_date"),
    (6, "K", "bad_date"),
    (8, "N", "date_order"),
    (9, "E", "bad_id_number"),
    (10, "E", "id_number_as_number"),
    (11, "F", "bad_phone"),
    (12, "M", "unknown_value"),
    (13, "A", "duplicate_case_id"),
    (14, "A", "duplicate_case_id"),
    (15, "L", "extension_too_long"),
    (16, "N", "required_missing"),
    (16, "O", "required_missing"),
    (17, "K", "required_missing"),
    (18, "E", "bad_id_number"),
    (19, "E", "bad_id_number"),
}


def main() -> None:
    from fixture_tools import table_workbook  # this folder; the tests import EXPECTED without it

    OUT.mkdir(parents=True, exist_ok=True)
    wb, ws = table_workbook(HEADER, ROWS)
    ws["E11"].number_format = "0"  # the ID typed as a number, as Excel would store it
    ws.column_dimensions["H"].width = 30
    wb.save(OUT / "defects.xlsx")

    wb, _ = table_workbook([h for h in HEADER if h != "责任单位"],
                           [[v for h, v in zip(HEADER, row("M-1")) if h != "责任单位"]])
    wb.save(OUT / "missing_unit_column.xlsx")


if __name__ == "__main__":
    main()
