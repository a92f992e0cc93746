"""Build tests/data/county_stats/: county ledgers, written the way counties write them, whose
statistics and 零报告 can be worked out by hand (issue 21 items 7-10).

县信访局台账_2026年4月.xlsx  title row, 填报 line, county labels (来信来访日期, 姓名, 证件号码,
    联系方式, 家庭住址, 来访人数, 承办单位, 交办时间, 受理时间, 办结时间), 人数 as people type it
    (1人, 约30人, 30余人, 二十多人, blank beside 钱七等5人, 两三个), 满意度 with 未评价 and —, an
    unreadable 受理时间 (2026.4.31) and an unreadable 来信来访日期 (2026年4月).
县信访局台账_2026年3月.xlsx  the month before: the same people again (by 证件号码, by 姓名+联系方式,
    by 姓名+家庭住址), so 重复信访 spans files and periods.
乡镇零报告台账_2026年11月.xlsx  one day's matters for the 零报告 of 2026-11-20: 到北京国家信访局,
    扬言赴京 with a blank 承办单位, 到省信访局, a quiet unit, and an unreadable 来信来访日期 (2026.11.31).

The hand-worked figures are in tests/test_statistics_round3.py beside each assertion.
Run: python tests/data/make_county_stats.py
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl

OUT = Path(__file__).resolve().parent / "county_stats"
D = dt.datetime
HEADER = ["序号", "信访编号", "来信来访日期", "来源", "姓名", "证件号码", "联系方式", "家庭住址", "来访人数", "问题分类",
          "信访性质", "信访事项", "承办单位", "交办时间", "受理时间", "办理状态", "办结时间", "满意度", "风险等级"]
ID1, ID2, ID3 = "450324199001011230", "11010519491231002X", "450321198501012340"

APRIL = [
    ["C01", D(2026, 4, 1), "来访", "张三", ID1, "13812345678", "城关镇南街1号", "1人", "劳动社保", "初信初访",
     "拖欠工资", "县人社局", D(2026, 4, 3), D(2026, 4, 7), "已办结", D(2026, 5, 20), "满意", "低"],
    ["C02", D(2026, 4, 2), "来访", "李四", None, "13912345678", None, "约30人", "城乡建设", "初信初访",
     "征地补偿标准", "城关镇", D(2026, 4, 5), D(2026, 4, 8), "已办结", D(2026, 6, 20), "未评价", "中"],
    ["C03", D(2026, 4, 3), "来访", "王五", ID3, "13712345678", None, "30余人", "城乡建设", "越级访",
     "拆迁安置", "城关镇", D(2026, 4, 25), D(2026, 4, 28), "办理中", None, None, "中"],
    ["C04", D(2026, 4, 10), "网上信访", "赵六", None, None, None, "二十多人", "城乡建设", "初信初访",
     "物业纠纷", "城关镇", D(2026, 4, 12), D(2026, 4, 14), "息诉罢访", D(2026, 5, 10), "—", "低"],
    ["C05", D(2026, 4, 20), "来访", "钱七等5人", None, None, None, None, "城乡建设", "初信初访",
     "违建", "县住建局", None, None, "待受理", None, None, "低"],
    ["C06", D(2026, 4, 22), "来信", "孙八", None, None, None, "两三个", "教育", "初信初访",
     "学位", "县教育局", None, D(2026, 4, 23), "已化解", D(2026, 5, 30), "基本满意", "低"],
    ["C07", D(2026, 4, 25), "来访", "张三", None, "138 1234 5678", None, 1, "劳动社保", "重信重访",
     "拖欠工资未解决", "县人社局", D(2026, 4, 27), D(2026, 4, 29), "办理中", None, None, "低"],
    ["C08", D(2026, 4, 26), "来访", "周九", None, None, "城关镇东街3号", 1, "农村农业", "初信初访",
     "土地流转", "城关镇", D(2026, 4, 27), "2026.4.31", "办理中", None, None, "低"],
    ["C09", D(2026, 4, 28), "来信", "郑十", None, None, None, 1, "其他", "初信初访",
     "已经司法程序处理的纠纷", "县人社局", None, None, "不予受理", D(2026, 5, 8), None, "低"],
    ["C10", "2026年4月", "来信", "冯一", None, None, None, 1, "教育", "初信初访",
     "校车", "县教育局", None, None, "待受理", None, None, "低"],
    ["C12", D(2026, 4, 29), "来访", "吴十", ID2, "13600000001", None, 1, "劳动社保", "初信初访",
     "工伤待遇", "县人社局", D(2026, 4, 30), D(2026, 5, 6), "已办结", D(2026, 6, 10), "不满意", "低"],
]
MARCH = [
    ["M01", D(2026, 3, 10), "来访", "周九", None, None, "城关镇东街３号", 1, "农村农业", "初信初访",
     "土地流转", "城关镇", D(2026, 3, 11), D(2026, 3, 12), "已办结", D(2026, 3, 30), "满意", "低"],
    ["M02", D(2026, 3, 12), "来信", "吴十", ID2, "13600000009", None, 1, "劳动社保", "初信初访",
     "工伤认定", "县人社局", D(2026, 3, 13), D(2026, 3, 16), "已办结", D(2026, 4, 10), "满意", "低"],
    ["M03", D(2026, 3, 20), "来访", "李四", None, "13912345678", None, 1, "城乡建设", "初信初访",
     "征地补偿", "城关镇", D(2026, 3, 21), D(2026, 3, 23), "已办结", D(2026, 4, 20), "满意", "低"],
]
ZERO_DAY = D(2026, 11, 20)
ZERO = [
    ["Z1", ZERO_DAY, "来访", "周某等3人", None, None, None, None, "城乡建设", "初信初访",
     "拆迁补偿，称已到北京国家信访局反映", "城关镇", None, None, "待受理", None, None, "低"],
    ["Z2", ZERO_DAY, "来电", "陈某", None, None, None, "1人", "劳动社保", "初信初访",
     "拖欠工资，扬言赴京", None, None, None, "待受理", None, None, "低"],
    ["Z3", ZERO_DAY, "来信", "林某", None, None, None, "1人", "劳动社保", "初信初访",
     "社保转移", "县人社局", None, None, "待受理", None, None, "低"],
    ["Z4", "2026.11.31", "来访", "黄某", None, None, None, "1人", "城乡建设", "初信初访",
     "房屋质量", "县住建局", None, None, "待受理", None, None, "低"],
    ["Z5", D(2026, 11, 19), "来信", "何某", None, None, None, "1人", "教育", "初信初访",
     "学位", "县教育局", None, None, "待受理", None, None, "低"],
    ["Z6", ZERO_DAY, "来访", "罗某", None, None, None, "1人", "农村农业", "初信初访",
     "山林纠纷，已到省信访局上访", "大山乡", None, None, "待受理", None, None, "低"],
]


def county_workbook(rows: list[list], title: str, filed: str) -> openpyxl.Workbook:
    """A title row, a 填报 line, the header, then numbered rows (序号 1, 2, ...), dates as dates."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append([title])
    ws.append([f"填报单位：XX县信访局    填报日期：{filed}"])
    ws.append(HEADER)
    for n, row in enumerate(rows, 1):
        ws.append([n, *row])
    for cells in ws.iter_rows(min_row=4):
        for cell in cells:
            if isinstance(cell.value, dt.datetime):
                cell.number_format = "yyyy-mm-dd"
    for col in ("F", "G"):
        for cell in ws[col][3:]:
            cell.number_format = "@"
    return wb


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    county_workbook(APRIL, "XX县信访事项登记台账（2026年4月）", "2026年7月15日").save(OUT / "县信访局台账_2026年4月.xlsx")
    county_workbook(MARCH, "XX县信访事项登记台账（2026年3月）", "2026年4月1日").save(OUT / "县信访局台账_2026年3月.xlsx")
    county_workbook(ZERO, "XX县信访事项登记台账（2026年11月）", "2026年11月20日").save(OUT / "乡镇零报告台账_2026年11月.xlsx")
