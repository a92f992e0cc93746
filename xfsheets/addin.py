"""The per-PC Excel add-in: ``xfsheets.xlam`` with a 信访台账 ribbon tab.

Built without Excel from xlwings' own ribbon add-in template of the pinned xlwings version
(``quickstart_addin_ribbon.xlam``, shipped inside the xlwings package): its sample module
``RibbonMyAddin`` gives way to ``macros/ribbon.bas`` (one ``RunPython`` line per button, into
``xfsheets.excel``) and its ``customUI/customUI.xml`` to ``macros/customUI.xml``. Its
``xlwings`` VBA module (the one that starts Python) is xlwings' own of the same version, so it
matches the Python package, with its settings lookup narrowed (:func:`pc_only_xlwings_module`):
as shipped it takes the interpreter and PYTHONPATH from the *active* workbook (a config sheet,
a config file in its folder) and puts that workbook's folder first on ``sys.path``, so a ledger
sent by a unit could choose what Python runs. Ours reads only this PC's settings file.

``install()`` puts the add-in where Excel opens it for the current user at start-up
(``%APPDATA%\\Microsoft\\Excel\\XLSTART``) and writes this PC's interpreter into xlwings' user
settings (``%USERPROFILE%\\.xlwings\\xlwings.conf``, key ``INTERPRETER_WIN``; other keys kept),
never into a ledger. Ledgers stay .xlsx. Only Microsoft Excel on Windows runs it: on a PC without
it (found in the registry, :func:`find_excel`) install says "本机未安装 Microsoft Excel" and writes
nothing; WPS has its own tab (:mod:`xfsheets.wps`). ``target`` writes both files into one folder instead (tests,
packaging), on any system.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from xfsheets.errors import XfsheetsError

ADDIN_FILE = "xfsheets.xlam"
CONF_KEY = "INTERPRETER_WIN"
RIBBON_MODULE = "xfsheetsRibbon"
TEMPLATE = "quickstart_addin_ribbon.xlam"
TEMPLATE_MODULE = "RibbonMyAddin"
SETTING_PREFIX = "XFSHEETS_"
RECORD_FILE = "addin.json"  # what install wrote, so uninstall removes only that


class NoExcel(XfsheetsError):
    code = "no_excel"


class ExcelMissing(NoExcel):
    """A Windows PC without Microsoft Excel: nothing done, and nothing to do here. Its own exit code
    (3) lets 安装.bat tell it from a failure (2) without reading the text."""

    exit_code = 3


# --- is Microsoft Excel here? -------------------------------------------------------------------

NO_EXCEL = "本机未安装 Microsoft Excel"
NO_EXCEL_HINT = ("信访台账 选项卡（Excel 加载项）没有安装，本机没有任何改动。用 WPS 的电脑请运行 xfsheets wps install"
                 "（WPS 表格里的 信访台账 选项卡）；也可以用桌面上的“信访台账助手”")
# Where Windows says which program serves Excel's automation and which program is excel.exe. WPS can
# register itself as Excel.Application ("兼容第三方系统和软件"): that server is et.exe, not EXCEL.EXE.
EXCEL_REGISTRY = (
    ("HKEY_CLASSES_ROOT", r"Excel.Application\CLSID", "clsid"),
    ("HKEY_LOCAL_MACHINE", r"SOFTWARE\Microsoft\Windows\CurrentVersion\App Paths\excel.exe", "path"),
    ("HKEY_CURRENT_USER", r"SOFTWARE\Microsoft\Windows\CurrentVersion\App Paths\excel.exe", "path"),
)


def _registry_default(root: str, key: str) -> str | None:
    """The default value of a registry key (None: no such key, or not Windows)."""
    try:
        import winreg
    except ImportError:
        return None
    try:
        with winreg.OpenKey(getattr(winreg, root), key) as k:
            value, _ = winreg.QueryValueEx(k, "")
            return str(value)
    except OSError:
        return None


def _exe_of(command: str) -> str:
    """``"C:\\...\\EXCEL.EXE" /automation`` -> ``C:\\...\\EXCEL.EXE``."""
    command = command.strip()
    if command.startswith('"'):
        return command[1:].split('"', 1)[0]
    m = re.match(r"(.+?\.exe)\b", command, flags=re.I)
    return m.group(1) if m else command


def find_excel(registry=_registry_default, exists=os.path.exists) -> str | None:
    """The path of Microsoft Excel's EXCEL.EXE on this PC, or None. ``registry(root, key)`` reads a
    key's default value and ``exists`` tests a path (both injectable: tests run without Windows)."""
    for root, key, kind in EXCEL_REGISTRY:
        value = registry(root, key)
        if not value:
            continue
        if kind == "clsid":
            value = registry("HKEY_CLASSES_ROOT", rf"CLSID\{value.strip()}\LocalServer32")
            if not value:
                continue
        exe = os.path.expandvars(_exe_of(value))
        if re.split(r"[\\/]", exe)[-1].lower() == "excel.exe" and exists(exe):
            return exe
    return None


