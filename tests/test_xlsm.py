"""The .xlsm with buttons, built without Excel, re-read by independent readers:
olevba (the VBA project), openpyxl (cells, validations), LibreOffice (opens and prints it)."""
from __future__ import annotations

import re
import shutil
import subprocess
import zipfile

import openpyxl
import pytest
from click.testing import CliRunner
from oletools.olevba import VBA_Parser

from conftest import DATA, digest
from xfsheets.cli import main
from xfsheets.xlsm import BUTTONS, bas_source, install, macro_names

LEDGER = DATA / "reader" / "two_row_header.xlsx"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("xlsm")
    src = tmp / "台账.xlsx"
    shutil.copy(LEDGER, src)
    before = digest(src)
    out = install(src)
    assert digest(src) == before  # the .xlsx is never touched
    return src, out


def test_bas_has_one_line_sub_per_button():
    source = bas_source()
    assert macro_names(source) == [b.macro for b in BUTTONS]
    for b in BUTTONS:
        body = re.search(rf"Sub {b.macro}\(\)\r?\n(.*?)\r?\nEnd Sub", source, flags=re.S).group(1).strip()
        assert body == f'RunPython "import xfsheets.excel as x; x.{b.entry}()"'
    assert source.isascii()


def test_every_button_entry_exists():
    import xfsheets.excel as x

    for b in BUTTONS:
        assert callable(getattr(x, b.entry)), b.entry


def test_olevba_sees_our_module_and_xlwings(built):
    _, out = built
    parser = VBA_Parser(str(out))
    modules = {name: code for _, _, name, code in parser.extract_macros()}
    parser.close()
    ours = next(code for name, code in modules.items() if name.startswith("xfsheets"))
    for b in BUTTONS:
        assert f"Sub {b.macro}()" in ours and f"x.{b.entry}()" in ours
    assert any(name.startswith("xlwings") and "Function RunPython" in code for name, code in modules.items())
    assert any(name.startswith("Dictionary") for name in modules)


def test_buttons_are_bound_to_the_macros(built):
    _, out = built
    with zipfile.ZipFile(out) as z:
        vml = [z.read(n).decode() for n in z.namelist() if n.endswith(".vml")]
        ct = z.read("[Content_Types].xml").decode()
    text = " ".join(vml)
    for b in BUTTONS:
        assert f"<x:FmlaMacro>[0]!{b.macro}</x:FmlaMacro>" in text and b.caption in text
    assert "macroEnabled.main+xml" in ct and "vbaProject" in ct


def test_original_cells_unchanged_and_new_sheets(built):
    src, out = built
    a = openpyxl.load_workbook(src)
    b = openpyxl.load_workbook(out, keep_vba=True)
    assert b.sheetnames == a.sheetnames + ["下拉列表", "xfsheets", "xlwings.conf"]
    assert b["下拉列表"].sheet_state == "hidden"
    for ws in a:
        for ra, rb in zip(ws.iter_rows(), b[ws.title].iter_rows()):
            for ca, cb in zip(ra, rb):
                assert (ca.value, ca.number_format) == (cb.value, cb.number_format), ca.coordinate
    assert {str(r) for r in a["台账"].merged_cells.ranges} == {str(r) for r in b["台账"].merged_cells.ranges}
    conf = {r[0]: r[1] for r in b["xlwings.conf"].iter_rows(values_only=True)}
    # no machine path in a ledger: xlwings takes the interpreter from this PC's user settings
    # (an Interpreter row here, even empty, would override them)
    assert not any(k.upper().startswith(("INTERPRETER", "PYTHONPATH", "CONDA")) for k in conf), conf
    with zipfile.ZipFile(out) as z:
        everything = b"".join(z.read(n) for n in z.namelist() if not n.endswith(".bin"))
    assert b"pythonw" not in everything and b"/bin/python" not in everything


def test_validation_lists_dates_and_text_format(built):
    _, out = built
    wb = openpyxl.load_workbook(out, keep_vba=True)
    ws = wb["台账"]
    rules = {str(dv.sqref).split(":")[0][0]: dv for dv in ws.data_validations.dataValidation}
    assert rules["I"].type == "list" and rules["I"].formula1.startswith("'下拉列表'!$A$2")  # 办理状态
    assert str(rules["I"].sqref) == "I4:I1048576"  # the whole column below the header
    assert rules["C"].type == "date"  # 登记日期
    source = [wb["下拉列表"].cell(r, 1).value for r in range(2, 18)]
    assert "已办结" in source and "待受理" in source
    # text format (@, numFmtId 49) as the default style of 身份证号 (E) and 联系电话 (F)
    with zipfile.ZipFile(out) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        styles = z.read("xl/styles.xml").decode()
    xfs = re.findall(r"<xf\b[^>]*>", styles.split("<cellXfs", 1)[1].split("</cellXfs>", 1)[0])
    for index in (5, 6):
        col = re.search(rf'<col [^>]*min="{index}" max="{index}"[^>]*>', sheet).group(0)
        style = int(re.search(r'style="(\d+)"', col).group(1))
        assert 'numFmtId="49"' in xfs[style]


