"""Drop-downs, date checks and text columns for a ledger workbook, and (optionally) buttons
inside it, without Excel.

``install(ledger.xlsx, buttons=False)`` (``xfsheets excel install``) writes a ``.xlsx`` copy:
every part of the user's workbook copied untouched except where it must differ, plus
- a hidden ``下拉列表`` sheet holding the lists (办理状态 / 信访形式 / 问题类别) of the profile;
- on every ledger sheet, for the whole column (from below the header to Excel's last row):
  list validation on 办理状态 / 信访形式 / 问题类别, date validation on the date columns, and a
  text format on 身份证号 / 联系电话 (existing values unchanged). A clerk's own validations
  keep their cells: ours cover only the rows theirs do not.

``install(ledger.xlsx, buttons=True)`` (``--with-buttons``) writes ``ledger.xlsm``: the same, plus
- ``xl/vbaProject.bin``: xlwings' own standalone VBA project of the pinned xlwings version
  with our ``macros/xfsheets.bas`` in place of its sample module;
- a ``xfsheets`` sheet with labelled form-control buttons bound to the macros, and an
  ``xlwings.conf`` sheet that only switches off what xlwings' stock VBA would take from a workbook
  (its folder on sys.path); never an interpreter path, a profile or a policy. The project's
  ``xlwings`` module is narrowed as in the add-in (:func:`xfsheets.addin.pc_only_xlwings_module`):
  every setting comes from this PC's ``%USERPROFILE%\\.xlwings\\xlwings.conf`` (written by
  ``xfsheets excel addin install``), nothing from the workbook, its sheets or its folder.

Installing again on a workbook that already has our sheets and validations replaces them
(no second pair of sheets, no doubled rules). Sheet XML is edited only around ``<sheetData>``
(the rows are copied as text, however large); the rest of each edited part is an lxml tree,
so namespace declarations, ``mc:Ignorable`` lists and the CT_Worksheet element order hold.
"""
from __future__ import annotations

import copy
import re
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath

from lxml import etree

from xfsheets.errors import XfsheetsError
from xfsheets.package_edit import WORKSHEET_ORDER  # CT_Worksheet child order, written once
from xfsheets.schema import DATE_FIELDS, Profile

BUTTONS_SHEET = "xfsheets"
CONF_SHEET = "xlwings.conf"
LISTS_SHEET = "下拉列表"
OWN_SHEETS = (BUTTONS_SHEET, CONF_SHEET, LISTS_SHEET)
DROPDOWN_SUFFIX = "_带下拉"  # default name of the .xlsx copy: 台账_带下拉.xlsx
MACRO_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
SHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
VBA_CT = "application/vnd.ms-office.vbaProject"
VML_CT = "application/vnd.openxmlformats-officedocument.vmlDrawing"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
XM_NS = "http://schemas.microsoft.com/office/excel/2006/main"
REL_SHEET = REL_NS + "/worksheet"
REL_VBA = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
REL_SST = REL_NS + "/sharedStrings"
SST_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
MAX_ROW = 1048576  # Excel's last row: validations and formats cover the whole column
OWN_TITLE = "xfsheets："  # our validations' errorTitle starts with this (how a reinstall finds them)

@dataclass(frozen=True)
class Button:
    macro: str  # VBA Sub in macros/xfsheets.bas
    caption: str
    entry: str  # function in xfsheets.excel
    help: str


BUTTONS = [
    Button("CheckLedger", "检查台账", "check_ledger", "逐格检查必填项、日期、身份证号、电话等，标出问题单元格，结果列在“检查结果”表"),
    Button("ComputeDeadlines", "计算时限", "compute_deadlines", "按《信访工作条例》计算当前阶段的法定时限，在台账右侧加上 剩余天数 / 预警 等列"),
    Button("MakeSlips", "生成交办单", "make_slips", "按责任单位生成交办单，保存在台账旁的“xfsheets输出”文件夹"),
    Button("MakeReport", "生成汇总表", "make_report", "生成上报用的汇总报表（个人信息已脱敏），保存在“xfsheets输出”文件夹"),
    Button("SendReport", "发送报表", "send_report", "生成汇总报表并写成邮件草稿（.eml），或按 xfsheets.toml 的设置直接发送"),
]


def bas_source() -> str:
    """Our VBA module (macros/xfsheets.bas, shipped as package data)."""
    return (resources.files("xfsheets.macros") / "xfsheets.bas").read_text(encoding="ascii")


