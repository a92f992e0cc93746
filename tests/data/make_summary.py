"""Build tests/data/summary/: small ledgers whose report figures can be computed by hand.

rates.xlsx: period 2026-04-01..04-30, as of 2026-07-15 (see EXPECTED and the comments).
zero.xlsx: 2026-11-20 has a collective visit in 城关镇 and nothing in 县人社局.
Run: python tests/data/make_summary.py
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

OUT = Path(__file__).resolve().parent / "summary"
HEADER = ["信访件编号", "登记日期", "信访形式", "信访人", "身份证号", "联系电话", "人数", "问题类别", "信访性质",
          "反映问题", "责任单位", "包案领导", "交办日期", "受理日期", "办理状态", "办结日期", "满意度", "风险等级"]
D = dt.datetime
ID1 = "450324199001011234"
RATES = [
    # A1 routed in time, closed on time (due 06-08), 满意
    ["A1", D(2026, 4, 1), "来访", "张三", ID1, "13812345678", 1, "劳动社保", "初信初访", "拖欠工资", "县人社局", "黄副县长",
     D(2026, 4, 3), D(2026, 4, 7), "已办结", D(2026, 5, 20), "满意", None],
    # A2 closed late (due 06-08, closed 06-20), 已化解, 基本满意
    ["A2", D(2026, 4, 2), "来信", "李四", "11010519491231002X", "13912345678", 1, "劳动社保", "初信初访", "社保补缴",
     "县人社局", "黄副县长", D(2026, 4, 5), D(2026, 4, 8), "已化解", D(2026, 6, 20), "基本满意", None],
    # A3 routed late (register due 04-20), open, overdue (due 06-29), 6 people: collective
    ["A3", D(2026, 4, 3), "来访", "王五", "450321198501012345", "13712345678", 6, "城乡建设", "集体访", "征地补偿",
     "城关镇", "刘镇长", D(2026, 4, 25), D(2026, 4, 28), "办理中", None, None, None],
    # A4 closed on time, 息诉罢访, not rated
    ["A4", D(2026, 4, 10), "网上信访", "赵六", None, "0773-1234567", 1, "城乡建设", "初信初访", "物业纠纷", "城关镇",
     "刘镇长", D(2026, 4, 12), D(2026, 4, 14), "息诉罢访", D(2026, 5, 10), None, None],
    # A5 never routed: register stage due 05-06 (05-05 is a holiday), severely overdue
    ["A5", D(2026, 4, 20), "来电", "钱七", None, None, 1, "城乡建设", "初信初访", "违建", "县住建局", "陈局长",
     None, None, "待受理", None, None, None],
    # A7 the same person and category as A1 again: a repeated petition; overdue (due 06-29)
    ["A7", D(2026, 4, 25), "来访", "张三", ID1, "13812345678", 1, "劳动社保", "重信重访", "拖欠工资未解决", "县人社局",
     "黄副县长", D(2026, 4, 27), D(2026, 4, 29), "办理中", None, None, None],
    # A6 outside the period (March): in no period figure
    ["A6", D(2026, 3, 15), "来访", "孙八", None, None, 1, "教育", "初信初访", "学位", "县教育局", "王书记",
     D(2026, 3, 16), D(2026, 3, 17), "已办结", D(2026, 4, 10), "不满意", None],
]
EXPECTED = {
    "period": (dt.date(2026, 4, 1), dt.date(2026, 4, 30)), "as_of": dt.date(2026, 7, 15),
    "totals": {"new": 6, "people": 11, "closed": 0, "open": 3, "overdue": 3, "collective": 1},
    "rates": {"及时受理率": (4, 6), "按期办结率": (2, 6), "化解率": (2, 5), "参评率": (2, 3), "满意率": (2, 2)},
}
ZERO = [
    ["Z1", D(2026, 11, 20), "来访", "周九", None, None, 8, "农村农业", "集体访", "土地流转纠纷，部分群众表示要赴省上访", "城关镇",
     "刘镇长", None, None, "待受理", None, None, None],
    ["Z2", D(2026, 11, 19), "来信", "吴十", None, None, 1, "劳动社保", "初信初访", "工伤认定", "县人社局", "黄副县长",
     D(2026, 11, 20), None, "已交办", None, None, None],
]


def write(path: Path, rows: list[list]) -> None:
    from fixture_tools import table_workbook

    table_workbook(HEADER, rows)[0].save(path)


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    write(OUT / "rates.xlsx", RATES)
    write(OUT / "zero.xlsx", ZERO)
    write(OUT / "empty.xlsx", [])
