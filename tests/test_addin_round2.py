"""The Excel add-in says what is true (issue 24 item 4).

- ``excel addin install`` on a Windows PC without Microsoft Excel says "本机未安装 Microsoft Excel",
  exits 3 and writes nothing (Excel is found in the registry; WPS registered as Excel.Application
  is not Excel).
- 检查台账 writes its marks into a copy; the open ledger, its file and the clerk's own fills and
  notes are left exactly as they were.
- 汇总报表 asks for the period: 本周/上周/本月/本季度/自定义 -> dates.
(The .xlam reading %USERPROFILE%\\.xlwings\\xlwings.conf, what install writes and status checks, is
tests/test_no_steering.py::test_addin_reads_exactly_the_file_install_writes_and_status_checks.)
"""
from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import sys

import openpyxl
import pytest
import xlwings as xw
from click.testing import CliRunner

import xfsheets.excel as x
from conftest import DATA
from test_excel import payload
from test_install import run_bat, wine  # noqa: F401  (wine: the fixture, skipped without wine64)
from xfsheets import addin
from xfsheets.cli import main
from xfsheets.errors import XfsheetsError
from xfsheets.periods import parse_range, period, preset_name

EXCEL = r"C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE"
CLSID = "{00024500-0000-0000-C000-000000000046}"


def registry(entries: dict[tuple[str, str], str]):
    return lambda root, key: entries.get((root, key))


# --- is Excel here ----------------------------------------------------------------------------------

@pytest.mark.parametrize("entries, found", [
    ({("HKEY_CLASSES_ROOT", r"Excel.Application\CLSID"): CLSID,
      ("HKEY_CLASSES_ROOT", rf"CLSID\{CLSID}\LocalServer32"): f'"{EXCEL}" /automation'}, EXCEL),
    ({("HKEY_CLASSES_ROOT", r"Excel.Application\CLSID"): CLSID,  # WPS 表格 registered as Excel.Application
      ("HKEY_CLASSES_ROOT", rf"CLSID\{CLSID}\LocalServer32"): r'"C:\Users\c\AppData\Local\Kingsoft\WPS Office\12.1.0\office6\et.exe" /automation'},
     None),
    ({("HKEY_LOCAL_MACHINE", r"SOFTWARE\Microsoft\Windows\CurrentVersion\App Paths\excel.exe"): EXCEL}, EXCEL),
    ({}, None),
])
def test_excel_is_found_in_the_registry_and_wps_is_not_excel(entries, found):
    assert addin.find_excel(registry(entries), exists=lambda p: p == EXCEL) == found


def test_excel_left_in_the_registry_after_removal_is_not_excel():
    entries = {("HKEY_LOCAL_MACHINE", r"SOFTWARE\Microsoft\Windows\CurrentVersion\App Paths\excel.exe"): EXCEL}
    assert addin.find_excel(registry(entries), exists=lambda p: False) is None


