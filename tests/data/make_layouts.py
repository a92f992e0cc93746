"""Build ledgers laid out the way counties keep them, in tests/data/layouts/ (committed).

Each file is named for what it exercises; layouts/truth.json holds what a correct
reading of each one must give (matter counts, specific values, deadline flags).
.ods/.xls copies are made with LibreOffice when it is installed.

Run: python tests/data/make_layouts.py
"""
from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font

OUT = Path(__file__).resolve().parent / "layouts"
AS_OF = "2026-04-20"
D = dt.datetime

HEADER = ["序号", "信访件编号", "登记日期", "信访人", "身份证号", "联系电话", "反映问题", "责任单位", "包案领导",
          "交办日期", "受理日期", "延期天数", "办理状态", "办结日期", "办理结果", "备注"]
UNITS = ["县人社局", "城关镇", "县住建局", "县自然资源局", "县教育局", "县卫健局"]
LEADERS = ["王副县长", "李副县长", "赵副县长", "钱副县长", "孙副县长", "周副县长"]
NAMES = "张三 李四 王五 赵六 钱七 孙八 周九 吴十 郑一 冯二".split()
TOPICS = ["反映拖欠工资", "征地补偿未到位", "物业服务不到位", "宅基地纠纷", "学位安排", "医疗纠纷"]


def with_check_digit(first17: str) -> str:
    """An identity number whose last character is its ISO 7064 MOD 11-2 check digit."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights)) % 11]


IDS = [with_check_digit(x) for x in ("45032419900101123", "11010519491231002", "11010119900307123", "44030119850615001")]


def matter(i: int, received: dt.datetime, unit: str, leader: str, closed: bool, prefix: str = "X2026") -> list:
    """One ledger row in HEADER order (deterministic)."""
    assigned = received + dt.timedelta(days=2)
    accepted = received + dt.timedelta(days=5)
    return [i, f"{prefix}-{i:03d}", received, NAMES[i % len(NAMES)], IDS[i % len(IDS)], f"1381234{i:04d}",
            TOPICS[i % len(TOPICS)], unit, leader, assigned, accepted, None,
            "已办结" if closed else "办理中", accepted + dt.timedelta(days=20) if closed else None,
            "已答复" if closed else None, None]


def write_table(ws, header: list, rows: list[list], start: int = 1) -> None:
    for c, label in enumerate(header, 1):
        ws.cell(start, c, label).font = Font(bold=True)
    for r, row in enumerate(rows, start + 1):
        for c, value in enumerate(row, 1):
            cell = ws.cell(r, c, value)
            if isinstance(value, dt.datetime):
                cell.number_format = "yyyy-mm-dd"


def title_and_unit_line(truth: dict) -> None:
    """Title, a 填报单位/填报日期 line, 合计 and footer rows, and real rows that start with 合计/注：."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "信访台账"
    ws["A1"] = "XX县信访事项登记台账"
    ws.merge_cells("A1:P1")
    ws["A2"] = "填报单位：XX县信访局          填报日期：2026年3月31日"
    ws.merge_cells("A2:P2")
    rows = [matter(i, D(2026, 3, 2 + i), UNITS[i % 3], LEADERS[i % 3], i % 2 == 0) for i in range(1, 7)]
    # Sparse real matters (four cells filled) whose first text starts with 注：/合计.
    rows[2] = ["注：重点件", rows[2][1], None, rows[2][3]] + [None] * 2 + [rows[2][6]] + [None] * 9
    rows[4] = [None, None, rows[4][2], rows[4][3]] + [None] * 2 + ["合计拖欠工资3.2万元未支付", rows[4][7]] + [None] * 8
    write_table(ws, HEADER, rows, start=3)
    ws.cell(10, 1, "合计")
    ws.cell(10, 2, "6件")
    ws.cell(12, 1, "填表人：张三")
    ws.cell(12, 5, "审核人：李四")
    wb.save(OUT / "title_and_unit_line.xlsx")
    truth["title_and_unit_line.xlsx"] = {
        "matters": 6, "rows_in": 12 - 3, "skipped": {"10": "合计行", "11": "空行", "12": "表尾说明"},
        "case_ids": [r[1] for r in rows], "meta": {"填报单位": "XX县信访局", "填报日期": "2026年3月31日"}}