def macro_names(source: str) -> list[str]:
    return re.findall(r"^Sub\s+(\w+)\s*\(", source, flags=re.M)


def vba_project_bin() -> bytes:
    """xlwings' standalone VBA project with our module instead of its sample ``Module1``."""
    import pyopenvba
    import xlwings

    from xfsheets.addin import narrow_xlwings_module

    standalone = Path(xlwings.__file__).parent / "quickstart_standalone.xlsm"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "project.xlsm"
        shutil.copyfile(standalone, work)
        with pyopenvba.ExcelFile(work) as book:
            project = book.vba_project()
            if "Module1" in project.module_names():
                project.delete_module("Module1")
            project.add_module("xfsheets", bas_source())
            narrow_xlwings_module(project)
            book.save()
        with zipfile.ZipFile(work) as z:
            return z.read("xl/vbaProject.bin")


def default_interpreter() -> str:
    """The interpreter that runs this command (pythonw.exe on Windows: no console window).
    Used for the per-PC settings (:mod:`xfsheets.addin`), never written into a ledger."""
    exe = Path(sys.executable)
    if exe.name.lower() == "python.exe" and (exe.parent / "pythonw.exe").exists():
        exe = exe.parent / "pythonw.exe"
    return str(exe)


# --- scratch parts written by xlsxwriter -----------------------------------------------------

def _scratch(build) -> dict[str, bytes]:
    """Run ``build(workbook)`` on a constant_memory xlsxwriter workbook (inline strings: no
    shared-string table to transplant; it needs a real file) and return its parts."""
    import xlsxwriter

    tmp = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)
    tmp.close()
    try:
        wb = xlsxwriter.Workbook(tmp.name, {"constant_memory": True})
        build(wb)
        wb.close()
        with zipfile.ZipFile(tmp.name) as z:
            parts = {n: z.read(n) for n in z.namelist()}
    finally:
        Path(tmp.name).unlink()
    for name, data in parts.items():
        if name.startswith("xl/worksheets/sheet") and b't="s"' in data:
            raise AssertionError("scratch sheet uses shared strings")
    return parts


def lists_part(lists: dict[str, list[str]]) -> bytes:
    """The hidden 下拉列表 sheet: one column per list, its name in row 1."""
    def build(wb):
        ws = wb.add_worksheet(LISTS_SHEET)
        rows = max((len(v) for v in lists.values()), default=0) + 1
        for r in range(rows):  # constant_memory: rows strictly in order
            for c, (name, values) in enumerate(lists.items()):
                column = [name, *values]
                if r < len(column):
                    ws.write_string(r, c, column[r])
        ws.set_column(0, len(lists) - 1, 16)

    return _scratch(build)["xl/worksheets/sheet1.xml"].replace(b' tabSelected="1"', b"")


def scratch_parts() -> dict[str, bytes]:
    """The buttons sheet (+ its VML) and the xlwings.conf sheet (no interpreter, profile or policy:
    those are this PC's settings)."""
    def build(wb):
        ws = wb.add_worksheet(BUTTONS_SHEET)
        ws.write_string(0, 0, "xfsheets 按钮：点一下即可在本工作簿中运行（本机需已安装 Python 和 xfsheets，"
                              "并运行过 xfsheets excel addin install）")
        for k, button in enumerate(BUTTONS):
            ws.write_string(2 + 3 * k, 3, button.help)
        for k, button in enumerate(BUTTONS):
            ws.insert_button(2 + 3 * k, 0, {"macro": button.macro, "caption": button.caption, "width": 150,
                                            "height": 40, "font": {"name": "宋体", "size": 12}})
        ws.set_column(0, 2, 10)
        ws.set_column(3, 3, 70)
        conf = wb.add_worksheet(CONF_SHEET)
        rows = [("Show Console", "False"), ("ADD_WORKBOOK_TO_PYTHONPATH", "False")]
        for r, (key, value) in enumerate(rows):
            conf.write_string(r, 0, key)
            conf.write_string(r, 1, value)

    z = _scratch(build)
    return {
        "buttons": z["xl/worksheets/sheet1.xml"].replace(b' tabSelected="1"', b""),
        "buttons_rels": z["xl/worksheets/_rels/sheet1.xml.rels"],
        "vml": z["xl/drawings/vmlDrawing1.vml"],
        "conf": z["xl/worksheets/sheet2.xml"].replace(b' tabSelected="1"', b""),
    }


