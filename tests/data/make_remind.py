"""Build tests/data/remind/: a county's ledger for the reminder ladder, the same ledger a week later, the
clerk's 单位通讯录 and a folder of reports arriving for `collect`.

The ledger's matters are due across 2026-09-28..10-11, a fortnight that crosses 国庆 (10-01..07) and the
make-up Saturday 10-10 (2026 calendar). Each due day is set by the 办理时限 (a 交办单's limit, earlier
than the legal 60日), so the ladder is read straight from the dates:
- 甲镇  R-01 办理 due 10-09 (包案领导 王副县长); R-08 复查 due 10-01, a holiday, so 10-08 (赵主任: no address)
- 乙乡  R-02 办理 due 08-20 (severely overdue: 督办单, 分管领导); R-03 办理 due 10-12; R-09 复核 due 10-08
- 丙街道 R-04 办理 due 10-08 (extended by 10 days to 10-13 in the later ledger); R-05 due 09-24 (overdue); R-06 due 09-30
         (closed 10-02 in the later ledger, while its overdue reminder was held over the holiday)
- 丁单位 R-07 due 10-09: the unit has no address in the 通讯录 (listed, never skipped silently)
R-01's 反映问题 holds a mobile number (masked in every mail). Run: python tests/data/make_remind.py
"""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fixture_tools import table_workbook  # noqa: E402

OUT = Path(__file__).resolve().parent / "remind"
D = dt.datetime
HEADER = ["信访件编号", "登记日期", "信访人", "联系电话", "反映问题", "责任单位", "包案领导", "受理日期", "办理时限",
          "延期天数", "办理状态", "办结日期", "复查申请日期", "复查意见日期", "复核申请日期"]


def rows(later: bool) -> list[list]:
    # 60日 from 08-04 end on 10-03 (国庆), so 10-08; the approved 10-day extension moves it to 10-13
    r04 = ["R-04", D(2026, 8, 1), "孙某", None, "道路破损影响出行", "丙街道", "李局长", D(2026, 8, 4), None,
           10 if later else None, "延期办理" if later else "办理中", None, None, None, None]
    r06 = (["R-06", D(2026, 8, 18), "吴某", None, "噪音扰民", "丙街道", "李局长", D(2026, 8, 20), D(2026, 9, 30),
            None, "已办结", D(2026, 10, 2), None, None, None] if later else
           ["R-06", D(2026, 8, 18), "吴某", None, "噪音扰民", "丙街道", "李局长", D(2026, 8, 20), D(2026, 9, 30),
            None, "办理中", None, None, None, None])
    return [
        ["R-01", D(2026, 8, 18), "张某", "13812345678", "拖欠工资，联系电话13912345678", "甲镇", "王副县长",
         D(2026, 8, 20), D(2026, 10, 9), None, "办理中", None, None, None, None],
        ["R-02", D(2026, 6, 28), "李某", None, "征地补偿", "乙乡", "王副县长", D(2026, 7, 1), D(2026, 8, 20), None,
         "办理中", None, None, None, None],
        ["R-03", D(2026, 8, 18), "王某", None, "宅基地纠纷", "乙乡", "李局长", D(2026, 8, 20), D(2026, 10, 12), None,
         "办理中", None, None, None, None],
        r04,
        ["R-05", D(2026, 7, 30), "赵某", None, "物业纠纷", "丙街道", "李局长", D(2026, 8, 1), D(2026, 9, 24), None,
         "办理中", None, None, None, None],
        r06,
        ["R-07", D(2026, 8, 18), "钱某", None, "低保认定", "丁单位", "李局长", D(2026, 8, 20), D(2026, 10, 9), None,
         "办理中", None, None, None, None],
        ["R-08", D(2026, 5, 28), "周某", None, "拆迁安置", "甲镇", "赵主任", D(2026, 6, 1), None, None, "复查中",
         D(2026, 7, 15), D(2026, 9, 1), None, None],
        ["R-09", D(2026, 5, 28), "郑某", None, "土地确权", "乙乡", "王副县长", D(2026, 6, 1), None, None, "复核中",
         D(2026, 6, 20), D(2026, 7, 1), D(2026, 7, 30), D(2026, 9, 8)],
    ]


def contacts(path: Path) -> None:
    wb, ws = table_workbook(["单位", "联系人", "邮箱", "分管领导邮箱"], [
        ["甲镇", "甲联络员", "jia@town.gov.cn", "jia-boss@town.gov.cn"],
        ["乙乡", "乙联络员", "yi@town.gov.cn", "yi-boss@town.gov.cn"],
        ["丙街道", "丙联络员", "bing@town.gov.cn；bing2@town.gov.cn", None],
        ["丁单位", "丁联络员", None, None],
    ], sheet="单位通讯录")
    leaders = wb.create_sheet("领导通讯录")
    leaders.append(["姓名", "邮箱"])
    leaders.append(["王副县长", "wang@county.gov.cn"])
    leaders.append(["李局长", "li@county.gov.cn"])
    wb.save(path)


def reports(folder: Path) -> None:
    """Files arriving for `collect` on 2026-10-09 (the test sets their arrival times)."""
    import openpyxl

    folder.mkdir(parents=True, exist_ok=True)

    def zero(path: Path, unit: str, day: str) -> None:
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "零报告"
        ws["A1"] = "信访工作零报告"
        ws["A3"], ws["B3"] = "报告单位", unit
        ws["A4"], ws["B4"] = "报告期间", day
        ws["A5"], ws["B5"] = "报告内容", f"{unit}{day}无集体访、无越级访、无进京赴省访、无重大信访事项。"
        ws["A7"], ws["B7"] = "报告日期", day
        wb.save(path)

    zero(folder / "甲镇零报告1009.xlsx", "甲镇", "2026年10月9日")  # on time
    zero(folder / "乙乡零报告.xlsx", "乙乡", "2026年10月9日")  # arrives late
    zero(folder / "丙街道零报告.xlsx", "戊镇", "2026年10月9日")  # named 丙街道, content is 戊镇's: not theirs
    (folder / "丁单位零报告.xlsx").write_bytes(b"this is not a workbook, the upload broke")  # unreadable
    # a ledger with its 责任单位 column (no 填报单位 line): whose file is read from its content
    wb, _ = table_workbook(HEADER[:7], [["Z-1", D(2026, 10, 8), "某某", None, "咨询", "戊镇", "李局长"]])
    wb.save(folder / "周报台账.xlsx")


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    for later, name in ((False, "台账_提醒.xlsx"), (True, "台账_提醒_一周后.xlsx")):
        wb, _ = table_workbook(HEADER, rows(later))
        wb.save(OUT / name)
    contacts(OUT / "单位通讯录.xlsx")
    reports(OUT / "报送文件夹")
    print(f"written to {OUT}")