@pytest.fixture
def windows_without_excel(monkeypatch, tmp_path):
    home = tmp_path / "Users" / "clerk"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("APPDATA", str(home / "AppData" / "Roaming"))
    monkeypatch.setenv("USERPROFILE", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setattr(addin, "find_excel", lambda: None)
    return tmp_path


def test_install_without_excel_says_so_exits_3_and_writes_nothing(windows_without_excel):
    r = CliRunner().invoke(main, ["excel", "addin", "install", "--interpreter", r"C:\Python312\pythonw.exe"])
    assert r.exit_code == 3, r.output
    assert "本机未安装 Microsoft Excel" in r.output and "xfsheets wps install" in r.output
    assert "已安装" not in r.output and "Traceback" not in r.output
    assert [p for p in windows_without_excel.rglob("*") if p.is_file()] == []  # no .xlam, no xlwings.conf, no record


def test_not_windows_install_says_excel_is_absent_plainly(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    r = CliRunner().invoke(main, ["excel", "addin", "install"])
    assert r.exit_code == 2 and r.output.startswith("错误：本机未安装 Microsoft Excel：本机不是 Windows"), r.output


# --- 检查台账 marks a copy ---------------------------------------------------------------------------

CLERK_FILL = "FF92D050"  # the clerk's own green on rows they follow up


def clerk_ledger(path):
    """A ledger as a clerk keeps it in Excel (xlsxwriter writes notes as Excel does): their own green
    on a cell the check marks (a bad phone, E3) and on a clean cell (A2), their own note on E3."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("信访台账")
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    green = wb.add_format({"bg_color": "#92D050", "pattern": 1})
    ws.write_row(0, 0, ["信访件编号", "登记日期", "信访人", "身份证号", "联系电话", "反映问题", "责任单位", "办理状态"])
    rows = [["XF2026-001", dt.datetime(2026, 10, 8), "张三", "11010519491231002X", "13800138000", "道路破损", "住建局", "办理中"],
            ["XF2026-002", dt.datetime(2026, 10, 9), "李四", "11010519491231002X", "12345", "噪音扰民", "环保局", "办理中"]]
    for r, values in enumerate(rows, 1):
        for c, v in enumerate(values):
            fmt = green if (r, c) in ((1, 0), (2, 4)) else None
            if isinstance(v, dt.datetime):
                ws.write_datetime(r, c, v, day)
            else:
                ws.write_string(r, c, v, fmt)
    ws.write_comment("E3", "已电话核实，待补号码", {"author": "张科员"})
    wb.close()
    return path


@pytest.fixture
def caller(monkeypatch, tmp_path):
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    monkeypatch.delenv("XFSHEETS_CONFIG", raising=False)
    monkeypatch.setattr(addin, "pc_settings", lambda: {})
    monkeypatch.chdir(tmp_path)

    def use(data):
        book = xw.Book(json=data)
        monkeypatch.setattr(xw.Book, "caller", classmethod(lambda cls: book))
        return book

    return use


def test_check_marks_a_copy_and_keeps_the_clerks_fills_and_notes(caller, tmp_path):
    ledger = clerk_ledger(tmp_path / "台账.xlsx")
    before = hashlib.sha256(ledger.read_bytes()).hexdigest()
    book = caller(payload(ledger))
    x.check_ledger()
    text = book.json()["actions"][0]["args"][0]
    assert [a["func"] for a in book.json()["actions"]] == ["alert"], text  # nothing written into the open book
    assert hashlib.sha256(ledger.read_bytes()).hexdigest() == before  # nor into its file
    (copy,) = (tmp_path / "xfsheets输出").glob("检查标注_*/台账_检查标注.xlsx")
    wb = openpyxl.load_workbook(copy)
    ws = wb["信访台账"]
    assert ws["E3"].fill.fgColor.rgb[2:].upper() == "FFEB9C" and "手机" in ws["E3"].comment.text  # a warning
    assert ws["E3"].comment.text.startswith("已电话核实，待补号码")  # the clerk's note first, ours after it
    assert ws["A2"].fill.fgColor.rgb == CLERK_FILL  # a clean cell keeps the clerk's fill in the copy too
    assert [r[0] for r in wb["检查结果"].iter_rows(min_row=2, values_only=True)] == ["E3"]
    assert "0 个错误、1 个警告" in text and copy.name in text and "没有任何改动" in text
    mine = openpyxl.load_workbook(ledger)  # the clerk's own file, as they left it
    assert mine["信访台账"]["E3"].fill.fgColor.rgb == CLERK_FILL and mine["信访台账"]["A2"].fill.fgColor.rgb == CLERK_FILL
    assert mine["信访台账"]["E3"].comment.text == "已电话核实，待补号码" and mine.sheetnames == ["信访台账"]


def test_check_marks_the_sheet_on_screen_in_the_copy(caller, tmp_path):
    src = openpyxl.load_workbook(DATA / "checks" / "defects.xlsx")
    src.worksheets[0].title = "十月"
    src.copy_worksheet(src.worksheets[0]).title = "十一月"
    src.save(tmp_path / "两个月.xlsx")
    data = payload(tmp_path / "两个月.xlsx")
    book = caller(dict(data, book=dict(data["book"], active_sheet_index=1)))
    x.check_ledger()
    (copy,) = (tmp_path / "xfsheets输出").glob("检查标注_*/两个月_检查标注.xlsx")
    wb = openpyxl.load_workbook(copy)
    assert wb["十一月"]["E10"].comment is not None and wb["十月"]["E10"].comment is None
    assert {r[0].split("!")[0] for r in wb["检查结果"].iter_rows(min_row=2, values_only=True) if "!" in str(r[0])} <= {"十一月"}
    assert actions_of(book) == ["alert"]


def actions_of(book):
    return [a["func"] for a in book.json()["actions"]]


def test_check_of_a_book_never_saved_asks_to_save_it(caller, tmp_path):
    book = caller(payload(DATA / "checks" / "defects.xlsx"))  # its name only: no file in the working folder
    x.check_ledger()
    (alert,) = book.json()["actions"]
    assert alert["args"][3] == "critical" and "请先按 Ctrl+S" in alert["args"][0]
    assert not (tmp_path / "xfsheets输出").exists() or not list((tmp_path / "xfsheets输出").rglob("*.xlsx"))


# --- 汇总报表 asks for the period ----------------------------------------------------------------------

SUNDAY = dt.date(2027, 1, 3)  # a week and a quarter across the new year


@pytest.mark.parametrize("answer, today, expected", [
    ("本周", SUNDAY, (dt.date(2026, 12, 28), SUNDAY)),
    ("1", dt.date(2026, 12, 28), (dt.date(2026, 12, 28), dt.date(2026, 12, 28))),  # a Monday
    ("上周", SUNDAY, (dt.date(2026, 12, 21), dt.date(2026, 12, 27))),
    ("2", dt.date(2026, 12, 28), (dt.date(2026, 12, 21), dt.date(2026, 12, 27))),
    ("本月", SUNDAY, (dt.date(2027, 1, 1), SUNDAY)),
    ("本季度", dt.date(2026, 12, 2), (dt.date(2026, 10, 1), dt.date(2026, 12, 2))),
    (" 4 ", dt.date(2026, 3, 31), (dt.date(2026, 1, 1), dt.date(2026, 3, 31))),
    ("本季", dt.date(2026, 8, 15), (dt.date(2026, 7, 1), dt.date(2026, 8, 15))),
])
def test_period_presets(answer, today, expected):
    assert period(answer, today) == expected


@pytest.mark.parametrize("text", ["2026-01-01 至 2026-03-31", "2026年1月1日-2026年3月31日", "2026/1/1 2026/3/31",
                                  "2026.01.01到2026.03.31"])
def test_custom_period_in_the_ways_people_write_dates(text):
    assert period("自定义", SUNDAY, text) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert preset_name(text) == "自定义"


@pytest.mark.parametrize("answer, words", [("6", "不是可选的统计期间"), ("下个月", "不是可选的统计期间")])
def test_a_wrong_choice_is_refused_in_chinese(answer, words):
    with pytest.raises(XfsheetsError, match=words):
        preset_name(answer)


@pytest.mark.parametrize("text, words", [("2026-03-31 至 2026-01-01", "晚于"), ("2026-02-30 至 2026-03-01", "不存在"),
                                         ("三月", "起止两个日期")])
def test_a_wrong_custom_range_is_refused_in_chinese(text, words):
    with pytest.raises(XfsheetsError, match=words):
        parse_range(text)


def test_report_button_asks_the_period_and_counts_only_it(caller, tmp_path, monkeypatch):
    answers = iter(["5", "2026-04-01 至 2026-04-15"])
    asked = []
    monkeypatch.setattr(x, "_ask", lambda book, prompt, default: asked.append(prompt) or next(answers))
    book = caller(payload(DATA / "summary" / "rates.xlsx"))
    x.make_report()
    assert "本周" in asked[0] and "本季度" in asked[0] and "自定义" in asked[0] and "起止日期" in asked[1]
    (alert,) = book.json()["actions"]
    assert alert["args"][3] == "info" and "2026年4月1日至2026年4月15日" in alert["args"][0]
    (path,) = (tmp_path / "xfsheets输出").glob("汇总表_*/信访工作统计_2026-04-01_2026-04-15.xlsx")
    cells = [c for ws in openpyxl.load_workbook(path) for row in ws.iter_rows(values_only=True) for c in row if c]
    assert any("2026年4月1日至2026年4月15日" in str(c) for c in cells)


def test_report_button_cancelled_makes_nothing(caller, tmp_path, monkeypatch):
    monkeypatch.setattr(x, "_ask", lambda book, prompt, default: None)
    book = caller(payload(DATA / "summary" / "rates.xlsx"))
    x.make_report()
    assert book.json()["actions"] == [] and not (tmp_path / "xfsheets输出").exists()


def test_report_button_with_a_wrong_period_says_why(caller, tmp_path, monkeypatch):
    monkeypatch.setattr(x, "_ask", lambda book, prompt, default: "下个月")
    book = caller(payload(DATA / "summary" / "rates.xlsx"))
    x.make_report()
    (alert,) = book.json()["actions"]
    assert alert["args"][3] == "critical" and "不是可选的统计期间" in alert["args"][0]
    assert not (tmp_path / "xfsheets输出").exists()


# --- the installer's shortcut 信访台账助手 (issue 24 item 5) ------------------------------------------------

def _bundle_bat(name: str) -> str:
    import importlib.util

    from test_install import ROOT

    spec = importlib.util.spec_from_file_location("build_bundle", ROOT / "packaging" / "windows" / "build_bundle.py")
    bundle = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bundle)
    return bundle.bat_bytes(ROOT / "packaging" / "windows" / name).decode("gbk")  # as cmd reads it (code page 936)


def test_install_bat_places_the_shortcut_three_times_by_code_points():
    import re

    text = _bundle_bat("安装.bat")
    (ps,) = [line for line in text.splitlines() if "powershell" in line and "CreateShortcut" in line]
    points = re.search(r"\[char\[\]\]\(([^)]*)\)", ps).group(1)
    assert "".join(chr(int(c, 16)) for c in points.split(",")) == "信访台账助手"
    assert "WScript.Shell" in ps and "$env:PYEXE" in ps and "if($made -eq 3){'ok'}" in ps  # ok only if all made
    places = dict(re.findall(r"@\('(\w+)','([^']+)',\d\)", ps))
    assert places == {"Desktop": "-m xfsheets.wps.launch", "Programs": "-m xfsheets.wps.launch",
                      "Startup": "-m xfsheets serve --no-browser"}  # the page on a click; the service at login
    assert 'set "CMDFILE=%USERPROFILE%\\Desktop\\信访台账助手.cmd"' in text  # no PowerShell: a .cmd
    assert "本机没有安装 Python" in text
    assert 'if errorlevel 3 (set "ADDIN=noexcel")' in text and "本机没有安装 Microsoft Excel" in text
    uninstall = _bundle_bat("卸载.bat")
    assert points in uninstall and "wps uninstall" in uninstall


def test_the_shortcuts_module_runs_as_the_shortcut_runs_it(tmp_path, monkeypatch):
    import subprocess

    import os

    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    done = subprocess.run([sys.executable, "-m", "xfsheets.wps.launch", "--help"], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0 and "serve" in done.stdout + done.stderr  # no service running: `serve`'s own door


def test_install_bat_under_wine_places_the_shortcut_or_its_cmd(wine):  # noqa: F811
    """wine's powershell is a stub that does nothing (and says nothing): the .cmd fallback is what is placed,
    and the window says so; a real Windows makes the three .lnk files (checked by hand, see the README)."""
    rc, text, calls = run_bat(wine, "install.bat", FAKE_ADDIN="1")
    assert rc == 0, text
    calls = [c.strip() for c in calls]
    assert 'py -3.12 -c "import xfsheets.wps.launch"' in calls
    assert calls[-1].startswith("py -3.12 -m xfsheets excel addin install")  # the add-in still comes last
    _, drive_c = wine
    (cmd,) = [p for p in drive_c.glob("users/*/Desktop/*.cmd")]
    assert cmd.name == "信访台账助手.cmd"
    assert cmd.read_bytes().decode("gbk").splitlines() == ["@echo off", '"C:\\Python312\\python.exe" -m xfsheets.wps.launch']
    assert "桌面上已放好“信访台账助手.cmd”" in text and "桌面和开始菜单里已放好" not in text
    rc, text, calls = run_bat(wine, "uninstall.bat")
    assert rc == 0 and "已删除桌面、开始菜单和启动文件夹里的“信访台账助手”" in text, text
    assert not cmd.exists()
