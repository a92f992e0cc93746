"""Annotated copies made by editing the ledger's package (issue 17 item 2) and one plan of marks
applied by the copy and the buttons alike (issue 14 item 2).

The fixture ledger is written with XlsxWriter and holds what openpyxl loses or rewrites: a
chart, an image, a data bar (conditional formatting with an extLst), a table, the clerk's own
notes, data validation, a frozen pane, merged cells (a title and a vertical merge in the data)
and the clerk's styles. After ``check -o`` / ``deadlines -o`` every part other than the ones the
marks must change is byte-identical, the changed ones are well-formed XML in schema order,
openpyxl and LibreOffice open the copy, and the marks are there.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from xml.dom import minidom

import openpyxl
import pytest
from click.testing import CliRunner

from conftest import DATA
from xfsheets.checks import FILLS
from xfsheets.cli import main
from xfsheets.deadlines import COLUMN_SOURCES, DEADLINE_COLUMNS, FLAG_FILLS
from xfsheets.package_edit import WORKSHEET_ORDER

AS_OF = "2026-11-25"


def _png() -> bytes:
    """A 2x2 red PNG (no imaging library needed)."""
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def rich_ledger(path: Path) -> Path:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    title = wb.add_format({"bold": True, "font_size": 16, "align": "center"})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    day = wb.add_format({"num_format": "yyyy/m/d", "border": 1})
    cell = wb.add_format({"border": 1, "font_color": "#1F4E79", "italic": True})
    ws = wb.add_worksheet("信访台账")
    ws.merge_range("A1:K1", "某县信访事项登记台账", title)
    header = ["信访件编号", "登记日期", "信访人", "身份证号", "联系电话", "反映问题", "责任单位", "办理状态", "受理日期",
              "办结日期", "人数"]
    ws.write_row(1, 0, header, head)
    rows = [
        ["XF2026-001", dt.datetime(2026, 10, 8), "张三", "11010519491231002X", "13800138000", "道路破损", "住建局", "办理中",
         dt.datetime(2026, 10, 10), None, 1],
        ["XF2026-002", dt.datetime(2026, 10, 9), "李四", "11010519491231002X", "12345", "噪音扰民", "环保局", "办理中",
         dt.datetime(2026, 10, 12), None, 3],
        ["XF2026-003", "2026.13.05", "王五", "11010519491231002X", "13900139000", "拖欠工资", "人社局", "办理中", None, None, 12],
        ["XF2026-004", dt.datetime(2026, 10, 20), "赵六", "11010519491231002X", "13700137000", "征地补偿", None, "办理中",
         dt.datetime(2026, 10, 22), None, 2],
        ["XF2026-005", dt.datetime(2026, 10, 21), "钱七", "11010519491231002X", "13600136000", "物业纠纷", None, "办理中",
         dt.datetime(2026, 10, 23), None, 5],
    ]
    for r, values in enumerate(rows, 2):
        for c, v in enumerate(values):
            if isinstance(v, dt.datetime):
                ws.write_datetime(r, c, v, day)
            elif v is None:
                ws.write_blank(r, c, None, cell)
            elif isinstance(v, int):
                ws.write_number(r, c, v, cell)
            else:
                ws.write_string(r, c, v, cell)
    ws.merge_range("G6:G7", None, cell)  # a vertical merge in the data, left blank: marked on G6
    ws.data_validation("H3:H200", {"validate": "list", "source": ["办理中", "已办结", "已受理"]})
    ws.conditional_format("K3:K7", {"type": "data_bar", "data_bar_2010": True, "bar_color": "#63C384"})
    ws.freeze_panes(2, 1)
    ws.write_comment("A3", "首件，已电话回访", {"author": "科员小李"})
    ws.write_comment("E4", "群众说号码没错", {"author": "科员小李"})  # on a cell the check marks
    ws.insert_image("M2", "seal.png", {"image_data": io.BytesIO(_png())})
    ws.set_column("A:A", 14)
    stats = wb.add_worksheet("统计")
    stats.add_table("A1:B4", {"data": [["住建局", 3], ["环保局", 5], ["人社局", 2]],
                              "columns": [{"header": "单位"}, {"header": "件数"}]})
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"categories": "=统计!$A$2:$A$4", "values": "=统计!$B$2:$B$4"})
    stats.insert_chart("D2", chart)
    wb.close()
    return path


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> Path:
    return rich_ledger(tmp_path_factory.mktemp("rich") / "台账.xlsx")


def run(*args) -> None:
    r = CliRunner().invoke(main, [str(a) for a in args])
    assert r.exit_code in (0, 1), r.output
    assert "Traceback" not in r.output


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def sheet_parts(path: Path) -> dict[str, str]:
    """sheet name -> part name."""
    parts = members(path)
    wb = parts["xl/workbook.xml"].decode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    out = {}
    for name, rid in re.findall(r'<sheet [^>]*name="([^"]+)"[^>]*r:id="([^"]+)"', wb):
        target = re.search(rf'Id="{rid}"[^>]*Target="([^"]+)"', rels).group(1)
        out[name] = "xl/" + target.lstrip("/").removeprefix("xl/")
    return out


def related(parts: dict[str, bytes], part: str) -> set[str]:
    folder, name = part.rsplit("/", 1)
    rels = parts.get(f"{folder}/_rels/{name}.rels", b"").decode()
    return {"xl/" + t.replace("../", "") for t in re.findall(r'Target="([^"]+)"', rels)
            if "comments" in t or t.endswith(".vml")}


def assert_well_formed_and_ordered(path: Path) -> None:
    for name, data in members(path).items():
        if name.endswith((".xml", ".rels", ".vml")):
            minidom.parseString(data)  # raises on a malformed part
    for part in sheet_parts(path).values():
        xml = members(path)[part].decode()
        root = minidom.parseString(xml).documentElement
        children = [n.localName for n in root.childNodes if n.nodeType == n.ELEMENT_NODE]
        positions = [WORKSHEET_ORDER.index(c) for c in children]
        assert positions == sorted(positions), (part, children)


def test_check_copy_keeps_every_other_part_byte_for_byte(ledger, tmp_path):
    out = tmp_path / "标注.xlsx"
    before = ledger.read_bytes()
    run("check", ledger, "--as-of", AS_OF, "-o", out)
    assert ledger.read_bytes() == before
    old, new = members(ledger), members(out)
    sheet = sheet_parts(ledger)["信访台账"]
    folder, name = sheet.rsplit("/", 1)
    may_change = {sheet, f"{folder}/_rels/{name}.rels", "xl/styles.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                  "[Content_Types].xml", "_rels/.rels", "docProps/custom.xml"} | related(old, sheet)
    kept = {n for n in old if n not in may_change}
    assert {n for n in kept if n in new and new[n] == old[n]} == kept  # charts, image, table, other sheet, ...
    assert any(n.startswith("xl/charts/") for n in kept) and any(n.startswith("xl/media/") for n in kept)
    assert any(n.startswith("xl/tables/") for n in kept)
    # inside the ledger sheet: the data bar's extLst, the validation and the merges are untouched text
    for block in (rb"<extLst>.*</extLst>", rb"<dataValidations.*</dataValidations>", rb"<mergeCells.*</mergeCells>",
                  rb"<conditionalFormatting.*</conditionalFormatting>"):
        original = re.search(block, old[sheet], re.S).group(0)
        assert original in new[sheet]
    assert_well_formed_and_ordered(out)


def test_check_copy_marks_cells_keeps_their_look_and_the_clerks_notes(ledger, tmp_path):
    out = tmp_path / "标注.xlsx"
    run("check", ledger, "--as-of", AS_OF, "-o", out)
    src = openpyxl.load_workbook(ledger)["信访台账"]
    wb = openpyxl.load_workbook(out)
    ws = wb["信访台账"]
    phone = ws["E4"]  # a bad phone: a warning, on a cell with the clerk's note and style
    assert phone.fill.fill_type == "solid" and phone.fill.fgColor.rgb == "FF" + FILLS["warning"]
    assert phone.font.i and phone.font.color.rgb == src["E4"].font.color.rgb and phone.border.left.style == "thin"
    assert phone.comment.text.startswith("群众说号码没错") and "手机" in phone.comment.text
    date = ws["B5"]  # an unreadable date: an error
    assert date.fill.fgColor.rgb == "FF" + FILLS["error"] and "有效日期" in date.comment.text
    assert date.comment.author == "xfsheets"
    assert ws["G6"].fill.fgColor.rgb == "FF" + FILLS["error"]  # the merged G6:G7, marked on its top-left cell
    assert "G6:G7" in {str(m) for m in ws.merged_cells.ranges}
    assert ws["A3"].comment.text == "首件，已电话回访" and ws["A3"].fill.fill_type is None  # not marked, kept
    assert ws["B3"].number_format == "yyyy/m/d" and ws["B3"].fill.fill_type is None
    assert ws.freeze_panes == "B3"
    results = wb["检查结果"]
    assert [c.value for c in results[1]][:3] == ["单元格", "行", "列"]
    listed = [results.cell(r, 1) for r in range(2, results.max_row + 1)]
    assert "E4" in [c.value for c in listed]
    link = next(c for c in listed if c.value == "G7")  # a finding inside the merge links to its top-left cell
    assert link.hyperlink.location == "'信访台账'!G6"
    assert wb.sheetnames[:2] == ["信访台账", "统计"]
    # checking the copy again: the notes are refreshed, not repeated; one results sheet
    again = tmp_path / "标注2.xlsx"
    run("check", out, "--as-of", AS_OF, "-o", again)
    wb2 = openpyxl.load_workbook(again)
    text = wb2["信访台账"]["E4"].comment.text
    assert text.count("群众说号码没错") == 1 and text.count("【警告】") == 1
    assert wb2["信访台账"]["B5"].comment.text == date.comment.text
    assert wb2.sheetnames.count("检查结果") == 1 and wb2["检查结果"].max_row == results.max_row


def test_deadlines_copy_adds_the_columns_and_keeps_the_rest(ledger, tmp_path):
    out = tmp_path / "时限.xlsx"
    run("deadlines", ledger, "--as-of", AS_OF, "-o", out)
    old, new = members(ledger), members(out)
    sheet = sheet_parts(ledger)["信访台账"]
    may_change = {sheet, "xl/styles.xml", "xl/workbook.xml", "[Content_Types].xml", "_rels/.rels", "docProps/custom.xml"}
    assert {n for n in old if n not in may_change and new.get(n) == old[n]} == set(old) - may_change
    ws = openpyxl.load_workbook(out)["信访台账"]
    header = [c.value for c in ws[2]]
    assert header[11:11 + len(DEADLINE_COLUMNS)] == DEADLINE_COLUMNS  # right of 人数 (K)
    col = {label: 12 + k for k, label in enumerate(DEADLINE_COLUMNS)}
    for label, source in COLUMN_SOURCES.items():
        if source == "due_on":
            due = ws.cell(3, col[label])
            assert isinstance(due.value, dt.datetime) and due.number_format == "yyyy-mm-dd"
            assert due.border.left.style is None  # an added cell is not one of the clerk's
        if source == "flag_label":
            flag = ws.cell(3, col[label])
            fill = {v: k for k, v in FLAG_FILLS.items()}
            assert flag.value and flag.fill.fgColor.rgb[2:] in fill
        if source == "explain":
            assert "阶段" in ws.cell(3, col[label]).value and ws.column_dimensions[ws.cell(1, col[label]).column_letter].width == 80
    assert ws.cell(2, col[DEADLINE_COLUMNS[0]]).font.b  # the added header looks like the clerk's header
    assert ws.freeze_panes == "B3"  # the clerk's own frozen pane is kept
    assert ws.auto_filter.ref == f"A2:{ws.cell(1, max(col.values())).column_letter}7"
    assert_well_formed_and_ordered(out)
    # a second run on the copy refreshes the columns instead of adding more
    again = tmp_path / "时限2.xlsx"
    run("deadlines", out, "--as-of", AS_OF, "-o", again)
    ws2 = openpyxl.load_workbook(again)["信访台账"]
    assert [c.value for c in ws2[2]] == header


def test_libreoffice_opens_both_copies(ledger, tmp_path, soffice):
    check_out, dl_out = tmp_path / "c.xlsx", tmp_path / "d.xlsx"
    run("check", ledger, "--as-of", AS_OF, "-o", check_out)
    run("deadlines", ledger, "--as-of", AS_OF, "-o", dl_out)
    profile = (tmp_path / "lo").as_uri()
    subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to",
                    "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir",
                    str(tmp_path / "csv"), str(check_out), str(dl_out)], check=True, capture_output=True, timeout=180)
    c = (tmp_path / "csv" / "c.csv").read_text("utf-8")
    d = (tmp_path / "csv" / "d.csv").read_text("utf-8")
    assert "XF2026-003" in c and "XF2026-003" in d
    assert all(label in d for label in DEADLINE_COLUMNS)


def _audit() -> str | None:
    beside = Path(sys.executable).with_name("openxml-audit")
    return str(beside) if beside.exists() else shutil.which("openxml-audit")


@pytest.mark.skipif(_audit() is None, reason="the strict OOXML validator is not installed: pip install openxml-audit")
def test_strict_ooxml_validator(ledger, tmp_path):
    for command in ("check", "deadlines"):
        out = tmp_path / f"{command}.xlsx"
        run(command, ledger, "--as-of", AS_OF, "-o", out)
        done = subprocess.run([_audit(), "--policy", "strict", str(out)], capture_output=True, text=True)
        assert "Errors: 0" in done.stdout, done.stdout


def test_encrypted_ledger_gives_an_unencrypted_marked_copy(tmp_path):
    out = tmp_path / "标注.xlsx"
    run("check", DATA / "reader" / "encrypted.xlsx", "--password", "xf2026", "-o", out)
    assert zipfile.is_zipfile(out)
    wb = openpyxl.load_workbook(out)
    assert "检查结果" in wb.sheetnames


def test_a_csv_ledger_becomes_a_new_marked_workbook(tmp_path):
    src = tmp_path / "台账.csv"
    src.write_text("信访件编号,登记日期,信访人,反映问题,责任单位,办理状态,联系电话\n"
                   "XF-1,2026-10-08,张三,道路破损,住建局,办理中,12345\n"
                   "XF-2,2026-10-09,李四,噪音扰民,,办理中,13800138000\n", encoding="utf-8")
    out = tmp_path / "标注.xlsx"
    run("check", src, "--as-of", AS_OF, "-o", out)
    ws = openpyxl.load_workbook(out).worksheets[0]
    assert ws["A2"].value == "XF-1" and ws["G2"].value == "12345"  # text stays text
    assert ws["G2"].fill.fgColor.rgb == "FF" + FILLS["warning"] and ws["E3"].fill.fgColor.rgb == "FF" + FILLS["error"]


def test_excel4_macro_sheets_go_only_into_an_xlsm(tmp_path):
    src = DATA / "layouts" / "excel4_macro_sheet.xlsm"
    r = CliRunner().invoke(main, ["check", str(src), "-o", str(tmp_path / "标注.xlsx")])
    assert r.exit_code == 2 and ".xlsm" in r.output and not (tmp_path / "标注.xlsx").exists()
    run("deadlines", src, "--as-of", AS_OF, "-o", tmp_path / "时限.xlsm")
    out = members(tmp_path / "时限.xlsm")
    assert any(n.startswith("xl/macrosheets/") for n in out)
    assert "macroEnabled.main+xml" in out["[Content_Types].xml"].decode()


def test_every_deadline_column_has_a_source():
    assert set(DEADLINE_COLUMNS) <= set(COLUMN_SOURCES)


# --- the copy and the button apply one plan -----------------------------------------------------

def _button_book(monkeypatch, path):
    import xlwings as xw

    from test_excel import payload

    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    monkeypatch.delenv("XFSHEETS_CONFIG", raising=False)
    book = xw.Book(json=payload(path))
    monkeypatch.setattr(xw.Book, "caller", classmethod(lambda cls: book))
    return book


def test_check_copy_and_button_mark_the_same(monkeypatch, tmp_path):
    """检查台账 writes its marks into a copy: the same file ``check -o`` writes."""
    import shutil

    import xfsheets.excel as x

    monkeypatch.chdir(tmp_path)
    ledger = shutil.copy(DATA / "checks" / "defects.xlsx", tmp_path / "defects.xlsx")
    _button_book(monkeypatch, ledger)
    x.check_ledger()
    (button_copy,) = (tmp_path / "xfsheets输出").glob("检查标注_*/defects_检查标注.xlsx")
    out = tmp_path / "标注.xlsx"
    run("check", ledger, "-o", out)

    def marks(path):
        wb = openpyxl.load_workbook(path)
        ws = wb.worksheets[0]
        fills = {(c.row, c.column): c.fill.fgColor.rgb[2:].lower() for row in ws.iter_rows() for c in row
                 if c.fill.fill_type == "solid" and c.fill.fgColor.rgb[2:] in FILLS.values()}
        notes = {c.coordinate: c.comment.text for row in ws.iter_rows() for c in row
                 if c.comment is not None and c.comment.author == "xfsheets"}
        return fills, notes, [list(r) for r in wb["检查结果"].iter_rows(values_only=True)]

    button, cli = marks(button_copy), marks(out)
    assert button[0] and button == cli


def test_deadlines_copy_and_button_add_the_same_columns(monkeypatch, tmp_path):
    import xfsheets.excel as x

    ledger = DATA / "summary" / "rates.xlsx"
    monkeypatch.chdir(tmp_path)
    book = _button_book(monkeypatch, ledger)
    x.compute_deadlines()
    acts = book.json()["actions"]
    out = tmp_path / "时限.xlsx"
    run("deadlines", ledger, "--as-of", dt.date.today().isoformat(), "-o", out)  # the button judges today
    ws = openpyxl.load_workbook(out).worksheets[0]
    compared = 0
    for a in acts:
        if a["func"] != "setValues":
            continue
        for i, row in enumerate(a["values"]):
            for j, v in enumerate(row):
                cell = ws.cell(a["start_row"] + 1 + i, a["start_column"] + 1 + j).value
                cell = cell.date().isoformat() if isinstance(cell, dt.datetime) else cell
                assert (None if v == "" else v) == cell, (a["start_row"] + 1 + i, a["start_column"] + 1 + j)
                compared += 1
    colours = [a for a in acts if a["func"] == "setRangeColor"]
    for a in colours:
        fill = ws.cell(a["start_row"] + 1, a["start_column"] + 1).fill
        expected = (a["args"][0] or "").lstrip("#").upper()
        assert (fill.fgColor.rgb[2:] if fill.fill_type == "solid" else "") == expected
    assert compared > 6 * 7 and colours


def test_notes_added_to_a_ledger_whose_notes_openpyxl_saved(tmp_path):
    """openpyxl's VML root binds no v:/o:/x: prefix (it declares its own on each element): the notes
    check -o adds there must declare theirs, or the copy is refused as not well-formed XML."""
    import openpyxl
    from lxml import etree
    from openpyxl.comments import Comment

    sample = Path(__file__).resolve().parents[1] / "xfsheets" / "samples" / "县人社局台账.xlsx"
    wb = openpyxl.load_workbook(sample)
    ws = wb.worksheets[0]
    ws["C5"].comment = Comment("已核实", "张三")
    ws["F6"] = "12345"  # a bad ID number: check -o adds a note here
    ledger = tmp_path / "台账.xlsx"
    wb.save(ledger)
    out = tmp_path / "检查.xlsx"
    done = subprocess.run([sys.executable, "-m", "xfsheets", "check", str(ledger), "-o", str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 1 and out.exists(), done.stderr
    with zipfile.ZipFile(out) as z:
        for name in z.namelist():
            if name.endswith(".vml"):
                etree.fromstring(z.read(name))  # well-formed, every prefix bound
    notes = {c.coordinate: c.comment.text for row in openpyxl.load_workbook(out).worksheets[0].iter_rows()
             for c in row if c.comment}
    assert notes["C5"] == "已核实" and "F6" in notes
