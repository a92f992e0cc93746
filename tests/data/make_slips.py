"""Build tests/data/slips/ledger.xlsx: matters for slips, with the awkward cases.

Two units whose names clash once made safe for file names, a matter without a unit, one
without 反映问题, a closed matter (no slip), a very long 反映问题, overdue matters, and one
whose 60日 end in 2027 (not covered by the official calendar data yet).
As of 2026-11-25. Run: python tests/data/make_slips.py
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

OUT = Path(__file__).resolve().parent / "slips"
HEADER = ["信访件编号", "登记日期", "信访形式", "信访人", "联系电话", "问题类别", "反映问题", "交办单位", "责任单位",
          "包案领导", "责任人", "交办日期", "受理日期", "办理状态", "办结日期"]
D = dt.datetime
LONG = ("反映其所在小区开发商逾期交房十四个月，期间多次与开发商协商未果，开发商承诺的违约金至今未支付，"
        "小区配套的幼儿园、停车场均未按规划建设，业主多次向住建部门反映，要求依法督促开发商履行合同义务、"
        "支付违约金并按规划完成配套设施建设，同时要求对相关部门监管不力的问题进行调查处理。") * 2
ROWS = [
    ["S-001", D(2026, 10, 2), "来访", "张三", "13812345678", "劳动社保", "拖欠工资", "县信访局", "县人社局", "黄副县长", "李科长",
     D(2026, 10, 3), D(2026, 10, 9), "办理中", None],  # due 2026-12-08
    ["S-002", D(2026, 8, 3), "来信", "李四", "13912345678", "城乡建设", LONG, "县信访局", "县人社局", "黄副县长", "李科长",
     D(2026, 8, 4), D(2026, 8, 5), "办理中", None],  # due 2026-10-09 (after National Day): overdue
    ["S-003", D(2026, 10, 20), "网上信访", "王五", None, "教育", "学位分配", "县信访局", "城关镇/河西片区", "刘镇长", None,
     D(2026, 10, 21), None, "已交办", None],
    ["S-004", D(2026, 10, 22), "来电", "赵六", None, "教育", "校车安全", "县信访局", "城关镇:河西片区", "刘镇长", None,
     D(2026, 10, 23), None, "已交办", None],
    ["S-005", D(2026, 11, 10), "来访", "钱七", None, "其他", "反映问题", "县信访局", None, None, None,
     D(2026, 11, 11), None, "已交办", None],  # no unit
    ["S-006", D(2026, 11, 12), "来访", "孙八", None, "其他", None, "县信访局", "县人社局", None, None,
     D(2026, 11, 13), D(2026, 11, 14), "已受理", None],  # no 反映问题
    ["S-007", D(2026, 9, 1), "来访", "周九", None, "民政", "低保", "县信访局", "县人社局", None, None,
     D(2026, 9, 2), D(2026, 9, 3), "已办结", D(2026, 10, 1)],  # closed: no slip
    ["S-008", D(2026, 11, 18), "来信", "吴十", None, "教育", "校舍安全", "县信访局", "县教育局", None, None,
     D(2026, 11, 19), D(2026, 11, 20), "办理中", None],  # 60日 ends in 2027: no holiday data yet
]


if __name__ == "__main__":
    from fixture_tools import table_workbook

    OUT.mkdir(parents=True, exist_ok=True)
    table_workbook(HEADER, ROWS)[0].save(OUT / "ledger.xlsx")