# --- the ledger's layout ------------------------------------------------------------------------

@dataclass
class LedgerLayout:
    sheet: str
    header_end: int  # Excel row of the last header row
    columns: dict[str, str]  # field -> column letter


def _layouts(path: Path, profile: Profile | None, password: str | None, *, strict: bool) -> list[LedgerLayout]:
    """Where the ledger sheets' columns are. ``strict``: the reader's error (which says why no ledger
    was found) goes to the user; otherwise a workbook without a recognisable ledger still gets the
    buttons."""
    from xfsheets.reader import read_ledger

    try:
        ledger = read_ledger(path, profile=profile, password=password)
    except XfsheetsError:
        if strict:
            raise
        return []
    return [LedgerLayout(sheet=src.sheet, header_end=src.header_rows[-1],
                         columns={c.field: c.letter for c in src.columns if c.field})
            for src in ledger.sources if src.sheet not in OWN_SHEETS]


def _vocabularies(profile: Profile | None) -> dict[str, list[str]]:
    from xfsheets.policy import default_policy

    p = profile or Profile()
    # the statuses the policy names (撤回, 不再受理, 已转送（出本单位）...) are words of the ledger too, as in check
    statuses = list(dict.fromkeys([*p.allowed("status"), *default_policy().known_statuses]))
    return {"办理状态": statuses, "信访形式": p.allowed("channel"), "问题类别": p.allowed("category")}


# --- install ------------------------------------------------------------------------------------------

def default_output(ledger: Path, buttons: bool) -> Path:
    if buttons:
        return ledger.with_suffix(".xlsm")
    stem = ledger.stem if ledger.stem.endswith(DROPDOWN_SUFFIX) else ledger.stem + DROPDOWN_SUFFIX
    return ledger.with_name(stem + ".xlsx")


def install(ledger: str | Path, output: str | Path | None = None, *, buttons: bool = True,
            interpreter: str | None = None, profile: Profile | None = None, password: str | None = None,
            policy: str | Path | None = None) -> Path:
    """Write a copy of ``ledger`` with drop-downs, date checks and text columns: ``<ledger>.xlsm`` with
    the xfsheets buttons (``buttons=True``), or ``<ledger>_带下拉.xlsx`` without macros. Never touches
    the input.

    ``profile`` shapes the drop-downs. Nothing about running is written into the ledger: the buttons
    take the interpreter, profile and policy from this PC's settings (``xfsheets excel addin install
    --interpreter/--profile/--policy``), so ``interpreter`` and ``policy`` are refused here with
    where to set them."""
    from xfsheets.writer import atomic_path

    ledger = Path(ledger)
    if interpreter:  # "" (no interpreter) was always allowed
        raise XfsheetsError("台账里不记 Python 的位置：按钮用每台电脑自己的设置",
                            hint="请在每台使用按钮的电脑上运行 xfsheets excel addin install --interpreter Python路径")
    if policy is not None:
        raise XfsheetsError("台账里不记办理规则：按钮用本机设置的办理规则，台账里写的不起作用",
                            hint="请在每台使用按钮的电脑上运行 xfsheets excel addin install --policy 办理规则文件")
    if not ledger.exists():
        raise XfsheetsError("找不到文件", file=ledger, hint="请检查文件名和路径")
    suffix = ledger.suffix.lower()
    if suffix != ".xlsx" and not (buttons and suffix == ".xlsm"):
        raise XfsheetsError(f"只能为 .xlsx 工作簿安装下拉列表和按钮（这是 {ledger.suffix or '无扩展名'} 文件）", file=ledger,
                            hint="请先用 Excel/WPS 另存为 .xlsx（Excel 工作簿）再安装")
    want = ".xlsm" if buttons else ".xlsx"
    output = Path(output) if output else default_output(ledger, buttons)
    if output.suffix.lower() != want:
        raise XfsheetsError(f"输出文件必须以 {want} 结尾" + ("（带按钮的工作簿含有宏）" if buttons else "（不含宏）"),
                            file=output, hint=f"请把输出文件名改为 {want} 结尾"
                            + ("" if buttons else "；需要按钮请加 --with-buttons"))
    if output.resolve() == ledger.resolve():
        raise XfsheetsError("输出文件不能与原台账相同", file=output, hint="请用 -o 指定另一个文件名")
    if password:
        raise XfsheetsError("加密的工作簿不能安装", file=ledger,
                            hint="请先在 Excel 中取消打开密码（文件-信息-保护工作簿-用密码进行加密，清空），再安装")
    try:
        source = zipfile.ZipFile(ledger)
    except zipfile.BadZipFile as exc:
        raise XfsheetsError("不是有效的 .xlsx 工作簿（可能已损坏或已加密）", file=ledger,
                            hint="请用 Excel/WPS 打开确认，必要时另存为 .xlsx") from exc
    with source:
        parts = {name: source.read(name) for name in source.namelist()}
        infos = {i.filename: i for i in source.infolist()}
    package = Package(parts)
    if "xl/vbaProject.bin" in parts and not (buttons and BUTTONS_SHEET in package.sheet_names()):
        raise XfsheetsError("该工作簿已含有宏（VBA 工程）", file=ledger, hint="请对不含宏的 .xlsx 版本安装")
    layouts = _layouts(ledger, profile, password, strict=not buttons)
    if not layouts and not buttons:
        raise XfsheetsError("在该工作簿中找不到台账表头，没有可以加下拉列表的列", file=ledger,
                            hint="表头应含有 信访件编号、登记日期、办理状态 等列名；列名不同请用 --profile 指定")
    vocab = _vocabularies(profile)

    for name in OWN_SHEETS:  # a reinstall replaces what an earlier install added
        package.remove_sheet(name)
    lists_name = package.add_sheet(LISTS_SHEET, lists_part(vocab), hidden=True)
    if buttons:
        scratch = scratch_parts()
        package.add_buttons(scratch, vba_project_bin())
    for layout in layouts:
        package.add_validation(layout, vocab, lists_name)
    new_parts = package.parts
    # Not stamped as an xfsheets output: it is the clerk's ledger, read like any other.
    with atomic_path(output, inputs=[ledger]) as tmp:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
            order = list(parts)
            for name in sorted(new_parts, key=lambda n: (n != "[Content_Types].xml",
                                                          order.index(n) if n in parts else len(order))):
                info = infos.get(name)
                if info is not None and new_parts[name] is parts.get(name):
                    out.writestr(info, new_parts[name])  # untouched parts keep their entry as it was
                else:
                    out.writestr(name, new_parts[name])
    return output


