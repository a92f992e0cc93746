"""The per-PC add-in (xfsheets.xlam, the 信访台账 tab) built without Excel and read back by
independent readers (olevba, zip/XML), its installer (on a Windows layout simulated in a
temporary home; on this Linux box the real command must refuse in Chinese), and its extra
buttons run against xlwings' remote engine like the others (tests/test_excel.py)."""
from __future__ import annotations

import re
import shutil
import sys
import zipfile

import openpyxl
import pytest
import xlwings as xw
from click.testing import CliRunner
from lxml import etree
from oletools.olevba import VBA_Parser

import xfsheets.excel as x
from conftest import DATA
from pkgcheck import problems
from test_excel import actions, alert_text, payload
from xfsheets import addin
from xfsheets.cli import main

TAB = ["检查台账", "计算时限", "生成交办单", "生成督办单", "汇总报表", "零报告", "合并台账", "设置", "帮助"]
UI_NS = "http://schemas.microsoft.com/office/2006/01/customui"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return addin.build_addin(tmp_path_factory.mktemp("addin") / "xfsheets.xlam")


def test_ribbon_tab_has_the_nine_buttons_each_one_line_into_xfsheets_excel(built):
    with zipfile.ZipFile(built) as z:
        rels = z.read("_rels/.rels").decode()
        ui = etree.fromstring(z.read("customUI/customUI.xml"))
        types = z.read("[Content_Types].xml").decode()
    assert "ui/extensibility" in rels and "addin.macroEnabled.main+xml" in types
    (tab,) = ui.iter(f"{{{UI_NS}}}tab")
    assert tab.get("label") == "信访台账"
    buttons = list(tab.iter(f"{{{UI_NS}}}button"))
    assert [b.get("label") for b in buttons] == TAB
    parser = VBA_Parser(str(built))
    modules = {name.split(".")[0]: code for _, _, name, code in parser.extract_macros()}
    parser.close()
    ribbon = modules["xfsheetsRibbon"]
    assert "RibbonMyAddin" not in modules  # the template's sample module is gone
    for b in buttons:
        module, sub = b.get("onAction").split(".")
        assert module == "xfsheetsRibbon"
        body = re.search(rf"Sub {sub}\(control As IRibbonControl\)\r?\n(.*?)\r?\nEnd Sub", ribbon, flags=re.S)
        entry = re.fullmatch(r'RunPython "import xfsheets\.excel as x; x\.(\w+)\(\)"', body.group(1).strip())
        assert entry, body.group(1)
        assert callable(getattr(x, entry.group(1))), entry.group(1)
    # xlwings' own VBA, of the pinned version (the one that matches the Python package)
    assert f"'Version: {xw.__version__}" in modules["xlwings"] and "Function RunPython" in modules["xlwings"]
    assert problems(built) == []


def test_addin_contains_no_machine_path(built):
    with zipfile.ZipFile(built) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    xml = b"".join(v for n, v in parts.items() if not n.endswith(".bin"))
    assert b"pythonw" not in xml.lower() and b"xlwings.conf" not in xml  # no conf sheet in the add-in
    assert not any(sys.executable.encode() in v for v in parts.values())


def test_not_windows_says_so_in_chinese_and_exits_2(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    for command in ("install", "uninstall", "status"):
        r = CliRunner().invoke(main, ["excel", "addin", command])
        assert r.exit_code == 2, r.output
        assert "Windows" in r.stderr and "WPS" in r.stderr and "Traceback" not in r.output


def test_help_works_for_the_windows_installer():
    # packaging/windows/安装.bat runs `xfsheets excel addin install` when this succeeds
    r = CliRunner().invoke(main, ["excel", "addin", "--help"])
    assert r.exit_code == 0 and "install" in r.output and "status" in r.output


def test_target_folder_install_status_uninstall(tmp_path):
    run = CliRunner().invoke
    r = run(main, ["excel", "addin", "install", "--target", str(tmp_path), "--interpreter", "/usr/bin/python3"])
    assert r.exit_code == 2 and "不是 Windows 上的 Python 路径" in r.stderr  # no POSIX path in the Windows key
    assert not (tmp_path / "xfsheets.xlam").exists()
    win = r"C:\Users\张三\AppData\Local\Programs\Python\Python312\pythonw.exe"
    r = run(main, ["excel", "addin", "install", "--target", str(tmp_path), "--interpreter", win])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "xfsheets.xlam").exists()
    conf = (tmp_path / "xlwings.conf").read_bytes()
    assert conf == f'"INTERPRETER_WIN","{win}"\r\n'.encode("gbk")  # what VBA's Input # reads (ANSI code page)
    r = run(main, ["excel", "addin", "install", "--target", str(tmp_path), "--interpreter", win])
    assert r.exit_code == 0, r.output  # a reinstall replaces our own add-in
    r = run(main, ["excel", "addin", "status", "--target", str(tmp_path), "--json"])
    assert r.exit_code == 0, r.output
    assert '"installed": true' in r.stdout
    assert run(main, ["excel", "addin", "uninstall", "--target", str(tmp_path)]).exit_code == 0
    assert not (tmp_path / "xfsheets.xlam").exists() and not (tmp_path / "xlwings.conf").exists()
    (tmp_path / "xfsheets.xlam").write_bytes(b"someone else's")
    r = run(main, ["excel", "addin", "install", "--target", str(tmp_path), "--interpreter", win])
    assert r.exit_code == 2 and "不是 xfsheets 生成的" in r.stderr


