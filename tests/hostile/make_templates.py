"""Hostile 交办单 templates and ledgers for tests/test_outputs_trust.py, built at test time.

Each starts from the shipped template (xlsx_templates/交办单.xlsx), as an office edits it in
Excel, and adds what a template passed around between offices really picks up:

- linked_template: a formula reading the unit address book in another workbook (an
  external link part pointing at D:\\信访\\单位通讯录.xlsx), a hidden sheet 通讯录 with a
  phone number, a very-hidden sheet 密钥, a VBA project (the package is an .xlsm) and a
  data connection whose connection string holds a database password;
- dimension_bomb_template: one value typed at XFD1048576 (the template's range is the whole grid);
- row_span_template: a million empty formatted rows spanning every column (a few MB zipped);
- openpyxl_ledger: a ledger last saved by openpyxl (``xmlns:r`` declared on each <sheet>);
- many_units_ledger: a ledger with one open matter for each of ``units`` units (a slips run
  long enough to be interrupted).

    python tests/hostile/make_templates.py DIR     # write them all into DIR, to look at
"""
from __future__ import annotations

import datetime as dt
import re
import sys
import zipfile
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "xlsx_templates" / "交办单.xlsx"
EXTERNAL_BOOK = "D:/信访/单位通讯录.xlsx"
HIDDEN_PHONE = "13987654321"
DB_PASSWORD = "Xf#2026secret"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _rewrite(path: Path, edit) -> Path:
    """Rewrite the package at ``path``: ``edit(parts)`` changes the dict of part name -> bytes."""
    with zipfile.ZipFile(path) as zin:
        parts = {n: zin.read(n) for n in zin.namelist()}
    edit(parts)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in parts.items():
            zout.writestr(name, data)
    return path


