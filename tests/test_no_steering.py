"""A unit's file never steers the county's tools (issue 20 items 4, 5, 6).

4. The add-in's VBA (read back from the built .xlam with oletools) takes every setting from this
   PC's settings file, the very file ``excel addin install`` writes and ``addin status`` checks;
   never from the active workbook's config sheet or a config file in its folder, and it puts
   nothing of the workbook's folder on sys.path. The Python side takes the workbook's folder off
   sys.path and reads no setting from the book.
5. A ledger carrying its own ``XFSHEETS_POLICY`` (a 600-day policy) in an ``xlwings.conf`` sheet
   changes no deadline (xlwings' remote engine; XLWINGS_LICENSE_KEY=noncommercial, tests only).
6. An ``xfsheets.toml`` planted in the current folder or an input folder gets no connection, no
   password and no cc (real aiosmtpd servers on 127.0.0.1); the settings file that does decide
   where mail goes is shown on stderr before the password is used.
"""
from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path, PureWindowsPath

import pytest
import xlwings as xw
from click.testing import CliRunner
from oletools.olevba import VBA_Parser

import xfsheets.excel as x
from conftest import DATA
from test_excel import actions, payload
from conftest import Recorder
from test_mail import SECRET, _authenticator, _server_context, certificate  # noqa: F401
from xfsheets import addin
from xfsheets.cli import main

LEDGER = DATA / "summary" / "rates.xlsx"


