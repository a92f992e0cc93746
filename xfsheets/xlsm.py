"""Putting the buttons into a ledger workbook, without Excel.

``install(ledger.xlsx)`` writes ``ledger.xlsm``: every part of the user's workbook copied
untouched except where the macro workbook must differ, plus
- ``xl/vbaProject.bin``: xlwings' own standalone VBA project of the pinned xlwings version
  (the ``xlwings`` module and its ``Dictionary`` class, as ``xlwings quickstart
  --standalone`` ships it) with our ``macros/xfsheets.bas`` in place of its sample module;
- a ``xfsheets`` sheet with labelled form-control buttons bound to the macros, and an
  ``xlwings.conf`` sheet naming the interpreter (parts written by xlsxwriter in a scratch
  workbook, transplanted with their VML drawing);
- drop-down lists for 办理状态 / 信访形式 / 问题类别, date validation on date columns and a
  text format on 身份证号 / 联系电话 columns of the ledger sheet (existing values unchanged);
- the content-type and relationship entries (the workbook part becomes macroEnabled).
XML is edited as text at well-defined insertion points, so that every namespace prefix
and ``mc:Ignorable`` list Excel relies on is kept exactly as it was.
"""
from __future__ import annotations

import io
import re
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl.utils import column_index_from_string

from xfsheets.errors import XfsheetsError
from xfsheets.schema import DATE_FIELDS, Profile

BUTTONS_SHEET = "xfsheets"
CONF_SHEET = "xlwings.conf"
MACRO_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
SHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
VBA_CT = "application/vnd.ms-office.vbaProject"
VML_CT = "application/vnd.openxmlformats-officedocument.vmlDrawing"
REL_SHEET = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
REL_VBA = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
VALIDATION_ROWS = 5000  # rows below the header that get the drop-downs and date checks


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
    return re.findall(r"^Sub\s+(\w+)\s*\(\)", source, flags=re.M)


def vba_project_bin() -> bytes:
    """xlwings' standalone VBA project with our module instead of its sample ``Module1``."""
    import pyopenvba
    import xlwings

    standalone = Path(xlwings.__file__).parent / "quickstart_standalone.xlsm"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "project.xlsm"
        shutil.copyfile(standalone, work)
        with pyopenvba.ExcelFile(work) as book:
            project = book.vba_project()
            if "Module1" in project.module_names():
                project.delete_module("Module1")
            project.add_module("xfsheets", bas_source())
            book.save()
        with zipfile.ZipFile(work) as z:
            return z.read("xl/vbaProject.bin")


def default_interpreter() -> str:
    """The interpreter that runs this command (pythonw.exe on Windows: no console window)."""
    exe = Path(sys.executable)
    if exe.name.lower() == "python.exe" and (exe.parent / "pythonw.exe").exists():
        exe = exe.parent / "pythonw.exe"
    return str(exe)


def scratch_parts(interpreter: str, lists: dict[str, list[str]],
                  settings: dict[str, str] | None = None) -> dict[str, bytes]:
    """The buttons sheet (+ its VML) and the xlwings.conf sheet, written by xlsxwriter; ``settings``
    (e.g. XFSHEETS_PROFILE, XFSHEETS_POLICY: the files the buttons use) are extra rows of the
    xlwings.conf sheet, read by :mod:`xfsheets.excel`."""
    import xlsxwriter

    # constant_memory writes inline strings (no shared-string table to transplant); it needs a
    # real file: in_memory would switch it off.
    tmp = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)
    tmp.close()
    wb = xlsxwriter.Workbook(tmp.name, {"constant_memory": True})
    ws = wb.add_worksheet(BUTTONS_SHEET)
    grid: dict[int, dict[int, str]] = {0: {0: "xfsheets 按钮：点一下即可在本工作簿中运行（需已安装 Python 和 xfsheets）"}}
    for k, button in enumerate(BUTTONS):
        grid.setdefault(2 + 3 * k, {})[3] = button.help
    for c, (name, values) in enumerate(lists.items()):  # drop-down sources, columns I, J, K
        for r, value in enumerate([name, *values]):
            grid.setdefault(r, {})[8 + c] = value
    for r in sorted(grid):  # constant_memory: rows strictly in order
        for c in sorted(grid[r]):
            ws.write_string(r, c, grid[r][c])
    for k, button in enumerate(BUTTONS):
        ws.insert_button(2 + 3 * k, 0, {"macro": button.macro, "caption": button.caption, "width": 150,
                                        "height": 40, "font": {"name": "宋体", "size": 12}})
    ws.set_column(0, 2, 10)
    ws.set_column(3, 3, 70)
    conf = wb.add_worksheet(CONF_SHEET)
    for r, (key, value) in enumerate([("Interpreter_Win", interpreter), ("Interpreter_Mac", ""), ("PYTHONPATH", ""),
                                      ("Show Console", "False"), ("ADD_WORKBOOK_TO_PYTHONPATH", "False"),
                                      *(settings or {}).items()]):
        conf.write_string(r, 0, key)
        if value:
            conf.write_string(r, 1, value)
    wb.close()
    with zipfile.ZipFile(tmp.name) as z:
        parts = {
            "buttons": z.read("xl/worksheets/sheet1.xml").replace(b' tabSelected="1"', b""),
            "buttons_rels": z.read("xl/worksheets/_rels/sheet1.xml.rels"),
            "vml": z.read("xl/drawings/vmlDrawing1.vml"),
            "conf": z.read("xl/worksheets/sheet2.xml").replace(b' tabSelected="1"', b""),
        }
    Path(tmp.name).unlink()
    if b"<v>" in parts["buttons"] and b't="s"' in parts["buttons"]:
        raise AssertionError("scratch sheet uses shared strings")
    return parts