def test_windows_install_puts_the_addin_in_xlstart_and_keeps_other_settings(windows):
    conf = windows / ".xlwings" / "xlwings.conf"
    conf.parent.mkdir(parents=True)
    conf.write_bytes(b'"INTERPRETER_WIN","C:\\Old\\pythonw.exe"\r\n"LICENSE_KEY","abc"\r\n')
    r = CliRunner().invoke(main, ["excel", "addin", "install"])
    assert r.exit_code == 0, r.output
    xlam = windows / "AppData" / "Roaming" / "Microsoft" / "Excel" / "XLSTART" / "xfsheets.xlam"
    assert xlam.exists() and "重新打开 Excel" in r.output
    assert addin.read_conf(conf) == [("INTERPRETER_WIN", r"C:\Python312\pythonw.exe"), ("LICENSE_KEY", "abc")]
    st = addin.status()
    assert st.installed and st.interpreter == r"C:\Python312\pythonw.exe"
    assert st.interpreter_exists is False and any("不存在" in p for p in st.problems)  # not on this Linux box
    assert CliRunner().invoke(main, ["excel", "addin", "status"]).exit_code == 1
    r = CliRunner().invoke(main, ["excel", "addin", "uninstall"])
    assert r.exit_code == 0, r.output
    assert not xlam.exists()
    assert addin.read_conf(conf) == [("INTERPRETER_WIN", r"C:\Old\pythonw.exe"), ("LICENSE_KEY", "abc")]


# --- the extra buttons, on the active workbook and sheet ----------------------------------------

@pytest.fixture
def caller(monkeypatch, tmp_path):
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    monkeypatch.delenv("XFSHEETS_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)

    def use(data):
        book = xw.Book(json=data)
        monkeypatch.setattr(xw.Book, "caller", classmethod(lambda cls: book))
        return book

    return use


def test_buttons_act_on_the_active_sheet(caller):
    one = payload(DATA / "checks" / "defects.xlsx")
    sheet = one["sheets"][0]
    other = dict(sheet, name="十一月")
    data = dict(one, sheets=[dict(sheet, name="十月"), other],
                book=dict(one["book"], active_sheet_index=1))
    book = caller(data)
    x.compute_deadlines()  # 检查台账 on the sheet on screen: tests/test_addin_round2.py (it marks a copy)
    assert {a["sheet_position"] for a in actions(book, "setValues")} == {1}  # the sheet on screen, not the first


def test_supervision_slips_zero_report_settings_help(caller, tmp_path):
    book = caller(payload(DATA / "slips" / "ledger.xlsx"))
    x.make_supervision_slips()
    text, mode = alert_text(book)
    assert mode == "info" and ("督办单" in text), text
    book = caller(payload(DATA / "summary" / "rates.xlsx"))
    x.zero_report()
    text, mode = alert_text(book)
    assert mode == "info" and "份报告" in text, text
    assert list((tmp_path / "xfsheets输出").glob("零报告_*/*.xlsx"))
    book = caller(payload(DATA / "summary" / "rates.xlsx"))
    x.show_settings()
    text, _ = alert_text(book)
    assert "xlwings.conf" in text and sys.executable in text
    book = caller(payload(DATA / "summary" / "rates.xlsx"))
    x.show_help()
    text, _ = alert_text(book)
    assert all(label in text for label in ("检查台账", "合并台账", "WPS"))


def test_merge_needs_a_saved_workbook(caller):
    book = caller(payload(DATA / "summary" / "rates.xlsx"))
    x.merge_ledgers()
    text, mode = alert_text(book)
    assert mode == "critical" and "保存" in text


def test_pc_profile_and_policy_reach_the_buttons_whatever_the_book_names(windows, caller, tmp_path):
    profile = tmp_path / "本县配置.toml"
    profile.write_text('[labels]\n"来件时间" = "received_on"\n', encoding="utf-8")
    policy = tmp_path / "本县规则.toml"
    policy.write_text('[stages.handle]\ndays = 45\n', encoding="utf-8")
    bad = tmp_path / "坏.toml"
    bad.write_text("[labels\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["excel", "addin", "install", "--profile", str(bad)])
    assert r.exit_code == 2  # refused now, not at the first button press
    r = CliRunner().invoke(main, ["excel", "addin", "install", "--profile", str(profile), "--policy", str(policy)])
    assert r.exit_code == 0, r.output
    assert addin.pc_settings() == {"XFSHEETS_PROFILE": str(profile.resolve()), "XFSHEETS_POLICY": str(policy.resolve())}
    book = caller(payload(DATA / "summary" / "rates.xlsx"))
    assert x.book_settings(book)["XFSHEETS_POLICY"] == str(policy.resolve())
    assert x.book_profile(book).labels.get("来件时间") == "received_on"
    own = caller(payload(DATA / "summary" / "rates.xlsx", [("xlwings.conf", [["XFSHEETS_POLICY", "台账自己的.toml"]])]))
    assert x.book_settings(own)["XFSHEETS_POLICY"] == str(policy.resolve())  # a book's own sheet is no setting
    assert CliRunner().invoke(main, ["excel", "addin", "uninstall"]).exit_code == 0
    assert addin.pc_settings() == {}