def require_excel(finder=None) -> str:
    """EXCEL.EXE's path, or :class:`NoExcel` (said plainly; on another system too). ``finder``
    replaces :func:`find_excel` (tests)."""
    if finder is None and sys.platform != "win32":
        raise NoExcel(f"{NO_EXCEL}：本机不是 Windows，Microsoft Excel 的 信访台账 选项卡只能装在装有 Microsoft Excel 的 Windows 电脑上",
                      hint="WPS 和信创桌面请运行 xfsheets wps install（WPS 表格里的 信访台账 选项卡）或使用命令行；"
                           "打包时可用 --target 文件夹 把加载项写到指定文件夹")
    exe = (finder or find_excel)()
    if not exe:
        raise ExcelMissing(NO_EXCEL, hint=NO_EXCEL_HINT)
    return exe


# --- xlwings' VBA module, reading only this PC's settings ----------------------------------------

XLWINGS_MODULE = "xlwings"
# GetConfigFilePath() is %USERPROFILE%\.<PROJECT_NAME>\<PROJECT_NAME>.conf: with "xlwings" it is the
# file install writes and status checks (user_conf_path); the template's "myaddin" pointed elsewhere.
CONF_PROJECT_NAME = "xlwings"

_PC_ONLY_GETCONFIG = """Function GetConfig(configKey As String, Optional default As String = "", Optional source As String = "") As Variant
    ' xfsheets: only this PC's settings file (GetConfigFilePath, written by `xfsheets excel addin install`).
    ' Never the active workbook's config sheet nor a config file in its folder: a ledger sent by a unit
    ' must not choose the interpreter, PYTHONPATH or any other setting.
    Dim configValue As String
    If FileExists(GetConfigFilePath()) = True Then
        If GetConfigFromFile(GetConfigFilePath(), configKey, configValue) Then
            GetConfig = ExpandEnvironmentStrings(configValue)
            Exit Function
        End If
    End If
    GetConfig = ExpandEnvironmentStrings(default)
End Function
"""

_NO_EMBEDDED_CODE = """    ' xfsheets: no code embedded in a workbook's sheets is ever run, and nothing of the workbook's
    ' folder goes on sys.path.
    uses_embedded_code = False
    AddExcelDir = "false"
"""

_PC_ONLY_PYTHONPATH = """    ' xfsheets: prepare_sys_path gets no workbook (args 1-2 empty, arg 0 false) and, after its six
    ' fixed fields, only the PYTHONPATH of this PC's settings file (an empty field would put '' on sys.path).
    PYTHONPATH = "false;;;;;"
    If GetConfig("PYTHONPATH") <> "" Then PYTHONPATH = PYTHONPATH & ";" & GetConfig("PYTHONPATH")
"""