def _free_name(names: set[str], pattern: str) -> str:
    n = 1
    while pattern.format(n) in names:
        n += 1
    return pattern.format(n)


def _free_rid(rels: str) -> str:
    used = set(re.findall(r'Id="(rId\d+)"', rels))
    return _free_name(used, "rId{}")


@dataclass
class LedgerLayout:
    sheet: str
    header_end: int  # Excel row of the last header row
    columns: dict[str, str]  # field -> column letter


def _layout(path: Path, profile: Profile | None, password: str | None) -> LedgerLayout | None:
    from xfsheets.reader import read_ledger

    try:
        ledger = read_ledger(path, profile=profile, password=password)
    except XfsheetsError:
        return None  # a workbook without a recognisable ledger still gets the buttons
    src = ledger.sources[0]
    return LedgerLayout(sheet=src.sheet, header_end=src.header_rows[-1],
                        columns={c.field: c.letter for c in src.columns if c.field})


def install(ledger: str | Path, output: str | Path | None = None, *, interpreter: str | None = None,
            profile: Profile | None = None, password: str | None = None, policy: str | Path | None = None) -> Path:
    """Write ``<ledger>.xlsm``: the same workbook with the xfsheets buttons. Never touches the .xlsx.

    The profile's file and ``policy`` (a policy TOML) are recorded, as absolute paths, in the
    xlwings.conf sheet (XFSHEETS_PROFILE, XFSHEETS_POLICY): the buttons read the ledger and judge
    deadlines with them, as the command line would with --profile and --policy."""
    from xfsheets.writer import atomic_path

    ledger = Path(ledger)
    if not ledger.exists():
        raise XfsheetsError("找不到文件", file=ledger, hint="请检查文件名和路径")
    if ledger.suffix.lower() != ".xlsx":
        raise XfsheetsError(f"只能为 .xlsx 工作簿安装按钮（这是 {ledger.suffix or '无扩展名'} 文件）", file=ledger,
                            hint="请先用 Excel/WPS 另存为 .xlsx（Excel 工作簿）再安装")
    output = Path(output) if output else ledger.with_suffix(".xlsm")
    if output.suffix.lower() != ".xlsm":
        raise XfsheetsError("带按钮的工作簿必须保存为 .xlsm", file=output, hint="请把输出文件名改为 .xlsm 结尾")
    if output.resolve() == ledger.resolve():
        raise XfsheetsError("输出文件不能与原台账相同", file=output)
    if password:
        raise XfsheetsError("加密的工作簿不能安装按钮", file=ledger,
                            hint="请先在 Excel 中取消打开密码（文件-信息-保护工作簿-用密码进行加密，清空），再安装")
    try:
        source = zipfile.ZipFile(ledger)
    except zipfile.BadZipFile as exc:
        raise XfsheetsError("不是有效的 .xlsx 工作簿（可能已损坏或已加密）", file=ledger,
                            hint="请用 Excel/WPS 打开确认，必要时另存为 .xlsx") from exc
    layout = _layout(ledger, profile, password)
    with source:
        parts = {name: source.read(name) for name in source.namelist()}
        infos = {i.filename: i for i in source.infolist()}
    if "xl/vbaProject.bin" in parts:
        raise XfsheetsError("该工作簿已含有宏（VBA 工程）", file=ledger, hint="请对不含宏的 .xlsx 版本安装")
    vocab = _vocabularies(profile)
    settings = {}
    if profile is not None and getattr(profile, "path", None):
        settings["XFSHEETS_PROFILE"] = str(Path(profile.path).resolve())
    if policy is not None:
        from xfsheets.policy import load_policy

        load_policy(policy)  # a broken policy is refused now, not at the first button press
        settings["XFSHEETS_POLICY"] = str(Path(policy).resolve())
    new_parts = _merge(parts, scratch_parts(interpreter if interpreter is not None else default_interpreter(), vocab,
                                            settings), vba_project_bin(), layout, vocab)
    # Not stamped as an xfsheets output: it is the clerk's ledger (with buttons), read like any other.
    with atomic_path(output, inputs=[ledger]) as tmp:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
            # [Content_Types].xml first, as Office writes it
            for name in sorted(new_parts, key=lambda n: (n != "[Content_Types].xml", list(parts).index(n)
                                                          if n in parts else len(parts))):
                info = infos.get(name)
                if info is not None and new_parts[name] is parts.get(name):
                    out.writestr(info, new_parts[name])  # untouched parts keep their entry as it was
                else:
                    out.writestr(name, new_parts[name])
    return output


