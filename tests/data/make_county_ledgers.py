"""Build tests/data/county_ledgers/: ledgers that are not the project's own layouts, written the
way counties write them (issue 21 items 11-14 and 16).

积案化解台账.xlsx       a 积案台账: title row, 牵头单位 (the only unit column), 包案领导, 来信来访人,
    证件号码, 信访日期 as documents write it (二〇二五年三月五日, 2025．6．18), 化解情况 (已化解/未化解/
    稳控中), 人数; no 交办/受理/状态 columns. Below the table: 合计 with text, numbered notes, 填表人 line.
重点人员稳控台账.xlsx   a 稳控台账: 姓名, 是否息诉息访 (是/否), 稳控情况 in 化解 words, 办理期限 holding
    长期稳控 / 待定 / 2026年6月30日前, 牵头单位 beside a 责任单位 column (so 牵头单位 stays unmapped).
系统导出.xls            a 信访信息系统 export (BIFF8): 登记时间 with times, 来信来访人, 承办单位, 限办日期,
    要求办结时间 spelled as the system does, 办理进度, a 复查申请日期 before its 办结日期 (row 4) and a
    限办日期 before its 交办日期 (row 5).
WPS表格.et              saved by WPS (a BIFF8 file named .et): two title lines, a 信访人员 column, a header
    the reader does not know (包案领导姓名), and a stray cell far from the table (IV65536).
表下注释.{xlsx,xls,csv,ods}  three matters, then the rows counties write below the table: 合计 with text,
    合计 with typed totals, 1、2、 notes, （一） note, a note continued on the next line, and the
    填表人：|王五|审核人：|赵六|联系电话：|…|制表日期：|… line. The same cells in every format
    (the .csv in GB18030, the .ods written here as OpenDocument XML).

Run: python tests/data/make_county_ledgers.py
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
import xlwt
from openpyxl.styles import Alignment, Font

OUT = Path(__file__).resolve().parent / "county_ledgers"
D = dt.datetime


def with_check_digit(first17: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights)) % 11]


ID1, ID2, ID3 = (with_check_digit(x) for x in ("45032419700101123", "45032119650315002", "45032419801120101"))


def _xlsx(path: Path, title: str, header: list, rows: list[list], below: list[list] = (), lines: list[str] = ()):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    r = 1
    for line in lines:
        ws.cell(r, 1, line)
        if r == 1:
            ws.cell(r, 1).font = Font(bold=True, size=16)
            ws.cell(r, 1).alignment = Alignment(horizontal="center")
            ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
        r += 1
    for c, label in enumerate(header, 1):
        ws.cell(r, c, label).font = Font(bold=True)
    for row in [*rows, *below]:
        r += 1
        for c, value in enumerate(row, 1):
            if value is None:
                continue
            cell = ws.cell(r, c, value)
            if isinstance(value, dt.datetime):
                cell.number_format = "yyyy-mm-dd"
    return wb, ws


def backlog_ledger() -> None:
    header = ["序号", "信访人", "证件号码", "联系电话", "信访日期", "反映问题", "人数", "牵头单位", "包案领导",
              "化解情况", "稳控措施", "备注"]
    rows = [
        [1, "张三", ID1, "13812345678", "二〇二五年三月五日", "反映征地补偿款未足额发放", 1, "县自然资源局", "王副县长",
         "已化解", "签订息访协议", None],
        [2, "李四", ID2, "13912345678", "2025．6．18", "反映企业改制职工安置问题", 12, "县人社局", "李副县长",
         "未化解", "每月走访一次", "集体访"],
        [3, "王五", ID3, "13712345678", D(2024, 11, 20), "反映宅基地确权纠纷", 2, "城关镇", "王副县长",
         "稳控中", "镇村两级包保", None],
    ]
    below = [
        ["合计", "共3件，已化解1件"],
        ["1、本表由各牵头单位每月5日前报县信访联席办。"],
        ["2、化解情况填写已化解、未化解或稳控中。"],
        ["填表人：王五", None, None, "审核人：赵六", None, None, "联系电话：0771-1234567"],
    ]
    wb, _ = _xlsx(OUT / "积案化解台账.xlsx", "积案台账", header, rows, below,
                  ["XX县信访积案化解工作台账", "填报单位：XX县信访联席办          填报日期：2026年3月31日"])
    wb.save(OUT / "积案化解台账.xlsx")


def stability_ledger() -> None:
    header = ["序号", "姓名", "证件号码", "联系电话", "反映问题", "所属乡镇", "牵头单位", "责任单位", "包案领导",
              "是否息诉息访", "办理期限", "备注"]
    rows = [
        [1, "赵六", ID1, "13612345678", "反映养老保险待遇", "城关镇", "县人社局", "城关镇", "孙副县长", "否", "长期稳控", None],
        [2, "钱七", ID2, "13512345678", "反映拆迁安置", "东山乡", "县住建局", "东山乡", "周副县长", "是", "待定", None],
        [3, "孙八", ID3, "13412345678", "反映林地权属", "西岭镇", "县林业局", "西岭镇", "周副县长", "否",
         "2026年6月30日前", "二〇二六年三月十日约谈"],
    ]
    wb, _ = _xlsx(OUT / "重点人员稳控台账.xlsx", "稳控台账", header, rows, [["合 计", None, None, None, "3人"]],
                  ["XX县重点信访人员稳控台账"])
    wb.save(OUT / "重点人员稳控台账.xlsx")


def _xls(path: Path, sheet: str, lines: list[list]) -> xlwt.Workbook:
    """A BIFF8 workbook with ``lines`` from A1 (datetimes as dates)."""
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet(sheet)
    date = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    stamp = xlwt.easyxf(num_format_str="yyyy-mm-dd hh:mm")
    for r, row in enumerate(lines):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, dt.datetime):
                ws.write(r, c, value, stamp if value.time() != dt.time() else date)
            else:
                ws.write(r, c, value)
    wb.ws = ws
    return wb


def system_export() -> None:
    header = ["信访件编号", "登记时间", "信访形式", "来信来访人", "证件号码", "联系电话", "问题类别", "反映问题",
              "承办单位", "交办日期", "受理日期", "要求办结时间", "办理进度", "办结日期", "办理结果", "复查申请日期"]
    rows = [
        ["GX2026030001", D(2026, 3, 2, 9, 15), "来访", "张三", ID1, "13812345678", "劳动社保", "反映拖欠工资",
         "县人社局", D(2026, 3, 4), D(2026, 3, 6), D(2026, 5, 5), "已办结", D(2026, 4, 10), "已答复", D(2026, 4, 20)],
        ["GX2026030002", D(2026, 3, 3, 14, 0), "网上信访", "李四", ID2, "13912345678", "城乡建设", "反映物业服务",
         "县住建局", D(2026, 3, 5), D(2026, 3, 9), D(2026, 5, 8), "已办结", D(2026, 4, 15), "已答复", D(2026, 4, 1)],
        ["GX2026030003", D(2026, 3, 9, 10, 30), "来信", "王五", ID3, "13712345678", "农村农业", "反映土地流转",
         "城关镇", D(2026, 3, 12), D(2026, 3, 13), D(2026, 3, 10), "办理中", None, None, None],
    ]
    _xls(OUT / "系统导出.xls", "Sheet1", [header, *rows]).save(str(OUT / "系统导出.xls"))


def wps_file() -> None:
    header = ["序号", "信访编号", "来访日期", "信访人员", "联系方式", "信访事项", "责任单位", "办理状态", "包案领导姓名"]
    rows = [
        [1, "W2026-01", "2026．3．5", "张三", "13812345678", "反映噪音扰民", "城关镇", "办理中", "王副镇长"],
        [2, "W2026-02", "二〇二六年三月九日", "李四", "13912345678", "反映道路破损", "县交通局", "已受理", "李副镇长"],
    ]
    wb = _xls(OUT / "WPS表格.et", "信访登记", [["城关镇信访登记台账"], ["填报单位：城关镇综治中心"], header, *rows])
    wb.ws.write(65535, 255, "测试")  # a stray cell far from the table, as a slipped keystroke leaves it
    wb.save(str(OUT / "WPS表格.et"))


NOTES_HEADER = ["序号", "信访件编号", "登记日期", "信访人", "反映问题", "责任单位", "办理状态", "办结日期", "办理结果", "人数"]
NOTES_ROWS = [
    [1, "N2026-001", D(2026, 3, 2), "张三", "反映拖欠工资", "县人社局", "办理中", None, None, 1],
    [2, "N2026-002", D(2026, 3, 3), "李四", "反映征地补偿", "城关镇", "已办结", D(2026, 3, 20), "已答复", 3],
    [3, "N2026-003", D(2026, 3, 9), "王五", "反映合计拖欠工资3万元", "县住建局", "办理中", None, None, 1],
]
NOTES_BELOW = [
    ["合计", "共3件", None, None, "已办结1件，办理中2件"],
    ["合计", None, None, None, None, None, None, None, None, 5],
    ["1、本表由各乡镇、各部门每月5日前报送。"],
    ["2、办结日期以办结报告落款日期为准，"],
    ["   未办结的不填。"],
    ["（一）已办结事项须附办结报告。"],
    ["填表人：", "王五", "审核人：", "赵六", "联系电话：", "0771-1234567", "制表日期：", "2026年3月31日"],
]
# Excel rows: header 1, matters 2-4, below the table 5-11 (what the tests read back)
NOTES_MATTER_ROWS = [2, 3, 4]
NOTES_BELOW_ROWS = {5: "合计行", 6: "合计行", 7: "表尾说明", 8: "表尾说明", 9: "表尾说明", 10: "表尾说明", 11: "表尾说明"}


def _ods(path: Path, sheet: str, lines: list[list]) -> None:
    """A minimal OpenDocument spreadsheet (strings, floats, dates) with ``lines`` from A1."""
    cells_xml = []
    for row in lines:
        cells = []
        for value in row:
            if value is None:
                cells.append("<table:table-cell/>")
            elif isinstance(value, dt.datetime):
                cells.append(f'<table:table-cell office:value-type="date" office:date-value="{value.date().isoformat()}">'
                             f"<text:p>{value.date().isoformat()}</text:p></table:table-cell>")
            elif isinstance(value, (int, float)):
                cells.append(f'<table:table-cell office:value-type="float" office:value="{value}">'
                             f"<text:p>{value}</text:p></table:table-cell>")
            else:
                cells.append(f'<table:table-cell office:value-type="string"><text:p>{escape(value)}</text:p>'
                             "</table:table-cell>")
        cells_xml.append("<table:table-row>" + "".join(cells) + "</table:table-row>")
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="{escape(sheet)}">'
        + "".join(cells_xml) + "</table:table></office:spreadsheet></office:body></office:document-content>")
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        zf.writestr("content.xml", content, zipfile.ZIP_DEFLATED)


def notes_below_table() -> None:
    lines = [NOTES_HEADER, *NOTES_ROWS, *NOTES_BELOW]
    wb, _ = _xlsx(OUT / "表下注释.xlsx", "台账", NOTES_HEADER, NOTES_ROWS, NOTES_BELOW)
    wb.save(OUT / "表下注释.xlsx")
    _xls(OUT / "表下注释.xls", "台账", lines).save(str(OUT / "表下注释.xls"))
    _ods(OUT / "表下注释.ods", "台账", lines)
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    for row in lines:
        writer.writerow(["" if v is None else v.strftime("%Y-%m-%d") if isinstance(v, dt.datetime) else v for v in row])
    (OUT / "表下注释.csv").write_bytes(text.getvalue().encode("gb18030"))


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for make in (backlog_ledger, stability_ledger, system_export, wps_file, notes_below_table):
        make()
    print(f"wrote {len(list(OUT.iterdir()))} files to {OUT}")


if __name__ == "__main__":
    main()