# --- the package ------------------------------------------------------------------------------

def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _parse(data: bytes):
    try:
        return etree.fromstring(data, etree.XMLParser(remove_blank_text=False, resolve_entities=False,
                                                      huge_tree=True))
    except etree.XMLSyntaxError as exc:
        raise XfsheetsError("工作簿中的 XML 已损坏，无法安装", hint="请用 Excel 打开后另存为 .xlsx 再试") from exc


def _dump(root) -> bytes:
    return (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
            + etree.tostring(root, encoding="UTF-8", xml_declaration=False))


def _rels_name(part: str) -> str:
    p = PurePosixPath(part)
    return str(p.parent / "_rels" / (p.name + ".rels"))


def _resolve(base_part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    parts: list[str] = []
    for piece in (str(PurePosixPath(base_part).parent) + "/" + target).split("/"):
        if piece in ("", "."):
            continue
        if piece == "..":
            if parts:
                parts.pop()
        else:
            parts.append(piece)
    return "/".join(parts)


def _free(names, pattern: str) -> str:
    n = 1
    while pattern.format(n) in names:
        n += 1
    return pattern.format(n)


class Package:
    """The parts of a workbook package, with the edits install makes."""

    def __init__(self, parts: dict[str, bytes]) -> None:
        self.parts = dict(parts)
        self.workbook_part = self._main_part()
        self.workbook = _parse(self.parts[self.workbook_part])
        self.wb_rels_part = _rels_name(self.workbook_part)
        self.wb_rels = _parse(self.parts[self.wb_rels_part])
        self.types = _parse(self.parts["[Content_Types].xml"])
        self._text_style: int | None = None

    def _main_part(self) -> str:
        rels = _parse(self.parts["_rels/.rels"])
        for rel in rels:
            if rel.get("Type", "").endswith("/officeDocument"):
                return _resolve("", rel.get("Target"))
        return "xl/workbook.xml"

    # -- workbook, relationships, content types
    def _sheets_el(self):
        sheets = self.workbook.find(_q(MAIN_NS, "sheets"))
        if sheets is None:  # e.g. a Strict Open XML workbook
            raise XfsheetsError("无法识别工作簿结构（可能是“Strict Open XML”格式）",
                                hint="请用 Excel 打开后另存为“Excel 工作簿 (.xlsx)”再试")
        return sheets

    def sheet_names(self) -> list[str]:
        return [s.get("name") for s in self._sheets_el()]

    def _rel_target(self, rid: str) -> str | None:
        for rel in self.wb_rels:
            if rel.get("Id") == rid:
                return _resolve(self.workbook_part, rel.get("Target"))
        return None

    def sheet_part(self, name: str) -> str | None:
        for s in self._sheets_el():
            if s.get("name") == name:
                return self._rel_target(s.get(_q(REL_NS, "id")))
        return None

    def _add_rel(self, rels, rel_type: str, target: str) -> str:
        used = {r.get("Id") for r in rels}
        rid = _free(used, "rId{}")
        etree.SubElement(rels, _q(PKG_REL_NS, "Relationship"), Id=rid, Type=rel_type, Target=target)
        return rid

    def _override(self, part: str, content_type: str) -> None:
        for o in self.types.findall(_q(CT_NS, "Override")):
            if o.get("PartName") == "/" + part:
                o.set("ContentType", content_type)
                return
        etree.SubElement(self.types, _q(CT_NS, "Override"), PartName="/" + part, ContentType=content_type)

    def _drop_override(self, part: str) -> None:
        for o in self.types.findall(_q(CT_NS, "Override")):
            if o.get("PartName") == "/" + part:
                self.types.remove(o)

    def _delete_part(self, part: str) -> None:
        self.parts.pop(part, None)
        self._drop_override(part)
        rels_name = _rels_name(part)
        if rels_name in self.parts:
            for rel in _parse(self.parts.pop(rels_name)):
                if rel.get("TargetMode") != "External":
                    self._delete_part(_resolve(part, rel.get("Target")))

    def remove_sheet(self, name: str) -> bool:
        """Remove the sheet ``name`` (one an earlier install added), its parts and references."""
        sheets = self._sheets_el()
        for index, s in enumerate(sheets):
            if s.get("name") == name:
                break
        else:
            return False
        rid = s.get(_q(REL_NS, "id"))
        sheets.remove(s)
        part = self._rel_target(rid)
        for rel in list(self.wb_rels):
            if rel.get("Id") == rid:
                self.wb_rels.remove(rel)
        if part:
            self._delete_part(part)
        names = self.workbook.find(_q(MAIN_NS, "definedNames"))
        if names is not None:
            for dn in list(names):
                local = dn.get("localSheetId")
                if local is not None and int(local) == index:
                    names.remove(dn)
                elif local is not None and int(local) > index:
                    dn.set("localSheetId", str(int(local) - 1))
            if not len(names):
                self.workbook.remove(names)
        for view in self.workbook.iter(_q(MAIN_NS, "workbookView")):
            for attr in ("activeTab", "firstSheet"):
                value = view.get(attr)
                if value is not None and int(value) >= index and int(value) > 0:
                    view.set(attr, str(int(value) - 1))
        return True

    def _shared(self, xml: bytes) -> bytes:
        """Our scratch sheet's inline strings as shared strings (of the workbook's table, made if
        there is none): Excel keeps text cells in the table, and rewrites a sheet that does not."""
        cells = list(re.finditer(rb'<c r="([A-Z]+[0-9]+)"((?: s="[0-9]+")?) t="inlineStr"><is><t[^>]*>(.*?)</t></is></c>',
                                 xml, flags=re.S))
        if not cells:
            return xml
        rel = next((r for r in self.wb_rels if r.get("Type") == REL_SST), None)
        if rel is None:
            part = "xl/sharedStrings.xml" if "xl/sharedStrings.xml" not in self.parts else \
                _free(self.parts, "xl/sharedStrings{}.xml")
            sst = etree.Element(_q(MAIN_NS, "sst"), nsmap={None: MAIN_NS})
            self._add_rel(self.wb_rels, REL_SST, part.split("/", 1)[1] if part.startswith("xl/") else "/" + part)
            self._override(part, SST_CT)
        else:
            part = _resolve(self.workbook_part, rel.get("Target"))
            sst = _parse(self.parts[part])
        ns = etree.QName(sst).namespace or MAIN_NS
        index = {}
        for i, si in enumerate(sst):
            if len(si) == 1 and _local(si[0]) == "t":
                index.setdefault(si[0].text or "", i)
        out, at = [], 0
        for m in cells:
            text = etree.fromstring(b"<t>" + m.group(3) + b"</t>").text or ""
            if text not in index:
                si = etree.SubElement(sst, _q(ns, "si"))
                t = etree.SubElement(si, _q(ns, "t"))
                t.text = text
                if text != text.strip():
                    t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
                index[text] = len(sst) - 1
            out += [xml[at:m.start()], b'<c r="%s"%s t="s"><v>%d</v></c>' % (m.group(1), m.group(2), index[text])]
            at = m.end()
        out.append(xml[at:])
        sst.set("uniqueCount", str(len(sst)))
        sst.set("count", str(int(sst.get("count") or len(sst) - len(cells)) + len(cells)))
        self.parts[part] = _dump(sst)
        return b"".join(out)

    def add_sheet(self, name: str, xml: bytes, *, hidden: bool = False) -> str:
        part = _free(self.parts, "xl/worksheets/sheet{}.xml")
        self.parts[part] = self._shared(xml)
        rid = self._add_rel(self.wb_rels, REL_SHEET, "/" + part)
        ids = [int(s.get("sheetId")) for s in self._sheets_el()]
        el = etree.SubElement(self._sheets_el(), _q(MAIN_NS, "sheet"), nsmap={"r": REL_NS})
        el.set("name", name)
        el.set("sheetId", str(max(ids, default=0) + 1))
        if hidden:
            el.set("state", "hidden")
        el.set(_q(REL_NS, "id"), rid)
        self._override(part, SHEET_CT)
        self._flush()
        return name

    def add_buttons(self, scratch: dict[str, bytes], vba: bytes) -> None:
        buttons = self.add_sheet(BUTTONS_SHEET, scratch["buttons"])
        part = self.sheet_part(buttons)
        # VML shape ids must not collide with other drawings (comments) in the workbook.
        used = [int(x) for n, data in self.parts.items() if n.endswith(".vml")
                for x in re.findall(rb'o:idmap v:ext="edit" data="(\d+)', data)]
        block = max(used, default=0) + 1
        vml_part = _free(self.parts, "xl/drawings/vmlDrawing{}.vml")
        vml = scratch["vml"].replace(b'data="1"', f'data="{block}"'.encode())
        self.parts[vml_part] = re.sub(rb"_x0000_s1(\d{3})",
                                      lambda m: f"_x0000_s{block * 1024 + int(m.group(1)) - 24}".encode(), vml)
        self.parts[_rels_name(part)] = scratch["buttons_rels"].replace(b"vmlDrawing1.vml",
                                                                      vml_part.rsplit("/", 1)[1].encode())
        self.add_sheet(CONF_SHEET, scratch["conf"])
        self.parts["xl/vbaProject.bin"] = vba
        if not any(r.get("Type") == REL_VBA for r in self.wb_rels):
            self._add_rel(self.wb_rels, REL_VBA, "vbaProject.bin")
        self._override(self.workbook_part, MACRO_MAIN)
        self._override("xl/vbaProject.bin", VBA_CT)
        if not any(d.get("Extension", "").lower() == "vml" for d in self.types.findall(_q(CT_NS, "Default"))):
            default = etree.Element(_q(CT_NS, "Default"), Extension="vml", ContentType=VML_CT)
            self.types.insert(0, default)
        pr = self.workbook.find(_q(MAIN_NS, "workbookPr"))
        if pr is None:  # CT_Workbook: fileVersion, fileSharing, workbookPr, ...
            pr = etree.Element(_q(MAIN_NS, "workbookPr"))
            anchor = None
            for child in self.workbook:
                if _local(child) in ("fileVersion", "fileSharing"):
                    anchor = child
            if anchor is None:
                self.workbook.insert(0, pr)
            else:
                anchor.addnext(pr)
        if pr.get("codeName") is None:  # the VBA project's ThisWorkbook module
            pr.set("codeName", "ThisWorkbook")
        self._flush()

    def _flush(self) -> None:
        self.parts[self.workbook_part] = _dump(self.workbook)
        self.parts[self.wb_rels_part] = _dump(self.wb_rels)
        self.parts["[Content_Types].xml"] = _dump(self.types)

    # -- validation and text columns on a ledger sheet
    def add_validation(self, layout: LedgerLayout, vocab: dict[str, list[str]], lists_sheet: str) -> None:
        part = self.sheet_part(layout.sheet)
        if not part or part not in self.parts:
            return
        sheet = SheetXml(self.parts[part])
        root = sheet.root
        ns = etree.QName(root).namespace or MAIN_NS
        dvs = root.find(_q(ns, "dataValidations"))
        if dvs is not None:
            for dv in list(dvs):
                if _is_ours(dv):
                    dvs.remove(dv)
        taken = _validated_ranges(root)
        first = layout.header_end + 1
        rules = []
        quoted = "'" + lists_sheet.replace("'", "''") + "'"
        for k, (field, name) in enumerate((("status", "办理状态"), ("channel", "信访形式"), ("category", "问题类别"))):
            col = layout.columns.get(field)
            if col and vocab[name]:
                letter = chr(ord("A") + k)
                rules.append((col, dict(type="list", allowBlank="1", showInputMessage="1", showErrorMessage="1",
                                        errorStyle="warning", errorTitle=OWN_TITLE + name,
                                        error=f"请从下拉列表中选择{name}（可在 xfsheets 配置文件中扩充）",
                                        promptTitle=name, prompt="请从下拉列表中选择"),
                              [f"{quoted}!${letter}$2:${letter}${len(vocab[name]) + 1}"]))
        for field in DATE_FIELDS:
            col = layout.columns.get(field)
            if col:
                rules.append((col, dict(type="date", allowBlank="1", showErrorMessage="1", errorStyle="stop",
                                        errorTitle=OWN_TITLE + "日期", error="请输入日期，例如 2026-03-05",
                                        operator="between"), ["18264", "73415"]))  # 1950-01-01 .. 2100-12-31
        for col, attrs, formulas in rules:
            sqref = _free_sqref(col, first, taken)
            if not sqref:
                continue
            if dvs is None:
                dvs = etree.Element(_q(ns, "dataValidations"))
                _insert_ordered(root, dvs)
            dv = etree.SubElement(dvs, _q(ns, "dataValidation"))
            for key, value in attrs.items():
                dv.set(key, value)
            dv.set("sqref", sqref)
            for tag, formula in zip(("formula1", "formula2"), formulas):
                etree.SubElement(dv, _q(ns, tag)).text = formula
        if dvs is not None:
            if len(dvs):
                dvs.set("count", str(len(dvs)))
            else:
                root.remove(dvs)
        text_cols = [layout.columns[f] for f in ("id_number", "phone") if f in layout.columns]
        if text_cols:
            style = self._text_xf()
            for col in text_cols:
                _set_column_style(root, ns, _col_index(col), style)
        self.parts[part] = sheet.dump()

    def _text_xf(self) -> int:
        """A cellXfs entry with the text number format (@, id 49): an existing plain one, or a new one."""
        if self._text_style is not None:
            return self._text_style
        styles = _parse(self.parts["xl/styles.xml"])
        xfs = styles.find(_q(MAIN_NS, "cellXfs"))
        for i, xf in enumerate(xfs):
            if (xf.get("numFmtId") == "49" and xf.get("fontId", "0") == "0" and xf.get("fillId", "0") == "0"
                    and xf.get("borderId", "0") == "0" and len(xf) == 0):
                self._text_style = i
                return i
        etree.SubElement(xfs, _q(MAIN_NS, "xf"), numFmtId="49", fontId="0", fillId="0", borderId="0", xfId="0",
                         applyNumberFormat="1")
        xfs.set("count", str(len(xfs)))
        self.parts["xl/styles.xml"] = _dump(styles)
        self._text_style = len(xfs) - 1
        return self._text_style


class SheetXml:
    """A worksheet part as a tree of everything but the rows: <sheetData> stays text."""

    def __init__(self, data: bytes) -> None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise XfsheetsError("工作表不是 UTF-8 编码的 XML，无法安装", hint="请用 Excel 打开后另存为 .xlsx 再试") from exc
        m = re.search(r"<((?:[\w.-]+:)?)sheetData\b[^>]*?(/?)>", text)
        if m is None:
            raise XfsheetsError("工作表中没有 <sheetData>，无法安装", hint="请用 Excel 打开后另存为 .xlsx 再试")
        if m.group(2):
            end = m.end()
        else:
            close = f"</{m.group(1)}sheetData>"
            end = text.index(close, m.end()) + len(close)
        self.rows = text[m.start():end]
        self.placeholder = f"<{m.group(1)}sheetData/>"
        head = re.sub(r"^\ufeff?\s*<\?xml[^>]*\?>", "", text[:m.start()])
        self.root = _parse((head + self.placeholder + text[end:]).encode("utf-8"))

    def dump(self) -> bytes:
        text = _dump(self.root).decode("utf-8")
        if text.count(self.placeholder) != 1:
            raise AssertionError("sheetData placeholder lost")
        return text.replace(self.placeholder, self.rows, 1).encode("utf-8")


def _insert_ordered(root, el) -> None:
    """Insert ``el`` among the worksheet's children where CT_Worksheet's sequence puts it."""
    rank = WORKSHEET_ORDER.index(_local(el))
    for child in root:
        name = _local(child)
        if name in WORKSHEET_ORDER and WORKSHEET_ORDER.index(name) > rank:
            child.addprevious(el)
            return
    root.append(el)


def _is_ours(dv) -> bool:
    title = dv.get("errorTitle") or ""
    formula = "".join(dv.itertext())
    return (title.startswith(OWN_TITLE)  # this version
            or formula.startswith(f"{BUTTONS_SHEET}!$")  # earlier versions: lists on the buttons sheet
            or (title == "日期" and (dv.get("error") or "").startswith("请输入日期，例如")))


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _ref_box(ref: str) -> tuple[int, int, int, int] | None:
    """(col1, row1, col2, row2) of ``A1``, ``A1:C9``, ``A:A`` or ``3:3``; None when unreadable."""
    pieces = ref.replace("$", "").split(":")
    boxes = []
    for p in pieces:
        m = re.fullmatch(r"([A-Za-z]*)(\d*)", p)
        if not m or not (m.group(1) or m.group(2)):
            return None
        boxes.append((_col_index(m.group(1)) if m.group(1) else None, int(m.group(2)) if m.group(2) else None))
    (c1, r1), (c2, r2) = boxes[0], boxes[-1]
    return (c1 or 1, r1 or 1, c2 or 16384, r2 or MAX_ROW)


def _validated_ranges(root) -> list[tuple[int, int, int, int]]:
    """Cells the sheet's own validations already cover (also the Excel 2010 ones in <extLst>)."""
    refs = []
    for dv in root.iter(_q(etree.QName(root).namespace or MAIN_NS, "dataValidation")):
        refs += (dv.get("sqref") or "").split()
    for sq in root.iter(_q(XM_NS, "sqref")):
        refs += (sq.text or "").split()
    return [b for b in map(_ref_box, refs) if b]


def _free_sqref(col: str, first: int, taken: list[tuple[int, int, int, int]]) -> str:
    """``col{first}:col{MAX_ROW}`` less the rows other validations hold in that column."""
    c = _col_index(col)
    spans = [(first, MAX_ROW)]
    for c1, r1, c2, r2 in taken:
        if not c1 <= c <= c2:
            continue
        spans = [piece for a, b in spans
                 for piece in ((a, min(b, r1 - 1)), (max(a, r2 + 1), b)) if piece[0] <= piece[1]]
    return " ".join(f"{col}{a}" if a == b else f"{col}{a}:{col}{b}" for a, b in spans)


def _set_column_style(root, ns: str, index: int, style: int) -> None:
    """Give column ``index`` (1-based) the default style ``style`` in <cols>, splitting ranges."""
    cols = root.find(_q(ns, "cols"))
    if cols is None:
        cols = etree.Element(_q(ns, "cols"))
        _insert_ordered(root, cols)
    for col in list(cols):
        lo, hi = int(col.get("min")), int(col.get("max"))
        if not lo <= index <= hi:
            continue
        pieces = []
        for a, b in ((lo, index - 1), (index, index), (index + 1, hi)):
            if a > b:
                continue
            piece = copy.deepcopy(col)
            piece.set("min", str(a))
            piece.set("max", str(b))
            if a == index:
                piece.set("style", str(style))
            pieces.append(piece)
        for piece in pieces:
            col.addprevious(piece)
        cols.remove(col)
        return
    new = etree.Element(_q(ns, "col"), min=str(index), max=str(index), width="22", style=str(style),
                        customWidth="1")
    for col in cols:
        if int(col.get("min")) > index:
            col.addprevious(new)
            return
    cols.append(new)