def _vocabularies(profile: Profile | None) -> dict[str, list[str]]:
    p = profile or Profile()
    return {"办理状态": p.allowed("status"), "信访形式": p.allowed("channel"), "问题类别": p.allowed("category")}


def _merge(parts: dict[str, bytes], scratch: dict[str, bytes], vba: bytes, layout: LedgerLayout | None,
           vocab: dict[str, list[str]]) -> dict[str, bytes]:
    out = dict(parts)
    names = set(parts)
    buttons_part = _free_name(names, "xl/worksheets/sheet{}.xml")
    names.add(buttons_part)
    conf_part = _free_name(names, "xl/worksheets/sheet{}.xml")
    vml_part = _free_name(names, "xl/drawings/vmlDrawing{}.vml")
    rels_part = "xl/worksheets/_rels/" + buttons_part.rsplit("/", 1)[1] + ".rels"

    # VML shape ids must not collide with other drawings (comments) in the workbook.
    used = [int(x) for name, data in parts.items() if name.endswith(".vml")
            for x in re.findall(rb'o:idmap v:ext="edit" data="(\d+)', data)]
    block = max(used, default=0) + 1
    vml = scratch["vml"].replace(b'data="1"', f'data="{block}"'.encode())
    vml = re.sub(rb"_x0000_s1(\d{3})", lambda m: f"_x0000_s{block * 1024 + int(m.group(1)) - 24}".encode(), vml)
    out[vml_part] = vml
    out[rels_part] = scratch["buttons_rels"].replace(b"vmlDrawing1.vml", vml_part.rsplit("/", 1)[1].encode())
    out[buttons_part] = scratch["buttons"]
    out[conf_part] = scratch["conf"]
    out["xl/vbaProject.bin"] = vba

    # workbook.xml.rels + workbook.xml
    wb_rels = parts["xl/_rels/workbook.xml.rels"].decode("utf-8")
    rid_buttons = _free_rid(wb_rels)
    wb_rels = wb_rels.replace("</Relationships>", f'<Relationship Id="{rid_buttons}" Type="{REL_SHEET}" '
                                                  f'Target="{buttons_part[3:]}"/></Relationships>')
    rid_conf = _free_rid(wb_rels)
    wb_rels = wb_rels.replace("</Relationships>", f'<Relationship Id="{rid_conf}" Type="{REL_SHEET}" '
                                                  f'Target="{conf_part[3:]}"/></Relationships>')
    rid_vba = _free_rid(wb_rels)
    wb_rels = wb_rels.replace("</Relationships>", f'<Relationship Id="{rid_vba}" Type="{REL_VBA}" '
                                                  f'Target="vbaProject.bin"/></Relationships>')
    out["xl/_rels/workbook.xml.rels"] = wb_rels.encode("utf-8")

    workbook = parts["xl/workbook.xml"].decode("utf-8")
    # Only the root's declaration serves the sheets we add (openpyxl declares xmlns:r on each
    # <sheet> element instead: using that prefix without declaring it makes the part invalid XML).
    root = re.search(r"<workbook\b[^>]*>", workbook)
    prefix = re.search(rf'xmlns:(\w+)="{re.escape(REL_NS)}"', root.group(0) if root else "")
    r = prefix.group(1) if prefix else "r"
    if not prefix:
        workbook = workbook.replace("<workbook ", f'<workbook xmlns:r="{REL_NS}" ', 1)
    sheet_ids = [int(x) for x in re.findall(r'<sheet [^>]*sheetId="(\d+)"', workbook)]
    next_id = max(sheet_ids, default=0) + 1
    workbook = workbook.replace("</sheets>", f'<sheet name="{BUTTONS_SHEET}" sheetId="{next_id}" {r}:id="{rid_buttons}"/>'
                                             f'<sheet name="{CONF_SHEET}" sheetId="{next_id + 1}" {r}:id="{rid_conf}"/>'
                                             "</sheets>", 1)
    if "codeName=" not in workbook.split("<sheets", 1)[0]:  # the VBA project's ThisWorkbook module
        if "<workbookPr" in workbook:
            workbook = re.sub(r"<workbookPr\b", '<workbookPr codeName="ThisWorkbook"', workbook, count=1)
        else:
            workbook = re.sub(r"(<bookViews|<sheets)", r'<workbookPr codeName="ThisWorkbook"/>\1', workbook, count=1)
    out["xl/workbook.xml"] = workbook.encode("utf-8")

    # [Content_Types].xml
    ct = parts["[Content_Types].xml"].decode("utf-8")
    ct = re.sub(r'(PartName="/xl/workbook\.xml" ContentType=")[^"]+"', rf'\1{MACRO_MAIN}"', ct)
    overrides = "".join(f'<Override PartName="/{p}" ContentType="{SHEET_CT}"/>' for p in (buttons_part, conf_part))
    overrides += f'<Override PartName="/xl/vbaProject.bin" ContentType="{VBA_CT}"/>'
    if 'Extension="vml"' not in ct:
        overrides += f'<Default Extension="vml" ContentType="{VML_CT}"/>'
    ct = ct.replace("</Types>", overrides + "</Types>")
    out["[Content_Types].xml"] = ct.encode("utf-8")

    if layout:
        _add_validation(out, layout, vocab, parts)
    return out


