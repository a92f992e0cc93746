"""Every package part xfsheets writes is valid, whoever made the input (issue 15, item 4).

Inputs: a ledger written by xlsxwriter (standing in for Excel-made files) carrying an Excel
2010 data bar (an <extLst>), a table, a chart, comments and the clerk's own validations; the
same ledger saved by openpyxl and by LibreOffice; xfsheets' own ``check -o`` / ``deadlines -o``
copies. Each gets ``excel install`` (the .xlsx with drop-downs) and ``--with-buttons`` (the
.xlsm), and a second install on the result. Checked by ``pkgcheck.problems`` (well-formed
parts, CT_Worksheet order, relationships, content types) and by the strict validator
openxml-audit: the output may carry no error the input did not already have.
"""
from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from lxml import etree
from click.testing import CliRunner

from conftest import DATA
from pkgcheck import audit, problems
from xfsheets.cli import main
from xfsheets.sample import LABELS_STANDARD, sample_rows
from xfsheets.xlsm import MAX_ROW, install

ROWS = 30
LIST_FIELDS = ("信访形式", "问题类别", "办理状态")
DATE_LABELS = ("登记日期", "交办日期", "受理日期", "办结日期")


def xlsxwriter_ledger(path: Path) -> Path:
    """A ledger as Excel keeps one: data bar (2010), table, chart, comments, own validations."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"default_date_format": "yyyy-mm-dd"})
    ws = wb.add_worksheet("信访台账")
    rows = sample_rows(ROWS, seed=7)
    ws.add_table(0, 0, ROWS, len(LABELS_STANDARD) - 1,
                 {"columns": [{"header": h} for h in LABELS_STANDARD], "style": "Table Style Light 9",
                  "data": [[v.isoformat() if isinstance(v, dt.date) else v for v in r] for r in rows]})
    count = LABELS_STANDARD.index("人数")
    ws.conditional_format(1, count, ROWS, count, {"type": "data_bar", "data_bar_2010": True})
    ws.write_comment(1, 1, "办理人自己的批注")
    remark = LABELS_STANDARD.index("备注")
    ws.data_validation(1, remark, ROWS, remark, {"validate": "length", "criteria": "<=", "value": 200})
    status = LABELS_STANDARD.index("办理状态")  # the clerk's own list on the first ten status cells
    ws.data_validation(1, status, 10, status, {"validate": "list", "source": ["在办", "办结"]})
    other = wb.add_worksheet("统计")
    other.write_column(0, 0, ["县", "乡"])
    other.write_column(0, 1, [3, 5])
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"categories": "=统计!$A$1:$A$2", "values": "=统计!$B$1:$B$2"})
    other.insert_chart("D2", chart)
    wb.close()
    return path


def soffice_convert(soffice: str, src: Path, outdir: Path, fmt: str = "xlsx") -> Path:
    outdir.mkdir(exist_ok=True)
    subprocess.run([soffice, f"-env:UserInstallation=file://{outdir}/lo", "--headless", "--convert-to", fmt,
                    "--outdir", str(outdir), str(src)], check=True, capture_output=True, timeout=240)
    return outdir / (src.stem + "." + fmt.split(":")[0])


@pytest.fixture(scope="module")
def excelish(tmp_path_factory) -> Path:
    return xlsxwriter_ledger(tmp_path_factory.mktemp("xw") / "台账.xlsx")


def _input(kind: str, excelish: Path, tmp: Path) -> Path:
    if kind == "xlsxwriter":
        return excelish
    if kind == "openpyxl":
        wb = openpyxl.load_workbook(excelish)
        wb.save(tmp / "openpyxl.xlsx")
        return tmp / "openpyxl.xlsx"
    if kind == "openpyxl_two_row_header":
        return DATA / "reader" / "two_row_header.xlsx"
    if kind in ("check_o", "deadlines_o"):
        out = tmp / f"{kind}.xlsx"
        args = ["check", str(excelish), "-o", str(out)] if kind == "check_o" else \
            ["deadlines", str(excelish), "--as-of", "2026-11-20", "-o", str(out)]
        r = CliRunner().invoke(main, args)
        assert r.exit_code in (0, 1) and out.exists(), r.output
        return out
    if kind == "libreoffice":
        exe = shutil.which("soffice") or shutil.which("libreoffice")
        if not exe:
            pytest.skip("LibreOffice (soffice) is not installed")
        src = tmp / "lo_in.xlsx"
        shutil.copy(excelish, src)
        return soffice_convert(exe, src, tmp / "lo")
    raise AssertionError(kind)


KINDS = ["xlsxwriter", "openpyxl", "openpyxl_two_row_header", "libreoffice", "check_o", "deadlines_o"]


def _new_errors(before: Path, after: Path) -> set[str]:
    a, b = audit(before), audit(after)
    if a is None:
        return set()
    return b - a


@pytest.mark.parametrize("kind", KINDS)
def test_install_writes_valid_packages(kind, excelish, tmp_path):
    src = _input(kind, excelish, tmp_path)
    assert problems(src) == [] or kind == "openpyxl_two_row_header", problems(src)  # our checker accepts the inputs
    profile = None  # a deadlines -o copy reads back as a ledger: its computed columns map to no field
    plain = install(src, tmp_path / "out.xlsx", buttons=False, profile=profile)
    with_buttons = install(src, tmp_path / "out.xlsm", profile=profile)
    again = install(plain, tmp_path / "again.xlsx", buttons=False, profile=profile)
    buttons_again = install(plain, tmp_path / "again.xlsm", profile=profile)
    for out in (plain, with_buttons, again, buttons_again):
        assert problems(out) == [], (out.name, problems(out))
        assert _new_errors(src, out) == set(), out.name
        wb = openpyxl.load_workbook(out)  # openpyxl refused the .xlsm written before the fix
        names = wb.sheetnames
        assert len(names) == len(set(names)) and names.count("下拉列表") == 1, names
        assert ("xfsheets" in names) == (out.suffix == ".xlsm")
    ledger = openpyxl.load_workbook(again)[openpyxl.load_workbook(src).sheetnames[0]]
    first = openpyxl.load_workbook(plain)[ledger.title]
    assert len(ledger.data_validations.dataValidation) == len(first.data_validations.dataValidation)


def _rules(ws) -> dict[str, list]:
    by_col: dict[str, list] = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            by_col.setdefault(rng.coord.rstrip("0123456789:").rstrip("0123456789"), []).append((dv, rng))
    return by_col


def test_whole_columns_and_the_clerks_own_rules_kept(excelish, tmp_path):
    out = install(excelish, tmp_path / "out.xlsx", buttons=False)
    ws = openpyxl.load_workbook(out)["信访台账"]
    header = {c.value: c.column_letter for c in ws[1]}
    rules = [(dv, r) for dv in ws.data_validations.dataValidation for r in dv.sqref.ranges]
    status = header["办理状态"]
    at_status = sorted((r.min_row, r.max_row, dv.formula1) for dv, r in rules if r.min_col == r.max_col == ws[f"{status}1"].column)
    # the clerk's list keeps rows 2-11; ours takes the rest of the column, to Excel's last row
    assert at_status == [(2, 11, '"在办,办结"'), (12, MAX_ROW, "'下拉列表'!$C$2:$C$17")] or \
        [(a, b) for a, b, _ in at_status] == [(2, 11), (12, MAX_ROW)], at_status
    for label in ("信访形式", "问题类别", *DATE_LABELS):
        col = ws[f"{header[label]}1"].column
        spans = [(r.min_row, r.max_row) for dv, r in rules if r.min_col == r.max_col == col]
        assert spans == [(2, MAX_ROW)], (label, spans)
    remark = ws[f"{header['备注']}1"].column
    assert [(dv.type, r.min_row, r.max_row) for dv, r in rules if r.min_col == remark] == [("textLength", 2, ROWS + 1)]
    with zipfile.ZipFile(out) as z:
        root = etree.fromstring(z.read("xl/worksheets/sheet1.xml"))
    children = [etree.QName(c).localname for c in root]
    # after the conditional formats, before the table and the data bar's <extLst>: CT_Worksheet order
    assert children.index("conditionalFormatting") < children.index("dataValidations") < \
        children.index("tableParts") < children.index("extLst")
    assert b"x14:dataBar" in etree.tostring(root[-1])  # and the 2010 data bar is still there


@pytest.mark.soffice
def test_libreoffice_round_trip_keeps_every_drop_down(excelish, tmp_path, soffice):
    out = install(excelish, tmp_path / "dd.xlsx", buttons=False)
    back = soffice_convert(soffice, out, tmp_path / "back")
    ours = openpyxl.load_workbook(out)["信访台账"]
    theirs = openpyxl.load_workbook(back)["信访台账"]
    header = {c.value: c.column for c in ours[1]}

    def kinds(ws):
        found = {}
        for dv in ws.data_validations.dataValidation:
            for r in dv.sqref.ranges:
                if r.min_col == r.max_col:
                    # LibreOffice writes a whole-column rule back cut to ~1000 rows below the data
                    found.setdefault(r.min_col, set()).add((dv.type, r.min_row, r.max_row > ROWS + 1))
        return found

    a, b = kinds(ours), kinds(theirs)
    for label in (*LIST_FIELDS, *DATE_LABELS):
        assert a[header[label]] and a[header[label]] <= b.get(header[label], set()), (label, a.get(header[label]),
                                                                                      b.get(header[label]))
    assert sum(len(v) for v in a.values()) >= 8