def two_row_header_vertical_spans(truth: dict) -> None:
    """Two header rows: 信访人 over 姓名/联系电话, 办理情况 over 状态/日期, and the last
    headers (办理结果, 备注) merged down over both rows like the single ones on the left."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    ws["A1"] = "2026年信访事项办理台账"
    ws.merge_cells("A1:K1")
    top = ["序号", "信访件编号", "登记日期", "信访人", None, "反映问题", "责任单位", "办理情况", None, "办理结果", "备注"]
    bottom = [None, None, None, "姓名", "联系电话", None, None, "办理状态", "办结日期", None, None]
    for c, (a, b) in enumerate(zip(top, bottom), 1):
        if a:
            ws.cell(2, c, a).font = Font(bold=True)
        if b:
            ws.cell(3, c, b).font = Font(bold=True)
    for col in "ABCFGJK":
        ws.merge_cells(f"{col}2:{col}3")
    ws.merge_cells("D2:E2")
    ws.merge_cells("H2:I2")
    rows = []
    for i in range(1, 6):
        closed = i % 2 == 1
        rows.append([i, f"X2026-{i:03d}", D(2026, 3, i + 1), NAMES[i], f"1391234{i:04d}", TOPICS[i], UNITS[i],
                     "已办结" if closed else "办理中", D(2026, 4, i) if closed else None,
                     "已答复" if closed else None, "重点" if i == 2 else None])
    for r, row in enumerate(rows, 4):
        for c, value in enumerate(row, 1):
            cell = ws.cell(r, c, value)
            if isinstance(value, dt.datetime):
                cell.number_format = "yyyy-mm-dd"
    wb.save(OUT / "two_row_header_vertical_spans.xlsx")
    truth["two_row_header_vertical_spans.xlsx"] = {
        "matters": 5, "rows_in": 5, "header_rows": [2, 3],
        "fields": {"D": "petitioner", "E": "phone", "H": "status", "I": "closed_on", "J": "reply", "K": "notes"}}


def merged_unit_leader_date(truth: dict) -> None:
    """30 matters; 责任单位 and 包案领导 merged down over each unit's rows, 登记日期 over each day's."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    rows, units = [], []
    for i in range(1, 31):
        u = (i - 1) // 5
        day = D(2026, 2, 2) + dt.timedelta(days=(i - 1) // 3)
        rows.append(matter(i, day, UNITS[u], LEADERS[u], closed=i % 15 >= 8))
        units.append(UNITS[u])
    write_table(ws, HEADER, rows)
    for r, row in enumerate(rows, 2):  # only the top cell of each merged range keeps its value
        if (r - 2) % 5:
            ws.cell(r, 8).value = None
            ws.cell(r, 9).value = None
        if (r - 2) % 3:
            ws.cell(r, 3).value = None
    for k in range(6):
        a, b = 2 + 5 * k, 6 + 5 * k
        ws.merge_cells(f"H{a}:H{b}")
        ws.merge_cells(f"I{a}:I{b}")
        ws[f"H{a}"].alignment = Alignment(vertical="center")
    for k in range(10):
        ws.merge_cells(f"C{2 + 3 * k}:C{4 + 3 * k}")
    wb.save(OUT / "merged_unit_leader_date.xlsx")
    open_ = sum(1 for r in rows if r[12] == "办理中")
    truth["merged_unit_leader_date.xlsx"] = {
        "matters": 30, "rows_in": 30, "open": open_, "units": units, "leaders": [LEADERS[(i - 1) // 5] for i in range(1, 31)],
        "received_on": [(D(2026, 2, 2) + dt.timedelta(days=(i - 1) // 3)).date().isoformat() for i in range(1, 31)],
        "filled": {"H": 6, "I": 6, "C": 10}}


def monthly_sheets_with_instructions(truth: dict) -> None:
    """填表说明, 1月/2月/3月 ledger sheets (7+10+10) and a 汇总 summary sheet."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "填表说明"
    ws["A1"] = "填表说明"
    ws["A2"] = "1. 信访件编号、登记日期、信访人、反映问题、责任单位为必填项。"
    ws["A3"] = "2. 日期请按 2026-03-05 格式填写。"
    counts = {"1月": 7, "2月": 10, "3月": 10}
    i = 0
    ids = []
    for month, (name, n) in enumerate(counts.items(), 1):
        sh = wb.create_sheet(name)
        sh["A1"] = f"2026年{month}月信访事项台账"
        rows = []
        for k in range(n):
            i += 1
            rows.append(matter(i, D(2026, month, 2 + k), UNITS[i % 6], LEADERS[i % 6], closed=k % 3 == 0))
            ids.append(rows[-1][1])
        write_table(sh, HEADER, rows, start=2)
    summary = wb.create_sheet("汇总")
    summary.append(["责任单位", "信访形式", "问题类别", "件数", "已办结", "办理中"])
    for u in UNITS:
        summary.append([u, "来访", "其他", 4, 2, 2])
    wb.save(OUT / "monthly_sheets_with_instructions.xlsx")
    truth["monthly_sheets_with_instructions.xlsx"] = {
        "matters": 27, "rows_in": 27, "sheets": counts, "skipped_sheets": ["填表说明", "汇总"], "case_ids": ids}


def yearly_sheets(truth: dict) -> None:
    wb = openpyxl.Workbook()
    counts = {"2025年": 5, "2026年": 6}
    every: list = []
    first = True
    for year, (name, n) in zip((2025, 2026), counts.items()):
        sh = wb.active if first else wb.create_sheet(name)
        sh.title = name
        first = False
        rows = [matter(k, D(year, 11 if year == 2025 else 3, 1 + k), UNITS[k % 6], LEADERS[k % 6], closed=k % 2 == 0,
                       prefix=f"X{year}") for k in range(1, n + 1)]
        write_table(sh, HEADER, rows)
        every += rows
    # A 全年总表 repeating every matter (reading it too would count each twice) and a hidden old sheet.
    write_table(wb.create_sheet("全年总表"), HEADER, every)
    old = wb.create_sheet("旧表")
    write_table(old, HEADER, every[:2])
    old.sheet_state = "hidden"
    wb.save(OUT / "yearly_sheets.xlsx")
    truth["yearly_sheets.xlsx"] = {"matters": 11, "rows_in": 11, "sheets": counts, "skipped_sheets": ["全年总表", "旧表"]}


def hidden_rows_autofilter_frozen(truth: dict) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    rows = [matter(i, D(2026, 3, i), UNITS[i % 6], LEADERS[i % 6], closed=i % 2 == 0) for i in range(1, 9)]
    write_table(ws, HEADER, rows)
    ws.auto_filter.ref = f"A1:P{len(rows) + 1}"
    ws.freeze_panes = "C2"
    for r in (3, 5, 6):
        ws.row_dimensions[r].hidden = True
    ws.column_dimensions["E"].hidden = True
    wb.save(OUT / "hidden_rows_autofilter_frozen.xlsx")
    truth["hidden_rows_autofilter_frozen.xlsx"] = {"matters": 8, "rows_in": 8}


def ids_as_numbers(truth: dict) -> None:
    """Case ids, identity numbers and phones typed as numbers (the id loses its last digits)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    rows = []
    for i in range(1, 5):
        r = matter(i, D(2026, 3, i), UNITS[i], LEADERS[i], closed=False)
        r[1] = 2026000 + i
        r[4] = float(IDS[i % 4].replace("X", "0")) if i % 2 else IDS[i % 4]
        r[5] = 13812340000 + i
        rows.append(r)
    write_table(ws, HEADER, rows)
    wb.save(OUT / "ids_as_numbers.xlsx")
    truth["ids_as_numbers.xlsx"] = {"matters": 4, "rows_in": 4,
                                    "case_ids": [str(2026000 + i) for i in range(1, 5)],
                                    "phones": [str(13812340000 + i) for i in range(1, 5)],
                                    "id_number_as_number_rows": [2, 4]}


CSV_HEADER = ["信访件编号", "登记日期", "信访人", "身份证号", "联系电话", "反映问题", "责任单位", "办理状态", "受理日期"]
CSV_ROWS = [
    ["0012026", "2026-03-02", "张三", IDS[0], "13812345678", "反映拖欠工资，要求支付", "县人社局", "办理中", "2026-03-04"],
    ["0022026", "2026/3/5", "李四", IDS[1], "013912345678", "征地补偿未到位", "城关镇", "已办结", "2026-03-06"],
    ["0032026", "2026年3月9日", "王五", IDS[2], "0773-1234567", "物业服务不到位", "县住建局", "办理中", "2026-03-10"],
    ["0042026", "20260310", "赵六", IDS[3], "13712345678", "宅基地纠纷", "城关镇", "已受理", "2026-03-11"],
    ["0052026", "2026-03-12", "钱七", IDS[0], "13612345678", "学位安排", "县教育局", "办理中", "2026-03-13"],
]


def csv_files(truth: dict) -> None:
    def text(sep="\r\n") -> str:
        lines = [",".join(CSV_HEADER)] + [",".join(f'"{v}"' if "，" in v else v for v in r) for r in CSV_ROWS]
        return sep.join(lines) + sep

    (OUT / "gb18030.csv").write_bytes(text().encode("gb18030"))
    (OUT / "utf8_bom.csv").write_bytes(text("\n").encode("utf-8-sig"))
    for name in ("gb18030.csv", "utf8_bom.csv"):
        truth[name] = {"matters": 5, "rows_in": 5, "case_ids": [r[0] for r in CSV_ROWS],
                       "id_numbers": [r[3] for r in CSV_ROWS], "phones": [r[4] for r in CSV_ROWS],
                       "petitioners": [r[2] for r in CSV_ROWS]}


def no_assigned_accepted_columns(truth: dict) -> None:
    """A town ledger without 交办日期/受理日期 columns: open matters cannot get a deadline."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    header = ["序号", "信访件编号", "登记日期", "信访人", "反映问题", "责任单位", "办理状态", "办结日期"]
    rows = []
    for i in range(1, 9):
        status = ["办理中", "已受理", "延期办理", "已交办", "已办结", "办理中", "已办结", "办理中"][i - 1]
        rows.append([i, f"Z2026-{i:03d}", D(2026, 1, 3 * i), NAMES[i], TOPICS[i % 6], "某某镇", status,
                     D(2026, 3, i) if status == "已办结" else None])
    write_table(ws, header, rows)
    wb.save(OUT / "no_assigned_accepted_columns.xlsx")
    truth["no_assigned_accepted_columns.xlsx"] = {
        "matters": 8, "rows_in": 8,
        "flags": {str(r + 2): "unknown" for r in range(8)}}  # closed ones too: no date says when it was accepted


def unreadable_dates_extensions(truth: dict) -> None:
    """Dates and 延期天数 as people type them, some readable, some not."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "2026年3月"
    ws["A1"] = "填报单位：某某镇          填报日期：2026年4月1日"
    header = ["信访件编号", "登记日期", "信访人", "反映问题", "责任单位", "交办日期", "受理日期", "延期天数", "办理状态", "办结日期"]
    cases = [  # (登记日期, 受理日期, 延期天数, 办结日期, status, expected)
        ("3月5日", "3月8日", None, None, "办理中", {"received_on": "2026-03-05", "accepted_on": "2026-03-08"}),
        ("2026年3月5号", D(2026, 3, 6), "30", None, "延期办理", {"received_on": "2026-03-05", "extension_days": 30}),
        (D(2026, 3, 2), D(2026, 3, 6), "30天", None, "延期办理", {"extension_days": 30}),
        (D(2026, 3, 2), D(2026, 3, 6), "三十日", None, "延期办理", {"extension_days": 30}),
        (D(2026, 3, 2), D(2026, 3, 6), "延期30天", None, "延期办理", {"extension_days": 30}),
        (D(2026, 3, 2), D(2026, 3, 6), "30（已批准）", None, "延期办理", {"extension_days": 30}),
        (D(2026, 3, 2), D(2026, 3, 6), "三十", None, "延期办理", {"extension_days": 30}),
        (D(2026, 3, 2), D(2026, 3, 6), "一个月", None, "延期办理", {"extension_days": None, "flag": "unknown"}),
        (D(2026, 3, 2), "2026年2月30日", None, None, "办理中", {"accepted_on": None, "flag": "unknown"}),
        (D(2026, 3, 2), "/", None, "—", "已交办", {"accepted_on": None, "closed_on": None}),
        (D(2026, 3, 2), "无", None, "-", "已交办", {"accepted_on": None}),
        (D(2062, 3, 2), D(2026, 3, 6), None, None, "办理中", {"received_on": "2062-03-02", "warning": "received_on"}),
    ]
    for c, label in enumerate(header, 1):
        ws.cell(2, c, label).font = Font(bold=True)
    expected = {}
    for k, (recv, acc, ext, closed, status, exp) in enumerate(cases):
        r = 3 + k
        values = [f"Y2026-{k + 1:03d}", recv, NAMES[k % 10], TOPICS[k % 6], "某某镇", D(2026, 3, 5), acc, ext, status, closed]
        for c, value in enumerate(values, 1):
            cell = ws.cell(r, c, value)
            if isinstance(value, dt.datetime):
                cell.number_format = "yyyy-mm-dd"
        expected[str(r)] = exp
    wb.save(OUT / "unreadable_dates_extensions.xlsx")
    truth["unreadable_dates_extensions.xlsx"] = {"matters": len(cases), "rows_in": len(cases), "rows": expected,
                                                 "flags": {r: e["flag"] for r, e in expected.items() if "flag" in e}}


def macro_sheet_xlsm(truth: dict) -> None:
    """A valid .xlsm whose second sheet is an Excel 4.0 macro sheet (xl/macrosheets/)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    write_table(ws, HEADER, [matter(i, D(2026, 3, i), UNITS[i], LEADERS[i], False) for i in range(1, 4)])
    wb.create_sheet("Macro1")
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = zipfile.ZipFile(OUT / "excel4_macro_sheet.xlsm", "w", zipfile.ZIP_DEFLATED)
    for item in src.infolist():
        data = src.read(item.filename)
        name = item.filename
        if name == "xl/worksheets/sheet2.xml":
            name = "xl/macrosheets/sheet1.xml"
            data = data.replace(b"<worksheet", b"<xm:macrosheet xmlns:xm=\"http://schemas.microsoft.com/office/excel/2006/main\"", 1)
            data = data.replace(b"</worksheet>", b"</xm:macrosheet>")
        elif name == "[Content_Types].xml":
            data = data.replace(b'PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"',
                                b'PartName="/xl/macrosheets/sheet1.xml" ContentType="application/vnd.ms-excel.macrosheet+xml"')
            data = data.replace(b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                                b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
        elif name == "xl/_rels/workbook.xml.rels":
            data = data.replace(b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/sheet2.xml"',
                                b'Type="http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet" Target="/xl/macrosheets/sheet1.xml"')
            data = data.replace(b'Target="worksheets/sheet2.xml" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"',
                                b'Target="macrosheets/sheet1.xml" Type="http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet"')
        out.writestr(name, data)
    out.close()
    truth["excel4_macro_sheet.xlsm"] = {"matters": 3, "rows_in": 3, "skipped_sheets": ["Macro1"]}


def biff4_xls(truth: dict) -> None:
    """An Excel 4.0 worksheet: a BIFF4 BOF record at the start of the file (no OLE container)."""
    bof = bytes([0x09, 0x04, 0x06, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00])
    eof = bytes([0x0A, 0x00, 0x00, 0x00])
    (OUT / "excel4_biff4.xls").write_bytes(bof + eof)
    truth["excel4_biff4.xls"] = {"error": "Excel 2.0-4.0"}


def convert(name: str, fmt: str, truth: dict, new_name: str | None = None) -> None:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if not exe:
        print(f"soffice not found: {name} -> .{fmt} skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([exe, "--headless", f"-env:UserInstallation=file://{tmp}/profile", "--convert-to", fmt,
                        "--outdir", tmp, str(OUT / name)], check=True, capture_output=True, timeout=180)
        made = Path(tmp) / (Path(name).stem + "." + fmt)
        target = OUT / (new_name or made.name)
        shutil.copy(made, target)
    truth[target.name] = dict(truth[name], converted_from=name)
    truth[target.name].pop("filled", None)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    truth: dict = {"as_of": AS_OF}
    for make in (title_and_unit_line, two_row_header_vertical_spans, merged_unit_leader_date,
                 monthly_sheets_with_instructions, yearly_sheets, hidden_rows_autofilter_frozen, ids_as_numbers,
                 csv_files, no_assigned_accepted_columns, unreadable_dates_extensions, macro_sheet_xlsm, biff4_xls):
        make(truth)
    convert("merged_unit_leader_date.xlsx", "ods", truth)
    convert("merged_unit_leader_date.xlsx", "xls", truth)
    convert("monthly_sheets_with_instructions.xlsx", "xls", truth)
    convert("monthly_sheets_with_instructions.xlsx", "ods", truth)
    if (OUT / "merged_unit_leader_date.xls").exists():  # WPS .et: a BIFF8 workbook under another name
        shutil.copy(OUT / "merged_unit_leader_date.xls", OUT / "wps_saved.et")
        truth["wps_saved.et"] = dict(truth["merged_unit_leader_date.xls"], converted_from="merged_unit_leader_date.xls")
    # What check must find (code -> count); every other readable layout is clean.
    findings = {"ids_as_numbers.xlsx": {"id_number_as_number": 2},
                "title_and_unit_line.xlsx": {"required_missing": 5},  # the two sparse matters
                "unreadable_dates_extensions.xlsx": {"bad_date": 1, "bad_number": 1, "date_order": 2,
                                                     "date_out_of_range": 1}}
    for name, t in truth.items():
        if isinstance(t, dict) and "matters" in t:
            t["findings"] = findings.get(name, {})
    (OUT / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(truth) - 1} layouts to {OUT}")


if __name__ == "__main__":
    main()
