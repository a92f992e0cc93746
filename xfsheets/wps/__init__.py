"""The 信访台账 tab of WPS 表格: a WPS JS add-in (the wpsjs toolkit's layout), installed offline per user.

``addin/`` holds its sources (package data): ``ribbon.xml`` (the same tab as the Excel add-in's
macros/customUI.xml), ``main.js`` (one callback per button: the active workbook goes to the running
``xfsheets serve``, whose page opens on the result; see :mod:`xfsheets.wps.contract`), ``index.html``
(the entry page WPS loads) and ``manifest.xml``. :func:`install` copies them with a ``config.js``
(the contract, and this user's service file) into WPS's per-user add-in folder, ``jsaddons``, as the
publish mode lays it out:

- ``jsaddons/xfsheets_<version>/``: the add-in's files (and ``.xfsheets``: ours, removable);
- ``jsaddons/publish.xml``: ``<jsplugins>`` with our ``<jsplugin name="xfsheets" type="et"
  url="xfsheets_<version>" version=… enable="enable_dev" install="null" customDomain=""/>``;
- ``jsaddons/authaddin.json``: WPS's trust record per host (``et``: 表格), our entry ``{"name",
  "enable": true, "isload": true, "mode": 1 (local), "path"}`` listed in its ``namelist``.

Other add-ins' entries are kept as they are; a publish.xml or authaddin.json that does not parse is
refused (nothing changed). ``jsaddons`` is ``%APPDATA%\\kingsoft\\wps\\jsaddons`` on Windows and
``~/.local/share/Kingsoft/wps/jsaddons`` on Linux (UOS, Kylin). WPS reads them when 表格 starts: a
running WPS must be closed and reopened. WPS never starts the service; its desktop shortcut does.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from xfsheets.errors import XfsheetsError

NAME = "xfsheets"
HOST = "et"  # WPS 表格
FILES = ("ribbon.xml", "main.js", "index.html", "manifest.xml")
CONFIG = "config.js"
MARKER = ".xfsheets"
PUBLISH = "publish.xml"
AUTH = "authaddin.json"


def version() -> str:
    from xfsheets.outputs import _version

    return _version()


def jsaddons_dir() -> Path:
    """WPS's per-user add-in folder on this system."""
    if sys.platform == "win32":
        base = os.environ.get("APPDATA") or str(Path.home() / "AppData" / "Roaming")
        return Path(base) / "kingsoft" / "wps" / "jsaddons"
    if sys.platform == "darwin":
        raise XfsheetsError("本机是 macOS：信访台账 的 WPS 选项卡只支持 Windows 和 Linux（统信 UOS、麒麟）上的 WPS",
                            hint="请使用桌面上的“信访台账助手”网页，或命令行")
    return Path.home() / ".local" / "share" / "Kingsoft" / "wps" / "jsaddons"


def folder_name() -> str:
    return f"{NAME}_{version()}"


def source(name: str) -> bytes:
    return (resources.files("xfsheets.wps") / "addin" / name).read_bytes()


# --- publish.xml and authaddin.json ------------------------------------------------------------

def _read_publish(path: Path) -> ET.Element:
    if not path.exists():
        return ET.Element("jsplugins")
    try:
        root = ET.fromstring(path.read_bytes())
    except ET.ParseError as exc:
        raise XfsheetsError("WPS 的加载项清单无法读取（不是合法的 XML），没有做任何改动", file=path,
                            hint="这个文件可能被别的程序写坏了：请把它改名备份后再运行一次 xfsheets wps install") from exc
    if root.tag != "jsplugins":
        raise XfsheetsError(f"WPS 的加载项清单的根元素是 <{root.tag}>，不是 <jsplugins>，没有做任何改动", file=path,
                            hint="请把它改名备份后再运行一次 xfsheets wps install")
    return root