# (what, pattern, replacement): each pattern must match exactly once in the pinned xlwings' module.
_VBA_PATCHES = [
    ("PROJECT_NAME", r'Public Const PROJECT_NAME As String = "\w+"\n',
     f'Public Const PROJECT_NAME As String = "{CONF_PROJECT_NAME}"\n'),
    ("RunPython: embedded code, workbook folder",
     r"    ' Check for embedded Python code\n.*?"
     r'AddExcelDir = GetConfig\("ADD_WORKBOOK_TO_PYTHONPATH", "true"\)\n    End If\n', _NO_EMBEDDED_CODE),
    ("RunPython: PYTHONPATH", r"    ' The first 5 args are not technically.*?"
     r'GetConfig\("SHAREPOINT_WIN"\) & ";" & GetConfig\("PYTHONPATH"\)\n    #End If\n', _PC_ONLY_PYTHONPATH),
    ("ExecuteWindows: -P", r'" -B -c ""import xlwings\.utils;', '" -B -P -c ""import xlwings.utils;'),
    ("XLPyCommand: workbook folder", r'AddExcelDir = GetConfig\("ADD_WORKBOOK_TO_PYTHONPATH", "true"\)\n',
     'AddExcelDir = "false"  \' xfsheets: nothing of the workbook\'s folder on sys.path\n'),
    ("GetConfig", r"Function GetConfig\(configKey As String.*?\nEnd Function\n", _PC_ONLY_GETCONFIG),
    ("GetDirectoryConfigFilePath", r"Function GetDirectoryConfigFilePath\(\) As String\n.*?\nEnd Function\n", ""),
    ("GetConfigFromSheet", r'#If App = "Microsoft Excel" Then\nFunction GetConfigFromSheet\(wb As Workbook\)\n'
                           r".*?\nEnd Function\n#End If\n", ""),
]


def pc_only_xlwings_module(source: str) -> str:
    """xlwings' VBA module with every setting read from this PC's settings file only
    (``%USERPROFILE%\\.xlwings\\xlwings.conf``, what :func:`install` writes), nothing of the active
    workbook's folder on ``sys.path``, no code from a workbook's sheets, and Python started with
    ``-P`` (no current folder on ``sys.path``). Fails loudly if the pinned module's text moved."""
    crlf = "\r\n" in source
    text = source.replace("\r\n", "\n")
    for what, pattern, replacement in _VBA_PATCHES:
        text, n = re.subn(pattern, lambda _m: replacement, text, flags=re.S)
        if n != 1:
            raise AssertionError(f"xlwings' VBA module changed: {what} matched {n} times")
    return text.replace("\n", "\r\n") if crlf else text


def narrow_xlwings_module(project) -> None:
    """Swap the ``xlwings`` module of a pyopenvba project for :func:`pc_only_xlwings_module` of it."""
    source = project.get_module(XLWINGS_MODULE).source
    project.delete_module(XLWINGS_MODULE)
    project.add_module(XLWINGS_MODULE, pc_only_xlwings_module(source))


def ribbon_source() -> str:
    return (resources.files("xfsheets.macros") / "ribbon.bas").read_text(encoding="ascii")


def custom_ui() -> bytes:
    return (resources.files("xfsheets.macros") / "customUI.xml").read_bytes()


def ribbon_buttons() -> list[tuple[str, str, str]]:
    """(label, VBA Sub, xfsheets.excel entry) of every button, from the shipped sources."""
    ui = custom_ui().decode("utf-8")
    subs = dict(re.findall(r'Sub (\w+)\(control As IRibbonControl\)\s*\r?\n\s*RunPython '
                           r'"import xfsheets\.excel as x; x\.(\w+)\(\)"', ribbon_source()))
    out = []
    for label, sub in re.findall(r'<button [^>]*label="([^"]+)"[^>]*onAction="' + RIBBON_MODULE + r'\.(\w+)"', ui):
        out.append((label, sub, subs.get(sub, "")))
    return out