def _sheet_part(parts: dict[str, bytes], sheet: str) -> str | None:
    workbook = parts["xl/workbook.xml"].decode("utf-8")
    for m in re.finditer(r"<sheet\b[^>]*/>", workbook):
        tag = m.group(0)
        name = re.search(r'name="([^"]*)"', tag)
        rid = re.search(r'\w+:id="([^"]+)"', tag)
        if name and rid and _unescape(name.group(1)) == sheet:
            rels = parts["xl/_rels/workbook.xml.rels"].decode("utf-8")
            target = re.search(rf'Id="{re.escape(rid.group(1))}"[^>]*Target="([^"]+)"', rels) or \
                re.search(rf'Target="([^"]+)"[^>]*Id="{re.escape(rid.group(1))}"', rels)
            if target:
                t = target.group(1).lstrip("/")
                return t if t.startswith("xl/") else "xl/" + t
    return None


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'").replace("&amp;", "&")


# Elements that follow <dataValidations> in a worksheet (ECMA-376 CT_Worksheet order).
_AFTER_DV = ("<hyperlinks", "<printOptions", "<pageMargins", "<pageSetup", "<headerFooter", "<rowBreaks",
             "<colBreaks", "<customProperties", "<cellWatches", "<ignoredErrors", "<smartTags", "<drawing",
             "<legacyDrawing", "<legacyDrawingHF", "<picture", "<oleObjects", "<controls", "<webPublishItems",
             "<tableParts", "<extLst", "</worksheet>")