def _modules(path_or_data) -> dict[str, str]:
    parser = VBA_Parser("project.bin", data=path_or_data) if isinstance(path_or_data, bytes) \
        else VBA_Parser(str(path_or_data))
    try:
        return {name: code.replace("\r\n", "\n") for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


def _function(code: str, name: str) -> str:
    m = re.search(rf"^(?:Public )?Function {name}\(.*?^End Function", code, flags=re.S | re.M)
    assert m, f"no Function {name}"
    return m.group(0)


@pytest.fixture(scope="module")
def xlam_vba(tmp_path_factory) -> str:
    xlam = addin.build_addin(tmp_path_factory.mktemp("addin") / addin.ADDIN_FILE)
    return _modules(xlam)["xlwings.bas"]


# --- 4. the add-in's VBA ---------------------------------------------------------------------------

def _vba_conf_path(code: str, userprofile: str) -> PureWindowsPath:
    """Evaluate the Windows branch of the VBA's GetConfigFilePath for this USERPROFILE."""
    project = re.search(r'^Public Const PROJECT_NAME As String = "(\w+)"', code, flags=re.M).group(1)
    body = _function(code, "GetConfigFilePath")
    windows_branch = body.split("#Else", 1)[1]
    assert 'GetConfigFilePath = Environ("USERPROFILE") & "\\." & PROJECT_NAME & "\\" & PROJECT_NAME & ".conf"' \
        in windows_branch
    return PureWindowsPath(userprofile) / f".{project}" / f"{project}.conf"


def test_addin_reads_exactly_the_file_install_writes_and_status_checks(xlam_vba, windows):
    vba_reads = _vba_conf_path(xlam_vba, str(windows))
    r = CliRunner().invoke(main, ["excel", "addin", "install"])
    assert r.exit_code == 0, r.output
    written = windows / ".xlwings" / "xlwings.conf"
    assert written.is_file() and addin.read_conf(written)[0] == ("INTERPRETER_WIN", r"C:\Python312\pythonw.exe")
    assert PureWindowsPath(written) == vba_reads  # not %USERPROFILE%\.myaddin\myaddin.conf
    assert PureWindowsPath(addin.user_conf_path()) == vba_reads
    assert PureWindowsPath(addin.status().conf) == vba_reads
    assert str(written) in CliRunner().invoke(main, ["excel", "addin", "status"]).output


def _assert_reads_only_this_pc(code: str) -> None:
    get_config = _function(code, "GetConfig")
    for word in ("ActiveWorkbook", "ThisWorkbook", "Sheet", "Directory", "GetFullName"):
        assert word not in get_config, word
    assert "GetConfigFromFile(GetConfigFilePath()" in get_config
    # no lookup of a config sheet (xlwings.conf / myaddin.conf) or a folder config file anywhere
    assert "GetConfigFromSheet" not in code and "GetDirectoryConfigFilePath" not in code
    assert not re.search(r'SheetExists\(\w+, *(PROJECT_NAME|"\w+\.conf")', code)
    run_python = _function(code, "RunPython")
    assert 'AddExcelDir = "false"' in run_python and "ActiveWorkbook.FullName" not in run_python
    assert 'PYTHONPATH = "false;;;;;"' in run_python
    assert "ADD_WORKBOOK_TO_PYTHONPATH" not in code  # no setting can turn the workbook folder back on
    assert ".py\"" not in run_python and "uses_embedded_code = False" in run_python  # no code from sheets
    assert '" -B -P -c ""import xlwings.utils;' in code  # Python started without the current folder on sys.path


def test_addin_never_reads_the_active_workbook_or_its_folder(xlam_vba):
    _assert_reads_only_this_pc(xlam_vba)


def test_in_ledger_buttons_project_reads_only_this_pc_too():
    from xfsheets.xlsm import vba_project_bin

    _assert_reads_only_this_pc(_modules(vba_project_bin())["xlwings.bas"])


def test_xlsm_install_refuses_to_write_an_interpreter_or_policy_into_a_ledger(tmp_path):
    policy = tmp_path / "规则.toml"
    policy.write_text("[stages.handle]\ndays = 45\n", encoding="utf-8")
    for extra, word in ((["--interpreter", r"C:\Python312\pythonw.exe"], "Python"), (["--policy", str(policy)], "办理规则")):
        r = CliRunner().invoke(main, ["excel", "install", str(LEDGER), "-o", str(tmp_path / "台账.xlsm"),
                                      "--with-buttons", *extra])
        assert r.exit_code == 2 and word in r.stderr and "excel addin install" in r.stderr, r.output
        assert "Traceback" not in r.output and not (tmp_path / "台账.xlsm").exists()


def test_python_side_of_the_vba_puts_no_workbook_folder_on_sys_path(xlam_vba, monkeypatch, tmp_path):
    import xlwings.utils

    folder = tmp_path / "单位来件"
    fullname = str(folder / "台账.xlsx")
    args = re.search(r'PYTHONPATH = "([^"]*)"', _function(xlam_vba, "RunPython")).group(1)
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = list(sys.path)
    xlwings.utils.prepare_sys_path(args)  # what our VBA hands over (no PYTHONPATH on this PC)
    assert sys.path == before
    xlwings.utils.prepare_sys_path(f"true;{fullname};;;;;")  # what the stock template hands over
    assert str(folder) in sys.path  # (so the check above could fail)


def test_a_button_takes_the_workbook_folder_off_sys_path(monkeypatch, tmp_path):
    import xlwings.utils

    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    monkeypatch.setattr(addin, "pc_settings", lambda: {})
    folder = tmp_path / "单位来件"
    folder.mkdir()
    shutil.copy(LEDGER, folder / "台账.xlsx")
    data = payload(LEDGER)
    data["book"]["name"] = str(folder / "台账.xlsx")
    book = xw.Book(json=data)
    monkeypatch.setattr(xw.Book, "caller", classmethod(lambda cls: book))
    monkeypatch.setattr(sys, "path", list(sys.path))
    xlwings.utils.prepare_sys_path(f"true;{folder / '台账.xlsx'};;;;;")  # a caller with the stock VBA
    assert str(folder) in sys.path
    x.check_ledger()
    assert not [p for p in sys.path if os.path.abspath(p or ".") in (str(folder), str(folder / "台账.zip"))]
    assert actions(book, "alert")[0]["args"][3] == "info"  # the press itself went through


# --- 5. a ledger's own policy sheet -------------------------------------------------------------------

PLANTED_600 = """[stages.register]
days = 600
[stages.accept]
days = 600
[stages.handle]
days = 600
"""


def _deadline_columns(book) -> dict[int, list]:
    writes = [a for a in actions(book, "setValues") if a["sheet_position"] == 0]
    return {a["start_column"]: a["values"] for a in writes}


def test_a_unit_ledgers_own_policy_sheet_changes_no_deadline(monkeypatch, tmp_path):
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    monkeypatch.delenv("XFSHEETS_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)  # the remote book has no folder: a relative path would mean here
    monkeypatch.setattr(addin, "pc_settings", lambda: {})  # this PC: the built-in policy
    planted = tmp_path / "单位自带规则.toml"
    planted.write_text(PLANTED_600, encoding="utf-8")
    profile = tmp_path / "单位自带配置.toml"
    profile.write_text('[labels]\n"登记日期" = "closed_on"\n', encoding="utf-8")

    def press(extra_sheets):
        book = xw.Book(json=payload(LEDGER, extra_sheets))
        monkeypatch.setattr(xw.Book, "caller", classmethod(lambda cls: book))
        x.compute_deadlines()
        return book

    clean = _deadline_columns(press([]))
    assert clean  # the deadline columns were written
    for rows in ([["XFSHEETS_POLICY", str(planted)], ["XFSHEETS_PROFILE", str(profile)]],
                 [["XFSHEETS_POLICY", planted.name]],
                 [["Interpreter_Win", r"C:\evil\python.exe"], ["PYTHONPATH", str(tmp_path)], ["xfsheets_policy", str(planted)]]):
        for sheet in ("xlwings.conf", "_xlwings.conf"):
            book = press([(sheet, rows)])
            assert _deadline_columns(book) == clean, (sheet, rows)
            assert actions(book, "alert")[0]["args"][3] == "info"
    book = xw.Book(json=payload(LEDGER, [("xlwings.conf", [["XFSHEETS_POLICY", str(planted)]])]))
    assert x.book_settings(book) == {} and x.book_policy(book) == x.book_policy(xw.Book(json=payload(LEDGER)))

    # the policy this PC's install recorded does apply (so the comparison above could fail)
    monkeypatch.setattr(addin, "pc_settings", lambda: {"XFSHEETS_POLICY": str(planted)})
    assert _deadline_columns(press([])) != clean


# --- 6. a planted xfsheets.toml ------------------------------------------------------------------------

class Watcher(Recorder):
    """Records every greeting (a connection that got as far as EHLO/HELO) and every login attempt."""

    def __init__(self):
        super().__init__()
        self.greetings = 0
        self.logins: list = []

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.greetings += 1
        session.host_name = hostname
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        self.greetings += 1
        session.host_name = hostname
        return "250 {}".format(server.hostname)

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult

        self.logins.append(auth_data)
        return AuthResult(success=True, handled=False, auth_data=auth_data)


@pytest.fixture
def clerk(isolated_settings):
    """The clerk's own settings file (in the profile folder), no password or keyring of the machine."""
    isolated_settings.mkdir(parents=True)
    return isolated_settings / "xfsheets.toml"


def _settings(port: int, cafile: Path, cc: str = "") -> str:
    return (f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "starttls"\nuser = "clerk@xfj.gov.cn"\n'
            f'sender = "县信访局 <clerk@xfj.gov.cn>"\ntimeout = 5\ncafile = "{cafile.as_posix()}"\n\n'
            f'[mail]\nto = ["shi@example.gov.cn"]\n{cc}')


@pytest.mark.parametrize("where", ["current folder", "input folder"])
def test_planted_settings_get_no_connection_no_password_no_cc(where, clerk, smtp_server, certificate, tmp_path,
                                                             monkeypatch):
    real, real_port = smtp_server(tls_context=_server_context(certificate), require_starttls=True,
                                  authenticator=_authenticator)
    thief = Watcher()
    _, thief_port = smtp_server(thief, tls_context=_server_context(certificate), require_starttls=True,
                                authenticator=thief.authenticate)
    clerk.write_text(_settings(real_port, Path(certificate[0])), encoding="utf-8")
    report = tmp_path / "报表" / "汇总报表_含个人信息.xlsx"
    report.parent.mkdir()
    shutil.copy(DATA / "privacy" / "汇总报表_含个人信息.xlsx", report)
    planted = (tmp_path if where == "current folder" else report.parent) / "xfsheets.toml"
    planted.write_text(_settings(thief_port, Path(certificate[0]), 'cc = ["thief@evil.example"]\n'), encoding="utf-8")
    monkeypatch.setenv("XFSHEETS_SMTP_PASSWORD", SECRET)

    r = CliRunner().invoke(main, ["mail", str(report)])
    assert r.exit_code == 0, r.output
    assert thief.greetings == 0 and thief.logins == [] and thief.messages == []  # no connection, no password
    (received,) = real.messages
    assert received["rcpt_tos"] == ["shi@example.gov.cn"] and received["tls"]
    assert b"thief" not in received["data"] and "thief" not in r.output
    # the settings file that does decide where mail goes is shown, with the server and recipients
    assert f"「{clerk}」" in r.stderr and f"127.0.0.1（端口 {real_port}）" in r.stderr and "shi@example.gov.cn" in r.stderr
    assert str(planted) not in r.output


def test_where_mail_goes_is_shown_before_the_password_is_used(clerk, smtp_server, certificate, tmp_path, monkeypatch):
    import xfsheets.settings

    real, port = smtp_server(tls_context=_server_context(certificate), require_starttls=True,
                             authenticator=_authenticator)
    explicit = tmp_path / "别处" / "本局邮件.toml"
    explicit.parent.mkdir()
    explicit.write_text(_settings(port, Path(certificate[0]), 'cc = ["zhang@example.gov.cn"]\n'), encoding="utf-8")
    report = tmp_path / "汇总报表_含个人信息.xlsx"
    shutil.copy(DATA / "privacy" / "汇总报表_含个人信息.xlsx", report)
    monkeypatch.setenv("XFSHEETS_SMTP_PASSWORD", SECRET)
    shown = []
    password = xfsheets.settings.smtp_password

    def spy(user):
        sys.stderr.flush()
        shown.append(sys.stderr.buffer.getvalue().decode("utf-8"))
        return password(user)

    monkeypatch.setattr(xfsheets.settings, "smtp_password", spy)
    r = CliRunner().invoke(main, ["mail", str(report), "--config", str(explicit)])
    assert r.exit_code == 0, r.output
    (before_password,) = shown
    assert f"「{explicit}」" in before_password and f"127.0.0.1（端口 {port}）" in before_password
    assert "收件人 shi@example.gov.cn" in before_password and "抄送 zhang@example.gov.cn" in before_password
    (received,) = real.messages
    assert sorted(received["rcpt_tos"]) == ["shi@example.gov.cn", "zhang@example.gov.cn"]

    # options given on the command line are the clerk's own words: nothing from the file to show
    real.messages.clear()
    shown.clear()
    r = CliRunner().invoke(main, ["mail", str(report), "--config", str(explicit), "--to", "a@example.gov.cn",
                                  "--cc", "b@example.gov.cn", "--smtp", f"127.0.0.1:{port}", "--starttls"])
    assert r.exit_code == 0, r.output
    assert "配置文件" not in shown[0]


def test_the_send_button_shows_where_mail_goes_before_sending(clerk, smtp_server, monkeypatch, tmp_path):
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    monkeypatch.setattr(addin, "pc_settings", lambda: {})
    real, port = smtp_server()
    clerk.write_text(f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsender = "xian@example.gov.cn"\n\n'
                     f'[mail]\nto = ["shi@example.gov.cn"]\n', encoding="utf-8")
    thief = Watcher()
    _, thief_port = smtp_server(thief)
    (tmp_path / "xfsheets.toml").write_text(f'[smtp]\nhost = "127.0.0.1"\nport = {thief_port}\n\n'
                                            f'[mail]\ncc = ["thief@evil.example"]\n', encoding="utf-8")
    book = xw.Book(json=payload(LEDGER))
    monkeypatch.setattr(xw.Book, "caller", classmethod(lambda cls: book))
    x.send_report()
    shown, done = [a["args"][0] for a in actions(book, "alert")]
    assert f"「{clerk}」" in shown and f"127.0.0.1（端口 {port}）" in shown and "shi@example.gov.cn" in shown
    assert done.startswith("报表已发送给 shi@example.gov.cn")
    (received,) = real.messages
    assert received["rcpt_tos"] == ["shi@example.gov.cn"] and thief.greetings == 0 and thief.messages == []