def linked_template(path: str | Path) -> Path:
    path = Path(path)
    wb = openpyxl.load_workbook(SHIPPED)
    ws = wb.worksheets[0]
    ws["F2"] = "='D:\\信访\\[单位通讯录.xlsx]联系人'!B2"  # becomes [1]联系人!B2 below
    book = wb.create_sheet("通讯录")
    book.append(["单位", "联系人", "电话"])
    book.append(["县人社局", "李科长", HIDDEN_PHONE])
    book.sheet_state = "hidden"
    secret = wb.create_sheet("密钥")
    secret["A1"] = "内部使用"
    secret.sheet_state = "veryHidden"
    wb.save(path)

    def edit(parts: dict[str, bytes]) -> None:
        sheet = parts["xl/worksheets/sheet1.xml"].decode()
        sheet = re.sub(r"<f>[^<]*单位通讯录[^<]*</f>", "<f>[1]联系人!B2</f><v>李科长</v>", sheet)
        parts["xl/worksheets/sheet1.xml"] = sheet.encode()
        parts["xl/externalLinks/externalLink1.xml"] = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'xmlns:r="{REL}"><externalBook r:id="rId1"><sheetNames><sheetName val="联系人"/></sheetNames>'
            '<sheetDataSet><sheetData sheetId="0"><row r="2"><cell r="B2" t="str"><v>李科长</v></cell></row>'
            '</sheetData></sheetDataSet></externalBook></externalLink>').encode()
        parts["xl/externalLinks/_rels/externalLink1.xml.rels"] = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{REL}/externalLinkPath" Target="file:///{EXTERNAL_BOOK}" '
            'TargetMode="External"/></Relationships>').encode()
        parts["xl/connections.xml"] = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<connections xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<connection id="1" name="信访系统" type="1" refreshedVersion="6" background="1" saveData="1">'
            f'<dbPr connection="DSN=xfxt;UID=admin;PWD={DB_PASSWORD}" command="select * from xf"/>'
            '</connection></connections>').encode()
        parts["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504  # an OLE header
        rels = parts["xl/_rels/workbook.xml.rels"].decode()
        rels = rels.replace("</Relationships>",
                            f'<Relationship Id="rId90" Type="{REL}/externalLink" Target="externalLinks/externalLink1.xml"/>'
                            f'<Relationship Id="rId91" Type="{REL}/connections" Target="connections.xml"/>'
                            '<Relationship Id="rId92" Type="http://schemas.microsoft.com/office/2006/relationships/'
                            'vbaProject" Target="vbaProject.bin"/></Relationships>')
        parts["xl/_rels/workbook.xml.rels"] = rels.encode()
        book_xml = parts["xl/workbook.xml"].decode()
        if "xmlns:r=" not in book_xml.split(">", 2)[1]:
            book_xml = book_xml.replace("<workbook ", f'<workbook xmlns:r="{REL}" ', 1)
        book_xml = re.sub(r"(</sheets>)", r'\1<externalReferences><externalReference r:id="rId90"/></externalReferences>',
                          book_xml, count=1)
        parts["xl/workbook.xml"] = book_xml.encode()
        types = parts["[Content_Types].xml"].decode()
        types = re.sub(r'ContentType="application/vnd\.openxmlformats-officedocument\.spreadsheetml\.sheet\.main\+xml"',
                       'ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"', types)
        types = types.replace("</Types>",
                              '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
                              '<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="application/'
                              'vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/>'
                              '<Override PartName="/xl/connections.xml" ContentType="application/'
                              'vnd.openxmlformats-officedocument.spreadsheetml.connections+xml"/></Types>')
        parts["[Content_Types].xml"] = types.encode()

    return _rewrite(path, edit)


def dimension_bomb_template(path: str | Path) -> Path:
    path = Path(path)
    wb = openpyxl.load_workbook(SHIPPED)
    wb.worksheets[0]["XFD1048576"] = "x"
    wb.save(path)
    return path


def row_span_template(path: str | Path, rows: int = 1_000_000) -> Path:
    path = Path(path)
    wb = openpyxl.load_workbook(SHIPPED)
    wb.save(path)

    def edit(parts: dict[str, bytes]) -> None:
        sheet = parts["xl/worksheets/sheet1.xml"].decode()
        empty = "".join(f'<row r="{r}" spans="1:16384" ht="20" customHeight="1"/>' for r in range(100, 100 + rows))
        sheet = sheet.replace("</sheetData>", empty + "</sheetData>", 1)
        sheet = re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:XFD1048576"/>', sheet)
        parts["xl/worksheets/sheet1.xml"] = sheet.encode()

    return _rewrite(path, edit)


LEDGER_HEADER = ["信访件编号", "登记日期", "信访人", "反映问题", "责任单位", "交办日期", "受理日期", "办理状态"]


def _ledger(path: Path, rows: list[list]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append(LEDGER_HEADER)
    for row in rows:
        ws.append(row)
    wb.save(path)  # openpyxl writes xmlns:r on each <sheet> element of workbook.xml
    return path


def openpyxl_ledger(path: str | Path) -> Path:
    day = dt.datetime(2026, 10, 9)
    return _ledger(Path(path), [["P-001", day, "张三", "拖欠工资", "县人社局", day, day, "办理中"],
                                ["P-002", day, "李四", None, "县住建局", day, day, "办理中"]])


def many_units_ledger(path: str | Path, units: int = 400) -> Path:
    day = dt.datetime(2026, 10, 9)
    return _ledger(Path(path), [[f"M-{i:04d}", day, f"信访人{i}", f"反映问题{i}", f"第{i}号单位", day, day, "办理中"]
                                for i in range(1, units + 1)])


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    out.mkdir(parents=True, exist_ok=True)
    linked_template(out / "linked_template.xlsm")
    dimension_bomb_template(out / "dimension_bomb_template.xlsx")
    row_span_template(out / "row_span_template.xlsx")
    openpyxl_ledger(out / "openpyxl_ledger.xlsx")
    many_units_ledger(out / "many_units_ledger.xlsx")