def test_refuses_what_it_must_not_do(tmp_path):
    from xfsheets.errors import XfsheetsError

    with pytest.raises(XfsheetsError, match="只能为 .xlsx"):
        install(DATA / "reader" / "legacy.xls")
    with pytest.raises(XfsheetsError, match="输出文件必须以 .xlsx 结尾"):
        install(LEDGER, tmp_path / "x.xlsm", buttons=False)
    with pytest.raises(XfsheetsError):  # the reader says why there is no ledger to add drop-downs to
        install(DATA / "reader" / "no_ledger.xlsx", tmp_path / "x.xlsx", buttons=False)
    assert not (tmp_path / "x.xlsx").exists()
    with pytest.raises(XfsheetsError, match="不是有效的 .xlsx"):
        install(DATA / "reader" / "encrypted.xlsx", tmp_path / "x.xlsm")


@pytest.mark.soffice
def test_libreoffice_opens_and_prints_it(built, tmp_path, soffice):
    _, out = built
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/lo", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(out)], check=True, capture_output=True, timeout=180)
    pdf = tmp_path / (out.stem + ".pdf")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "赵六" in text and "X2026-101" in text


def test_cli_install_writes_an_xlsx_without_macros(tmp_path):
    src = tmp_path / "台账.xlsx"
    shutil.copy(LEDGER, src)
    before = digest(src)
    r = CliRunner().invoke(main, ["excel", "install", str(src)])
    assert r.exit_code == 0, r.output
    out = tmp_path / "台账_带下拉.xlsx"
    with zipfile.ZipFile(out) as z:
        assert "xl/vbaProject.bin" not in z.namelist()
        assert "macroEnabled" not in z.read("[Content_Types].xml").decode()
    assert digest(src) == before and not (tmp_path / "台账.xlsm").exists()
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["台账", "下拉列表"]
    assert sorted(dv.type for dv in wb["台账"].data_validations.dataValidation).count("list") == 1  # 办理状态 only here
    assert "下拉" in r.output


def test_cli_install_with_buttons_and_again(tmp_path):
    src = tmp_path / "台账.xlsx"
    shutil.copy(LEDGER, src)
    r = CliRunner().invoke(main, ["excel", "install", str(src), "--with-buttons"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "台账.xlsm").exists() and "启用内容" in r.output and "addin install" in r.output
    # a ledger that already has our sheets (the .xlsm saved back as .xlsx keeps them): replaced, not doubled
    wb = openpyxl.load_workbook(tmp_path / "台账.xlsm")
    wb.save(tmp_path / "存回.xlsx")
    r = CliRunner().invoke(main, ["excel", "install", str(tmp_path / "存回.xlsx"), "--with-buttons"])
    assert r.exit_code == 0, r.output
    again = openpyxl.load_workbook(tmp_path / "存回.xlsm", keep_vba=True)
    assert again.sheetnames == ["台账", "下拉列表", "xfsheets", "xlwings.conf"]
    assert len(again["台账"].data_validations.dataValidation) == len(wb["台账"].data_validations.dataValidation)


def test_committed_ledger_template_has_buttons_and_validation():
    template = DATA.parent.parent / "xlsx_templates" / "台账模板.xlsm"
    wb = openpyxl.load_workbook(template, keep_vba=True)
    assert wb.sheetnames == ["信访台账", "下拉列表", "xfsheets", "xlwings.conf"]
    conf = {r[0].value for r in wb["xlwings.conf"].iter_rows()}
    assert not any(str(k).upper().startswith("INTERPRETER") for k in conf)  # this PC's settings apply
    kinds = sorted(dv.type for dv in wb["信访台账"].data_validations.dataValidation)
    assert kinds.count("list") == 3 and kinds.count("date") >= 5
    parser = VBA_Parser(str(template))
    names = [name for _, _, name, _ in parser.extract_macros()]
    parser.close()
    assert any(n.startswith("xfsheets") for n in names) and any(n.startswith("xlwings") for n in names)


def test_reinstall_on_our_own_xlsm_replaces_sheets_and_project(built, tmp_path):
    from pkgcheck import problems

    _, out = built
    again = install(out, tmp_path / "再装.xlsm")
    assert problems(again) == []
    wb = openpyxl.load_workbook(again, keep_vba=True)
    assert wb.sheetnames == ["台账", "下拉列表", "xfsheets", "xlwings.conf"]
    with zipfile.ZipFile(again) as z:
        names = z.namelist()
    assert names.count("xl/vbaProject.bin") == 1 and len([n for n in names if n.endswith(".vml")]) == 1
    first = openpyxl.load_workbook(out, keep_vba=True)["台账"].data_validations.dataValidation
    assert len(wb["台账"].data_validations.dataValidation) == len(first)