def _write_publish(path: Path, root: ET.Element) -> None:
    ET.indent(root)
    _atomic_write(path, b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n")


def _read_auth(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig") or "{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise XfsheetsError("WPS 的加载项信任记录无法读取（不是合法的 JSON），没有做任何改动", file=path,
                            hint="请把它改名备份后再运行一次 xfsheets wps install") from exc
    if not isinstance(data, dict):
        raise XfsheetsError("WPS 的加载项信任记录格式不对，没有做任何改动", file=path,
                            hint="请把它改名备份后再运行一次 xfsheets wps install")
    return data


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.xfsheets-tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _names(host: dict) -> list[str]:
    return [n for n in str(host.get("namelist", "")).split(";") if n]


# --- install, status, uninstall ----------------------------------------------------------------

def install(target: str | Path | None = None) -> Path:
    """Write the add-in and its publish.xml / authaddin.json entries into ``target`` (default: this
    user's jsaddons). Returns the add-in's folder. Both lists are read (and refused if broken) before
    anything is written."""
    from xfsheets.wps.contract import config_js

    jsaddons = Path(target) if target is not None else jsaddons_dir()
    publish = _read_publish(jsaddons / PUBLISH)
    auth = _read_auth(jsaddons / AUTH)
    folder = jsaddons / folder_name()
    for old in _our_folders(jsaddons):  # an earlier version's files
        if old != folder:
            shutil.rmtree(old)
    folder.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        _atomic_write(folder / name, source(name))
    _atomic_write(folder / CONFIG, config_js().encode("utf-8"))
    (folder / MARKER).write_text(f"{NAME} {version()}\n", encoding="utf-8")

    for node in [n for n in publish if n.get("name") == NAME]:
        publish.remove(node)
    ET.SubElement(publish, "jsplugin", {"name": NAME, "type": HOST, "url": folder.name, "version": version(),
                                        "enable": "enable_dev", "install": "null", "customDomain": ""})
    _write_publish(jsaddons / PUBLISH, publish)

    host = auth.setdefault(HOST, {})
    if not isinstance(host, dict):
        host = auth[HOST] = {}
    host[NAME] = {"name": NAME, "enable": True, "isload": True, "mode": 1, "path": str(folder)}
    host["namelist"] = ";".join([*[n for n in _names(host) if n != NAME], NAME])
    _atomic_write(jsaddons / AUTH, json.dumps(auth, ensure_ascii=False, indent=2).encode("utf-8"))
    return folder


def _our_folders(jsaddons: Path) -> list[Path]:
    if not jsaddons.is_dir():
        return []
    return [p for p in jsaddons.iterdir() if p.is_dir() and p.name.startswith(f"{NAME}_") and (p / MARKER).is_file()]


@dataclass
class WpsStatus:
    jsaddons: Path
    folder: Path | None
    installed: bool
    service_file: Path
    service_running: bool
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"jsaddons": str(self.jsaddons), "folder": str(self.folder) if self.folder else None,
                "installed": self.installed, "service_file": str(self.service_file),
                "service_running": self.service_running, "problems": self.problems}


def status(target: str | Path | None = None) -> WpsStatus:
    from xfsheets.wps.contract import service_file

    jsaddons = Path(target) if target is not None else jsaddons_dir()
    folder = jsaddons / folder_name()
    problems = []
    missing = [n for n in (*FILES, CONFIG) if not (folder / n).is_file()]
    if not folder.is_dir():
        problems.append(f"WPS 加载项没有安装（没有「{folder}」）：请运行 xfsheets wps install")
    elif missing:
        problems.append(f"WPS 加载项的文件不全（缺 {'、'.join(missing)}）：请再运行一次 xfsheets wps install")
    try:
        entries = [n for n in _read_publish(jsaddons / PUBLISH) if n.get("name") == NAME]
    except XfsheetsError as exc:
        entries, problems = [], [*problems, str(exc)]
    if not entries:
        problems.append(f"WPS 的加载项清单 {PUBLISH} 中没有 信访台账：请运行 xfsheets wps install")
    elif entries[0].get("url") != folder.name:
        problems.append(f"{PUBLISH} 中的 信访台账 指向「{entries[0].get('url')}」，不是本版本：请再运行一次 xfsheets wps install")
    try:
        mine = _read_auth(jsaddons / AUTH).get(HOST, {}).get(NAME)
    except (XfsheetsError, AttributeError) as exc:
        mine, problems = None, [*problems, str(exc)]
    if not isinstance(mine, dict) or not mine.get("enable"):
        problems.append(f"WPS 的信任记录 {AUTH} 中 信访台账 没有启用：请运行 xfsheets wps install，"
                        "或在 WPS 的“开发工具 → WPS 加载项”中启用")
    service = service_file()
    installed = not problems
    return WpsStatus(jsaddons, folder if folder.is_dir() else None, installed, service, service.is_file(), problems)


def uninstall(target: str | Path | None = None) -> list[Path]:
    """Remove our folder(s) and our publish.xml / authaddin.json entries (others' kept). Returns what changed."""
    jsaddons = Path(target) if target is not None else jsaddons_dir()
    changed: list[Path] = []
    publish = _read_publish(jsaddons / PUBLISH)
    auth = _read_auth(jsaddons / AUTH)
    for old in _our_folders(jsaddons):
        shutil.rmtree(old)
        changed.append(old)
    ours = [n for n in publish if n.get("name") == NAME]
    if ours:
        for node in ours:
            publish.remove(node)
        _write_publish(jsaddons / PUBLISH, publish)
        changed.append(jsaddons / PUBLISH)
    host = auth.get(HOST)
    if isinstance(host, dict) and (NAME in host or NAME in _names(host)):
        host.pop(NAME, None)
        host["namelist"] = ";".join(n for n in _names(host) if n != NAME)
        _atomic_write(jsaddons / AUTH, json.dumps(auth, ensure_ascii=False, indent=2).encode("utf-8"))
        changed.append(jsaddons / AUTH)
    return changed