def build_addin(path: str | Path) -> Path:
    """Write ``xfsheets.xlam`` at ``path`` (built from xlwings' ribbon add-in template)."""
    import pyopenvba
    import xlwings

    from xfsheets.outputs import mark_package

    path = Path(path)
    template = Path(xlwings.__file__).parent / TEMPLATE
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "addin.xlam"
        shutil.copyfile(template, work)
        with pyopenvba.ExcelFile(work) as book:
            project = book.vba_project()
            if TEMPLATE_MODULE in project.module_names():
                project.delete_module(TEMPLATE_MODULE)
            project.add_module(RIBBON_MODULE, ribbon_source())
            narrow_xlwings_module(project)
            book.save()
        final = Path(tmp) / "final.xlam"
        with zipfile.ZipFile(work) as zin, zipfile.ZipFile(final, "w", zipfile.ZIP_DEFLATED) as zout:
            names = zin.namelist()
            ui_part = _custom_ui_part(zin)
            for info in zin.infolist():
                data = custom_ui() if info.filename == ui_part else zin.read(info.filename)
                zout.writestr(info, data)
            if ui_part not in names:
                raise AssertionError("template without customUI")
        mark_package(final)  # ours: a later install may replace it, nobody else's file
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(final, path)
    return path


def _custom_ui_part(z: zipfile.ZipFile) -> str:
    rels = z.read("_rels/.rels").decode("utf-8")
    m = re.search(r'Type="[^"]*/ui/extensibility"[^>]*Target="/?([^"]+)"', rels) or \
        re.search(r'Target="/?([^"]+)"[^>]*Type="[^"]*/ui/extensibility"', rels)
    return m.group(1) if m else "customUI/customUI.xml"


# --- where things go ----------------------------------------------------------------------------

def xlstart_dir() -> Path:
    appdata = os.environ.get("APPDATA") or str(Path.home() / "AppData" / "Roaming")
    return Path(appdata) / "Microsoft" / "Excel" / "XLSTART"


def user_conf_path() -> Path:
    """xlwings' per-user settings file (what its VBA reads: %USERPROFILE%\\.xlwings\\xlwings.conf)."""
    home = os.environ.get("USERPROFILE") if sys.platform == "win32" else None
    return Path(home or Path.home()) / ".xlwings" / "xlwings.conf"


def record_path() -> Path:
    from xfsheets.settings import user_config_dir

    return user_config_dir() / RECORD_FILE


@dataclass
class Places:
    addin: Path
    conf: Path
    record: Path | None  # None with --target


def places(target: str | Path | None = None) -> Places:
    if target is not None:
        t = Path(target)
        return Places(t / ADDIN_FILE, t / "xlwings.conf", None)
    if sys.platform != "win32":
        require_excel()  # says it plainly
    return Places(xlstart_dir() / ADDIN_FILE, user_conf_path(), record_path())


# --- xlwings.conf (read by VBA's `Input #`: "KEY","VALUE" lines in the ANSI code page) ---------

def _conf_encoding() -> str:
    return "mbcs" if sys.platform == "win32" else "gbk"  # gbk: the ANSI code page of Chinese Windows


def read_conf(path: Path) -> list[tuple[str, str]]:
    if not path.exists():
        return []
    raw = path.read_bytes()
    for enc in (_conf_encoding(), "utf-8", "latin-1"):
        try:
            text = raw.decode(enc)
            break
        except (UnicodeDecodeError, LookupError):
            continue
    rows = []
    for line in text.splitlines():
        m = re.match(r'\s*"([^"]*)"\s*,\s*"([^"]*)"\s*$', line)
        if m:
            rows.append((m.group(1), m.group(2)))
    return rows


def _write_conf(path: Path, rows: list[tuple[str, str]]) -> None:
    from xfsheets.writer import atomic_path

    text = "".join(f'"{k}","{v}"\r\n' for k, v in rows)
    try:
        data = text.encode(_conf_encoding())
    except UnicodeEncodeError as exc:
        raise XfsheetsError("Python 的路径含有本机代码页无法表示的字符，xlwings 读不出来", file=path,
                            hint="请把 Python 装在只含英文和中文字符的路径下（例如 C:\\Python312）") from exc
    # the user's own settings file: merged, not an xfsheets output (no gate)
    with atomic_path(path, guard=False) as tmp:
        tmp.write_bytes(data)