def _add_validation(out: dict[str, bytes], layout: LedgerLayout, vocab: dict[str, list[str]],
                    parts: dict[str, bytes]) -> None:
    part = _sheet_part(parts, layout.sheet)
    if not part or part not in parts:
        return
    xml = parts[part].decode("utf-8")
    first, last = layout.header_end + 1, layout.header_end + VALIDATION_ROWS
    rules = []
    list_cols = {"status": ("办理状态", "I"), "channel": ("信访形式", "J"), "category": ("问题类别", "K")}
    for field, (name, list_col) in list_cols.items():
        col = layout.columns.get(field)
        if col:
            n = len(vocab[name])
            rules.append(
                f'<dataValidation type="list" allowBlank="1" showInputMessage="1" showErrorMessage="1" '
                f'errorStyle="warning" errorTitle="{escape(name)}" error="{escape("请从下拉列表中选择" + name + "（可在 xfsheets 配置文件中扩充）")}" '
                f'sqref="{col}{first}:{col}{last}"><formula1>{escape(BUTTONS_SHEET)}!${list_col}$2:${list_col}${n + 1}</formula1></dataValidation>')
    for field in DATE_FIELDS:
        col = layout.columns.get(field)
        if col:
            rules.append(
                f'<dataValidation type="date" allowBlank="1" showErrorMessage="1" errorStyle="stop" '
                f'errorTitle="日期" error="{escape("请输入日期，例如 2026-03-05")}" operator="between" '
                f'sqref="{col}{first}:{col}{last}"><formula1>18264</formula1><formula2>73415</formula2></dataValidation>')
    if rules:
        if "<dataValidations" in xml:
            count = int(re.search(r'<dataValidations[^>]*count="(\d+)"', xml).group(1)) if re.search(
                r'<dataValidations[^>]*count="(\d+)"', xml) else 0
            xml = re.sub(r'(<dataValidations[^>]*count=")\d+"', rf'\g<1>{count + len(rules)}"', xml, count=1)
            xml = xml.replace("</dataValidations>", "".join(rules) + "</dataValidations>", 1)
        else:
            block = f'<dataValidations count="{len(rules)}">{"".join(rules)}</dataValidations>'
            at = min((xml.find(tag) for tag in _AFTER_DV if xml.find(tag) != -1))
            xml = xml[:at] + block + xml[at:]
    text_cols = [layout.columns[f] for f in ("id_number", "phone") if f in layout.columns]
    if text_cols:
        style = _add_text_style(out, parts)
        for col in text_cols:
            xml = _set_column_style(xml, column_index_from_string(col), style)
    out[part] = xml.encode("utf-8")


def _add_text_style(out: dict[str, bytes], parts: dict[str, bytes]) -> int:
    """Append a cellXfs entry with the text number format (@, id 49); return its index."""
    styles = out.get("xl/styles.xml", parts.get("xl/styles.xml")).decode("utf-8")
    m = re.search(r'<cellXfs count="(\d+)"', styles)
    count = int(m.group(1))
    styles = styles.replace(m.group(0), f'<cellXfs count="{count + 1}"', 1)
    styles = styles.replace("</cellXfs>", '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" '
                                          'applyNumberFormat="1"/></cellXfs>', 1)
    out["xl/styles.xml"] = styles.encode("utf-8")
    return count


def _set_column_style(xml: str, index: int, style: int) -> str:
    """Give column ``index`` (1-based) the default style ``style`` in <cols>, splitting ranges."""
    entry = f'<col min="{index}" max="{index}" width="22" style="{style}" customWidth="1"/>'
    if "<cols>" not in xml:
        return xml.replace("<sheetData", f"<cols>{entry}</cols><sheetData", 1)
    cols_xml = re.search(r"<cols>(.*?)</cols>", xml, flags=re.S)
    items = re.findall(r"<col\b[^>]*/>", cols_xml.group(1))
    new_items = []
    covered = False
    for item in items:
        lo, hi = int(re.search(r'min="(\d+)"', item).group(1)), int(re.search(r'max="(\d+)"', item).group(1))
        if lo <= index <= hi:
            covered = True
            for a, b in ((lo, index - 1), (index, index), (index + 1, hi)):
                if a > b:
                    continue
                piece = re.sub(r'min="\d+"', f'min="{a}"', re.sub(r'max="\d+"', f'max="{b}"', item))
                if a == index:
                    piece = re.sub(r'\sstyle="\d+"', "", piece).replace("<col ", f'<col style="{style}" ', 1)
                new_items.append((a, piece))
        else:
            new_items.append((lo, item))
    if not covered:
        new_items.append((index, entry))
    new_items.sort(key=lambda x: x[0])
    return xml.replace(cols_xml.group(0), "<cols>" + "".join(i for _, i in new_items) + "</cols>", 1)