def windows_interpreter(value: str) -> str:
    """``value`` if it is a Windows path (C:\\..., \\\\server\\..., %VAR%\\...), else a Chinese error."""
    if re.match(r'^([A-Za-z]:\\|\\\\|%\w+%)', value) and '"' not in value:
        return value
    raise XfsheetsError(f"「{value}」不是 Windows 上的 Python 路径，不能写进 xlwings 的 INTERPRETER_WIN",
                        hint="请写 Windows 路径，例如 C:\\Python312\\pythonw.exe 或 "
                             "%LOCALAPPDATA%\\Programs\\Python\\Python312\\pythonw.exe")


@dataclass
class AddinStatus:
    addin: Path
    conf: Path
    installed: bool
    interpreter: str | None
    interpreter_exists: bool | None
    problems: list[str] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)  # XFSHEETS_PROFILE / XFSHEETS_POLICY

    def to_dict(self) -> dict:
        return {"addin": str(self.addin), "conf": str(self.conf), "installed": self.installed,
                "interpreter": self.interpreter, "interpreter_exists": self.interpreter_exists,
                "settings": self.settings, "problems": self.problems}


def pc_settings() -> dict[str, str]:
    """This PC's xfsheets rows of the xlwings settings (XFSHEETS_PROFILE, XFSHEETS_POLICY: what
    ``addin install --profile/--policy`` recorded), which the buttons use for a book without its own."""
    try:
        rows = read_conf(user_conf_path())
    except OSError:
        return {}
    return {k.upper(): v for k, v in rows if k.upper().startswith(SETTING_PREFIX) and v}


def install(target: str | Path | None = None, interpreter: str | None = None, *,
            profile: str | Path | None = None, policy: str | Path | None = None,
            excel=None) -> tuple[Path, Path | None, str | None]:
    """Build the add-in into XLSTART (or ``target``) and set this PC's interpreter; ``profile`` and
    ``policy`` (absolute paths) become this PC's XFSHEETS_PROFILE / XFSHEETS_POLICY, used by the
    buttons on any workbook that does not name its own. Returns (add-in path, settings file or
    None, interpreter or None). Without ``target``, a PC without Microsoft Excel gets :class:`NoExcel`
    before anything is written (``excel``: the finder, :func:`find_excel` unless a test gives one)."""
    from xfsheets.outputs import check_target
    from xfsheets.xlsm import default_interpreter

    if target is None:
        require_excel(excel)
    where = places(target)
    if interpreter is None and sys.platform == "win32":
        interpreter = default_interpreter()
    if interpreter is not None:
        interpreter = windows_interpreter(interpreter)
    check_target(where.addin, what="加载项文件")  # ours (stamped, unedited) or absent
    ours: dict[str, str] = {}
    if profile is not None:
        from xfsheets.schema import load_profile

        load_profile(profile)  # a broken file is refused now, not at the first button press
        ours["XFSHEETS_PROFILE"] = str(Path(profile).resolve())
    if policy is not None:
        from xfsheets.policy import load_policy

        load_policy(policy)
        ours["XFSHEETS_POLICY"] = str(Path(policy).resolve())
    with tempfile.TemporaryDirectory() as tmp:
        built = build_addin(Path(tmp) / ADDIN_FILE)
        where.addin.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(built, where.addin) if _same_drive(built, where.addin) else shutil.copyfile(built, where.addin)
        except PermissionError as exc:
            raise XfsheetsError(f"无法写入「{where.addin}」：文件正被 Excel 使用", hint="请先关闭所有 Excel 窗口，再运行一次") from exc
    conf = None
    if ours:
        rows = [(k, v) for k, v in read_conf(where.conf) if k.upper() not in ours]
        _write_conf(where.conf, [*rows, *ours.items()])
        conf = where.conf
    if interpreter is not None:
        rows = [(k, v) for k, v in read_conf(where.conf) if k.upper() != CONF_KEY]
        previous = next((v for k, v in read_conf(where.conf) if k.upper() == CONF_KEY), None)
        _write_conf(where.conf, [(CONF_KEY, interpreter), *rows])
        conf = where.conf
        if where.record is not None:
            where.record.parent.mkdir(parents=True, exist_ok=True)
            old = json.loads(where.record.read_text(encoding="utf-8")) if where.record.exists() else {}
            where.record.write_text(json.dumps({"addin": str(where.addin), "conf": str(where.conf),
                                                "interpreter": interpreter,
                                                "previous": old.get("previous", previous)}, ensure_ascii=False),
                                    encoding="utf-8")
    return where.addin, conf, interpreter


def _same_drive(a: Path, b: Path) -> bool:
    try:
        return os.stat(a.parent).st_dev == os.stat(b.parent).st_dev
    except OSError:
        return False


def uninstall(target: str | Path | None = None) -> list[Path]:
    """Remove the add-in; put back the interpreter setting install replaced (only if unchanged since)."""
    from xfsheets.outputs import is_xfsheets_output

    where = places(target)
    removed = []
    if where.addin.exists():
        if not is_xfsheets_output(where.addin):
            raise XfsheetsError(f"「{where.addin}」不是 xfsheets 安装的加载项，未删除", hint="请手动检查该文件")
        try:
            where.addin.unlink()
        except PermissionError as exc:
            raise XfsheetsError(f"无法删除「{where.addin}」：文件正被 Excel 使用", hint="请先关闭所有 Excel 窗口，再运行一次") from exc
        removed.append(where.addin)
    record = {}
    if where.record is not None and where.record.exists():
        record = json.loads(where.record.read_text(encoding="utf-8"))
    elif where.record is None:
        record = {"interpreter": next((v for k, v in read_conf(where.conf) if k.upper() == CONF_KEY), None)}
    rows = read_conf(where.conf)
    current = next((v for k, v in rows if k.upper() == CONF_KEY), None)
    changed = any(k.upper().startswith(SETTING_PREFIX) for k, _ in rows)
    rows = [(k, v) for k, v in rows if not k.upper().startswith(SETTING_PREFIX)]  # only xfsheets reads these
    if record.get("interpreter") and current == record["interpreter"]:
        changed = True
        rows = [(k, v) for k, v in rows if k.upper() != CONF_KEY]
        if record.get("previous"):
            rows.insert(0, (CONF_KEY, record["previous"]))
    if changed:
        if rows:
            _write_conf(where.conf, rows)
        else:
            where.conf.unlink()
        removed.append(where.conf)
    if where.record is not None and where.record.exists():
        where.record.unlink()
    return removed


def status(target: str | Path | None = None) -> AddinStatus:
    from xfsheets.outputs import is_xfsheets_output

    where = places(target)
    installed = where.addin.exists()
    interpreter = next((v for k, v in read_conf(where.conf) if k.upper() == CONF_KEY), None)
    exists = None
    if interpreter and target is None:
        exists = Path(os.path.expandvars(interpreter)).exists()
    st = AddinStatus(where.addin, where.conf, installed, interpreter, exists,
                     settings={k.upper(): v for k, v in read_conf(where.conf) if k.upper().startswith(SETTING_PREFIX)})
    if not installed:
        st.problems.append("加载项没有安装：请运行 xfsheets excel addin install")
    elif not is_xfsheets_output(where.addin):
        st.problems.append("XLSTART 中的 xfsheets.xlam 不是 xfsheets 安装的")
    if not interpreter:
        st.problems.append("本机 xlwings 设置中没有 INTERPRETER_WIN：按钮会去找 PATH 上的 python，通常找不到")
    elif exists is False:
        st.problems.append(f"设置的 Python 不存在：{interpreter}（Python 可能已卸载或移动，请重新运行 xfsheets excel addin install）")
    return st
