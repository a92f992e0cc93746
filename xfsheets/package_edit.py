"""Annotated copies by editing the package, not by rebuilding it (issue 17).

``check -o`` and ``deadlines -o`` apply a :class:`~xfsheets.marks.MarkPlan` to a copy of the
ledger's .xlsx/.xlsm package: every part of the user's workbook is copied as it is (its
compressed bytes, see :func:`xfsheets.outputs._copy_member`) except

- the ledger sheet's XML, rewritten one ``<row>`` at a time (rows without marks are copied
  as they are): marked cells get a style that is their own style with the mark's fill (font,
  border and number format kept), added columns get inline-string / number / date cells
  (never formulas, never shared strings), and <dimension>, <cols>, the frozen pane, the
  autofilter and <legacyDrawing> are updated where needed;
- ``xl/styles.xml`` (new fills, fonts, a date format and the cell formats using them appended;
  the user's own styles keep their indexes);
- the sheet's comments part and VML drawing (notes by ``xfsheets``; a clerk's own note on a
  marked cell is kept, ours follows it);
- the results sheet (a new worksheet part), ``xl/workbook.xml``, its relationships and
  ``[Content_Types].xml``.

So charts, images, pivot caches, tables, data bars, data validations and the clerk's styles
come through byte for byte, and the sheet XML is never held as a tree (a 100,000-row sheet is
tens of megabytes). An encrypted ledger is decrypted in memory and the copy is unencrypted.

.xls / .xlsb / .ods / .et / .csv ledgers have no package to edit: their cells (as the reader
reads them, every sheet) are first written to a plain new .xlsx, which then gets the same
marks; formatting of such a ledger is not kept, and the command says nothing different.
"""
from __future__ import annotations

import io
import re
import time
import zipfile
from pathlib import Path
from typing import Any, Iterable
from xml.sax.saxutils import escape

from xfsheets.errors import XfsheetsError
from xfsheets.marks import MarkPlan, ResultsTable, SheetMarks, column_index, column_letter, \
    place_columns, serial

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
REL_SHEET = REL_NS + "/worksheet"
REL_COMMENTS = REL_NS + "/comments"
REL_VML = REL_NS + "/vmlDrawing"
REL_VBA = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
SHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
COMMENTS_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
VML_CT = "application/vnd.openxmlformats-officedocument.vmlDrawing"
MAIN_CT = {".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
           ".xlsm": "application/vnd.ms-excel.sheet.macroEnabled.main+xml"}
REPEAT_RESULTS_HEADER = True
PACKAGE_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm")
DATE_FORMAT = "yyyy-mm-dd"

# CT_Worksheet child order (ECMA-376 Part 1, 18.3.1.99).
WORKSHEET_ORDER = ("sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "sheetCalcPr",
                   "sheetProtection", "protectedRanges", "scenarios", "autoFilter", "sortState", "dataConsolidate",
                   "customSheetViews", "mergeCells", "phoneticPr", "conditionalFormatting", "dataValidations",
                   "hyperlinks", "printOptions", "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks",
                   "customProperties", "cellWatches", "ignoredErrors", "smartTags", "drawing", "legacyDrawing",
                   "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls", "webPublishItems",
                   "tableParts", "extLst")


def write_marked_copy(source: str | Path, plan: MarkPlan, out_path: str | Path, *, password: str | None = None) -> Path:
    """Write ``out_path``: the ledger ``source`` with ``plan``'s marks, through the output gate
    (never over an input, atomically, stamped as xfsheets' own)."""
    from xfsheets.outputs import mark_package
    from xfsheets.writer import atomic_path

    source, out_path = Path(source), Path(out_path)
    with atomic_path(out_path, inputs=[source]) as tmp:
        package = _package(source, password)
        try:
            edit_package(package, plan, tmp, out_suffix=out_path.suffix.lower())
        except zipfile.BadZipFile as exc:
            raise XfsheetsError("台账文件无法以可编辑方式打开（可能已损坏）", file=source,
                                hint="请用 Excel/WPS 打开后另存为 .xlsx 再试") from exc
        mark_package(tmp)
    return out_path


def _package(source: Path, password: str | None):
    """The ledger as a readable .xlsx package (a file object)."""
    from xfsheets.reader import _OLE_MAGIC, _decrypt_if_needed

    suffix = source.suffix.lower()
    with source.open("rb") as fh:
        head = fh.read(8)
    if suffix in PACKAGE_SUFFIXES:
        if head == _OLE_MAGIC:  # an encrypted workbook: decrypted in memory only
            data = _decrypt_if_needed(source, password)
            if not isinstance(data, Path):
                return data
        return io.BytesIO(source.read_bytes())
    return _rebuilt(source, password)


def _rebuilt(source: Path, password: str | None) -> io.BytesIO:
    """A ledger without an OOXML package (.xls, .xlsb, .ods, .et, .csv) as a plain .xlsx of its
    cells (every sheet, as read; text stays text, dates stay dates), to carry the marks."""
    import datetime as dt

    import xlsxwriter

    from xfsheets.reader import open_workbook, sheet_rows

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                     "strings_to_numbers": False})
    day = book.add_format({"num_format": DATE_FORMAT})
    stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    wb = open_workbook(source, password)  # a .csv file is a one-sheet workbook here too
    sheets = [(name, sheet_rows(wb.get_sheet_by_name(name))) for name in wb.sheet_names]
    for name, rows in sheets:
        ws = book.add_worksheet(name)
        for r, values in enumerate(rows):
            for c, v in enumerate(values):
                if v is None or v == "":
                    continue
                if isinstance(v, dt.datetime):
                    ws.write_datetime(r, c, v, day if v.time() == dt.time() else stamp)
                elif isinstance(v, dt.date):
                    ws.write_datetime(r, c, dt.datetime(v.year, v.month, v.day), day)
                elif isinstance(v, bool):
                    ws.write_boolean(r, c, v)
                elif isinstance(v, (int, float)):
                    ws.write_number(r, c, v)
                else:
                    ws.write_string(r, c, str(v))
    book.close()
    out.seek(0)
    return out


# --- the package ----------------------------------------------------------------------------

def edit_package(package, plan: MarkPlan, target: str | Path, *, out_suffix: str = ".xlsx") -> None:
    """Apply ``plan`` to the package read from ``package`` (a path or file object), writing ``target``."""
    from xfsheets.outputs import _copy_member

    if isinstance(package, (str, Path)):
        package = io.BytesIO(Path(package).read_bytes())
    with zipfile.ZipFile(package) as zin:
        infos = zin.infolist()
        names = {i.filename for i in infos}
        edit = _Edit(zin, names)
        for marks in plan.sheets:
            part = edit.sheet_part(marks.sheet)
            if part is None:
                raise XfsheetsError(f"在台账中找不到工作表「{marks.sheet}」，无法写出标注副本")
            edit.sheet(part, marks, plan.author)
        if plan.results is not None:
            edit.results(plan.results)
        edit.finish(out_suffix)
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
            package.seek(0)
            for info in infos:
                name = info.filename
                if name in edit.dropped:
                    continue
                if name in edit.out:
                    _write(zout, name, edit.out.pop(name))
                else:
                    _copy_member(package, info, zout)
            for name, data in edit.out.items():
                _write(zout, name, data)


def _write(zout: zipfile.ZipFile, name: str, data: bytes | list[bytes]) -> None:
    """A part, from bytes or from chunks streamed into the zip; a large one (an edited sheet)
    is compressed fast (level 1: the file is a little larger, the write several times quicker)."""
    if isinstance(data, bytes):
        zout.writestr(name, data)
        return
    info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    size = sum(len(c) for c in data)
    level = 1 if size > (8 << 20) else 6
    for attribute in ("compress_level", "_compresslevel"):  # its name since Python 3.13, and before
        if hasattr(info, attribute):
            setattr(info, attribute, level)
            break
    with zout.open(info, "w", force_zip64=size > (1 << 31) - (1 << 20)) as fh:
        for i, chunk in enumerate(data):
            fh.write(chunk)
            data[i] = b""  # released once written


def _text(data: bytes) -> str:
    return data.decode("utf-8")


def _attr(tag: str, name: str) -> str | None:
    m = re.search(rf'(?:^|\s){name}\s*=\s*"([^"]*)"', tag) or re.search(rf"(?:^|\s){name}\s*=\s*'([^']*)'", tag)
    return m.group(1) if m else None


def _unescape(text: str) -> str:
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
            .replace("&#10;", "\n").replace("&#13;", "\r").replace("&#9;", "\t").replace("&amp;", "&"))


def _attr_value(text: str) -> str:
    return escape(text, {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def _rels_path(part: str) -> str:
    folder, name = part.rsplit("/", 1)
    return f"{folder}/_rels/{name}.rels"


def _resolve(base_part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    parts = base_part.rsplit("/", 1)[0].split("/") if "/" in base_part else []
    for piece in target.split("/"):
        if piece == "..":
            parts.pop()
        elif piece and piece != ".":
            parts.append(piece)
    return "/".join(parts)


def _relative(base_part: str, target_part: str) -> str:
    base = base_part.rsplit("/", 1)[0].split("/")
    target = target_part.split("/")
    common = 0
    while common < min(len(base), len(target) - 1) and base[common] == target[common]:
        common += 1
    return "/".join([".."] * (len(base) - common) + target[common:])


def _rels(data: bytes | None) -> list[dict[str, str]]:
    if not data:
        return []
    return [{"Id": _attr(m.group(0), "Id") or "", "Type": _attr(m.group(0), "Type") or "",
             "Target": _unescape(_attr(m.group(0), "Target") or ""), "TargetMode": _attr(m.group(0), "TargetMode") or ""}
            for m in re.finditer(r"<Relationship\b[^>]*>", _text(data))]


def _add_rel(data: bytes | None, rel_type: str, target: str) -> tuple[bytes, str]:
    text = _text(data) if data else f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{PKG_REL_NS}"></Relationships>'
    used = set(re.findall(r'Id="([^"]+)"', text))
    n = 1
    while f"rId{n}" in used:
        n += 1
    rid = f"rId{n}"
    text = text.replace("</Relationships>", f'<Relationship Id="{rid}" Type="{rel_type}" Target="{_attr_value(target)}"/>'
                                            "</Relationships>", 1)
    if "<Relationships" in text and "</Relationships>" not in text:  # a self-closed empty element
        text = re.sub(r"<Relationships([^>]*)/>", rf'<Relationships\1><Relationship Id="{rid}" Type="{rel_type}" '
                                                  rf'Target="{_attr_value(target)}"/></Relationships>', text, count=1)
    return text.encode("utf-8"), rid


def _free(names: set[str], pattern: str) -> str:
    n = 1
    while pattern.format(n) in names:
        n += 1
    return pattern.format(n)


class _Edit:
    """The parts being changed, by name (everything else is copied raw)."""

    def __init__(self, zin: zipfile.ZipFile, names: set[str]):
        self.zin = zin
        self.names = set(names)  # the package's parts and the ones being added
        self.members = set(names)
        self.out: dict[str, bytes] = {}
        self.dropped: set[str] = set()
        self.new_types: dict[str, str] = {}  # part -> content type override
        self.styles = _Styles(zin.read("xl/styles.xml") if "xl/styles.xml" in names else None)
        self.workbook_part = self._workbook_part()

    def read(self, name: str) -> bytes | None:
        if name in self.out:
            return self.out[name]
        if name in self.members and name not in self.dropped:
            return self.zin.read(name)
        return None

    def _workbook_part(self) -> str:
        for rel in _rels(self.zin.read("_rels/.rels")):
            if rel["Type"].endswith("/officeDocument"):
                return _resolve("", rel["Target"])
        return "xl/workbook.xml"

    def _sheets(self) -> list[tuple[str, str, str]]:
        """(sheet name, relationship id, part) in workbook order."""
        wb = _text(self.read(self.workbook_part))
        rels = {r["Id"]: r for r in _rels(self.read(_rels_path(self.workbook_part)))}
        out = []
        for m in re.finditer(r"<(?:\w+:)?sheet\b[^>]*>", wb):
            tag = m.group(0)
            name = _unescape(_attr(tag, "name") or "")
            rid = re.search(r'\s\w+:id\s*=\s*"([^"]+)"', tag)
            rel = rels.get(rid.group(1)) if rid else None
            out.append((name, rid.group(1) if rid else "", _resolve(self.workbook_part, rel["Target"]) if rel else ""))
        return out

    def sheet_part(self, sheet: str) -> str | None:
        return next((part for name, _, part in self._sheets() if name == sheet and part), None)

    # -- the ledger sheet --------------------------------------------------------------------
    def sheet(self, part: str, marks: SheetMarks, author: str) -> None:
        editor = _SheetEditor(self.read(part), self.styles, self._shared_strings_getter())  # holds slices only
        cols = editor.place(marks)
        notes = {(r, c): t for (r, c), t in marks.notes.items()}
        legacy = self._notes(part, _rels_path(part), notes, author) if notes else None
        self.out[part] = editor.apply(marks, cols, legacy_rid=legacy)

    def _shared_strings_getter(self):
        rels = _rels(self.read(_rels_path(self.workbook_part)))
        target = next((_resolve(self.workbook_part, r["Target"]) for r in rels if r["Type"].endswith("/sharedStrings")),
                      None)

        def get(indexes: set[int]) -> dict[int, str]:
            if not target or not indexes or self.read(target) is None:
                return {}
            return _shared_strings(self.read(target), indexes)

        return get

    def _notes(self, part: str, rels_name: str, notes: dict[tuple[int, int], str], author: str) -> str | None:
        """Add the notes to the sheet's comments part (made if missing); returns the r:id of a
        new legacyDrawing the sheet must point to (None when it already has one)."""
        rels_data = self.read(rels_name)
        rels = _rels(rels_data)
        comments = next((_resolve(part, r["Target"]) for r in rels if r["Type"] == REL_COMMENTS), None)
        vml_rel = next((r for r in rels if r["Type"] == REL_VML), None)
        vml = _resolve(part, vml_rel["Target"]) if vml_rel else None
        existing: set[str] = set()
        if comments and self.read(comments) is not None:
            xml, existing = _merge_comments(_text(self.read(comments)), notes, author)
            self.out[comments] = xml.encode("utf-8")
        else:
            comments = _free(self.names | set(self.out), "xl/comments{}.xml")
            self.names.add(comments)
            self.out[comments] = _new_comments(notes, author).encode("utf-8")
            self.new_types["/" + comments] = COMMENTS_CT
            rels_data, _ = _add_rel(rels_data, REL_COMMENTS, _relative(part, comments))
        new_shapes = {k: v for k, v in notes.items() if f"{column_letter(k[1])}{k[0]}" not in existing}
        new_rid = None
        if vml and self.read(vml) is not None:
            self.out[vml] = _add_vml_shapes(_text(self.read(vml)), new_shapes).encode("utf-8")
        else:
            vml = _free(self.names | set(self.out), "xl/drawings/vmlDrawing{}.vml")
            self.names.add(vml)
            self.out[vml] = _add_vml_shapes(_new_vml(self._vml_block()), new_shapes).encode("utf-8")
            rels_data, new_rid = _add_rel(rels_data, REL_VML, _relative(part, vml))
        self.out[rels_name] = rels_data
        return new_rid

    def _vml_block(self) -> int:
        used = [int(x) for name in self.names if name.endswith(".vml") and self.read(name) is not None
                for x in re.findall(rb'data="(\d+)', self.read(name))]
        return max(used, default=0) + 1

    # -- the results sheet -------------------------------------------------------------------
    def results(self, table: ResultsTable) -> None:
        from xfsheets.writer import page_setup_xml, print_titles_xml

        sheets = self._sheets()
        wb = self.read(self.workbook_part)
        # the page rule of every sheet xfsheets adds (A4, one page wide, page numbers)
        xml = _results_sheet(table, self.styles, page_setup_xml("table", sum(table.widths) or None))
        xml = xml.encode("utf-8")
        existing = next((part for name, _, part in sheets if name == table.name and part), None)
        # The header row repeated on every printed page of the added sheet (the clerk's own
        # sheets keep their own print settings).
        if REPEAT_RESULTS_HEADER:
            index = next((k for k, (name, _, _) in enumerate(sheets) if name == table.name), len(sheets))
            wb = _add_defined_name(wb, print_titles_xml(table.name, index, 1), index)
            self.out[self.workbook_part] = wb
        if existing:  # an earlier run's results sheet: replaced
            self.out[existing] = xml
            rels = _rels_path(existing)
            if rels in self.names:
                self.dropped.add(rels)
            return
        part = _free(self.names | set(self.out), "xl/worksheets/sheet{}.xml")
        self.names.add(part)
        self.out[part] = xml
        self.new_types["/" + part] = SHEET_CT
        rels_name = _rels_path(self.workbook_part)
        rels, rid = _add_rel(self.read(rels_name), REL_SHEET, _relative(self.workbook_part, part))
        self.out[rels_name] = rels
        self.out[self.workbook_part] = _add_sheet(wb, table.name, rid)

    # -- workbook-level bookkeeping --------------------------------------------------------------
    def finish(self, out_suffix: str) -> None:
        if self.styles.changed:
            self.out["xl/styles.xml"] = self.styles.xml().encode("utf-8")
            if "xl/styles.xml" not in self.names:
                self.new_types["/xl/styles.xml"] = ("application/vnd.openxmlformats-officedocument."
                                                    "spreadsheetml.styles+xml")
                rels_name = _rels_path(self.workbook_part)
                self.out[rels_name], _ = _add_rel(self.read(rels_name), REL_NS + "/styles",
                                                  _relative(self.workbook_part, "xl/styles.xml"))
        ct = _text(self.read("[Content_Types].xml"))
        main = MAIN_CT.get(out_suffix, MAIN_CT[".xlsx"])
        ct = re.sub(rf'(<Override\b[^>]*PartName="/{re.escape(self.workbook_part)}"[^>]*ContentType=")[^"]+"',
                    rf'\g<1>{main}"', ct, count=1)
        ct = re.sub(rf'(<Override\b[^>]*ContentType=")[^"]+("[^>]*PartName="/{re.escape(self.workbook_part)}")',
                    rf'\g<1>{main}\2', ct, count=1)
        if out_suffix != ".xlsm":  # macros travel only into a macro-enabled copy
            rels_name = _rels_path(self.workbook_part)
            original = rels = _text(self.read(rels_name))
            if re.search(r'Type="[^"]*/(?:xlMacrosheet|xlIntlMacrosheet)"', rels):
                # An Excel 4.0 macro sheet is a sheet (names and formulas point at it): it cannot be
                # cut out of the workbook safely, and an .xlsx may not hold it.
                raise XfsheetsError("台账中有 Excel 4.0 宏表，不能写成 .xlsx 副本",
                                    hint="请把输出文件名改为 .xlsm 结尾（宏表原样保留），或先在 Excel 中删除宏表再运行")
            for rel in _rels(rels.encode("utf-8")):
                if rel["Type"] == REL_VBA:
                    vba = _resolve(self.workbook_part, rel["Target"])
                    self.dropped.update({vba, _rels_path(vba)})
                    rels = re.sub(rf'<Relationship\b[^>]*Id="{re.escape(rel["Id"])}"[^>]*/>', "", rels)
                    ct = re.sub(rf'<Override\b[^>]*PartName="/{re.escape(vba)}"[^>]*/>', "", ct)
            if rels != original:
                self.out[rels_name] = rels.encode("utf-8")
        extra = ""
        for part, ctype in self.new_types.items():
            if part.endswith(".vml"):
                if 'Extension="vml"' not in ct and "Extension=\"vml\"" not in extra:
                    extra += f'<Default Extension="vml" ContentType="{VML_CT}"/>'
            else:
                extra += f'<Override PartName="{part}" ContentType="{ctype}"/>'
        if any(p.endswith(".vml") for p in self.out) and 'Extension="vml"' not in ct + extra:
            extra += f'<Default Extension="vml" ContentType="{VML_CT}"/>'
        # Default elements come before Override ones in practice; both orders are valid (xsd:choice).
        ct = ct.replace("</Types>", extra + "</Types>", 1)
        self.out["[Content_Types].xml"] = ct.encode("utf-8")


# workbook.xml is edited as a tree (it is small): namespaces stay declared wherever the saving
# program put them (openpyxl declares xmlns:r on each <sheet>, not on <workbook>).

def _workbook_tree(wb: bytes):
    from lxml import etree

    return etree.fromstring(wb, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))


def _serialise(root) -> bytes:
    from lxml import etree

    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _add_sheet(wb: bytes, name: str, rid: str) -> bytes:
    """workbook.xml with a new <sheet> (after the others) pointing at relationship ``rid``."""
    from lxml import etree

    root = _workbook_tree(wb)
    ns = root.nsmap.get(root.prefix) or MAIN_NS
    sheets = root.find(f"{{{ns}}}sheets")
    if sheets is None:
        raise XfsheetsError("台账的 workbook.xml 中没有工作表列表，无法加入结果工作表",
                            hint="请用 Excel/WPS 打开台账后另存为 .xlsx 再试")
    ids = [int(x) for x in (e.get("sheetId") for e in sheets.iter(f"{{{ns}}}sheet")) if x and x.isdigit()]
    # the r prefix declared on the new element unless the workbook already declares it
    nsmap = None if REL_NS in (sheets.nsmap or {}).values() else {"r": REL_NS}
    entry = etree.SubElement(sheets, f"{{{ns}}}sheet", nsmap=nsmap)
    entry.set("name", name)
    entry.set("sheetId", str(max(ids, default=0) + 1))
    entry.set(f"{{{REL_NS}}}id", rid)
    return _serialise(root)


# CT_Workbook children that come before definedNames
_BEFORE_DEFINED_NAMES = ("fileVersion", "fileSharing", "workbookPr", "workbookProtection", "bookViews", "sheets",
                         "functionGroups", "externalReferences")


def _add_defined_name(wb: bytes, entry: str, index: int) -> bytes:
    """workbook.xml with the Print_Titles ``entry`` for sheet ``index`` (unless it has one)."""
    from lxml import etree

    root = _workbook_tree(wb)
    ns = root.nsmap.get(root.prefix) or MAIN_NS
    new = etree.fromstring(entry)
    names = root.find(f"{{{ns}}}definedNames")
    if names is not None:
        for old in names.iter(f"{{{ns}}}definedName"):
            if old.get("name") == "_xlnm.Print_Titles" and old.get("localSheetId") == str(index):
                return wb
    else:
        names = etree.Element(f"{{{ns}}}definedNames")
        last = None
        for child in root:
            if isinstance(child.tag, str) and etree.QName(child).localname in _BEFORE_DEFINED_NAMES:
                last = child
        if last is None:
            return wb
        last.addnext(names)
    item = etree.SubElement(names, f"{{{ns}}}definedName", {k: v for k, v in new.attrib.items()})
    item.text = new.text
    return _serialise(root)


# --- styles ---------------------------------------------------------------------------------

class _Styles:
    """xl/styles.xml as text, with cell formats appended (existing indexes never change)."""

    def __init__(self, data: bytes | None):
        self.text = _text(data) if data else (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="{MAIN_NS}">'
            '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
            '</fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')
        self.changed = data is None
        m = re.search(r"<(\w+:)?styleSheet\b", self.text)
        self.p = (m.group(1) or "") if m else ""
        self._xfs = self._items("cellXfs", "xf")
        self._new_xfs: list[str] = []
        self._fills: dict[str, int] = {}
        self._fonts: dict[str, int] = {}
        self._new_fills: list[str] = []
        self._new_fonts: list[str] = []
        self._fill_count = len(self._items("fills", "fill"))
        self._font_count = len(self._items("fonts", "font"))
        self._cache: dict[tuple, int] = {}
        self._numfmt: int | None = None
        self._new_numfmts: list[str] = []

    def _block(self, name: str) -> re.Match | None:
        p = re.escape(self.p)
        return re.search(rf"<{p}{name}\b[^>]*?(?:/>|>(.*?)</{p}{name}>)", self.text, flags=re.S)

    def _items(self, block: str, item: str) -> list[str]:
        m = self._block(block)
        if not m or m.group(1) is None:
            return []
        p = re.escape(self.p)
        return re.findall(rf"<{p}{item}\b[^>]*?(?:/>|>.*?</{p}{item}>)", m.group(1), flags=re.S)

    def xf(self, index: int) -> str:
        if index < len(self._xfs):
            return self._xfs[index]
        if index - len(self._xfs) < len(self._new_xfs):
            return self._new_xfs[index - len(self._xfs)]
        return self._xfs[0] if self._xfs else f'<{self.p}xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'

    def _add_xf(self, xf: str) -> int:
        self.changed = True
        self._new_xfs.append(xf)
        return len(self._xfs) + len(self._new_xfs) - 1

    @staticmethod
    def _set(xf: str, name: str, value: str) -> str:
        """``xf`` with attribute ``name`` set to ``value`` (children kept)."""
        m = re.match(r"<[^>]*?(?=/?>)", xf)
        head, rest = m.group(0), xf[m.end():]
        if re.search(rf'\s{name}="[^"]*"', head):
            head = re.sub(rf'(\s{name}=")[^"]*"', rf'\g<1>{value}"', head)
        else:
            head += f' {name}="{value}"'
        return head + rest

    def fill_id(self, colour: str) -> int:
        if colour not in self._fills:
            p = self.p
            self._new_fills.append(f'<{p}fill><{p}patternFill patternType="solid"><{p}fgColor rgb="FF{colour.upper()}"/>'
                                   f'<{p}bgColor indexed="64"/></{p}patternFill></{p}fill>')
            self._fills[colour] = self._fill_count + len(self._new_fills) - 1
            self.changed = True
        return self._fills[colour]

    def font_id(self, key: str, xml: str) -> int:
        if key not in self._fonts:
            self._new_fonts.append(xml)
            self._fonts[key] = self._font_count + len(self._new_fonts) - 1
            self.changed = True
        return self._fonts[key]

    def with_fill(self, base: int, colour: str | None) -> int:
        """The cell format ``base`` with a solid ``colour`` fill (the font, border and number format kept)."""
        if not colour:
            return base
        key = ("fill", base, colour)
        if key not in self._cache:
            xf = self._set(self._set(self.xf(base), "fillId", str(self.fill_id(colour))), "applyFill", "1")
            self._cache[key] = self._add_xf(xf)
        return self._cache[key]

    def as_date(self, base: int) -> int:
        key = ("date", base)
        if key not in self._cache:
            if self._numfmt is None:
                used = [int(x) for x in re.findall(r'numFmtId="(\d+)"', self.text)]
                self._numfmt = max([163, *used]) + 1
                self._new_numfmts.append(f'<{self.p}numFmt numFmtId="{self._numfmt}" formatCode="{DATE_FORMAT}"/>')
                self.changed = True
            xf = self._set(self._set(self.xf(base), "numFmtId", str(self._numfmt)), "applyNumberFormat", "1")
            self._cache[key] = self._add_xf(xf)
        return self._cache[key]

    def bold(self) -> int:
        return self._font_style("bold", before_size="<{p}b/>")

    def link(self) -> int:
        return self._font_style("link", before_size="<{p}u/>", after_size='<{p}color rgb="FF0563C1"/>')

    def _font_style(self, key: str, before_size: str = "", after_size: str = "") -> int:
        """A cell format in 宋体 11 with the given font marks (CT_Font order: b/u before sz,
        color after it), made once per workbook."""
        if (key,) not in self._cache:
            p = self.p
            font = self.font_id(key, f'<{p}font>{before_size.format(p=p)}<{p}sz val="11"/>{after_size.format(p=p)}'
                                     f'<{p}name val="宋体"/><{p}family val="2"/><{p}charset val="134"/></{p}font>')
            self._cache[(key,)] = self._add_xf(f'<{p}xf numFmtId="0" fontId="{font}" fillId="0" borderId="0" xfId="0" '
                                               'applyFont="1"/>')
        return self._cache[(key,)]

    def xml(self) -> str:
        text = self.text
        p = self.p
        for block, item, new in (("fills", "fill", self._new_fills), ("fonts", "font", self._new_fonts),
                                 ("cellXfs", "xf", self._new_xfs)):
            if not new:
                continue
            text = self._append(text, block, item, new)
        if self._new_numfmts:
            if self._block("numFmts"):
                text = self._append(text, "numFmts", "numFmt", self._new_numfmts)
            else:
                text = re.sub(rf"(<{re.escape(p)}styleSheet\b[^>]*>)",
                              lambda m: m.group(1) + f'<{p}numFmts count="1">{self._new_numfmts[0]}</{p}numFmts>',
                              text, count=1)
        return text

    def _append(self, text: str, block: str, item: str, new: list[str]) -> str:
        p = re.escape(self.p)
        m = re.search(rf"<{p}{block}\b[^>]*?(?:/>|>(.*?)</{p}{block}>)", text, flags=re.S)
        count = len(re.findall(rf"<{p}{item}\b[^>]*?(?:/>|>.*?</{p}{item}>)", m.group(1) or "", flags=re.S)) + len(new)
        body = (m.group(1) or "") + "".join(new)
        open_tag = re.match(rf"<{p}{block}\b[^>]*?(?=/?>)", m.group(0)).group(0)
        if re.search(r'\scount="\d+"', open_tag):
            open_tag = re.sub(r'(\scount=")\d+"', rf'\g<1>{count}"', open_tag)
        else:
            open_tag += f' count="{count}"'
        return text[:m.start()] + f"{open_tag}>{body}</{self.p}{block}>" + text[m.end():]


def _shared_strings(data: bytes, indexes: set[int]) -> dict[int, str]:
    """The shared strings at ``indexes`` (text of every run), scanning the part once."""
    out = {}
    want = max(indexes)
    for i, m in enumerate(re.finditer(rb"<(?:\w+:)?si\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?si>)", data, flags=re.S)):
        if i in indexes:
            body = _text(m.group(1) or b"")
            body = re.sub(r"<(\w+:)?rPh\b.*?</(\w+:)?rPh>", "", body, flags=re.S)
            out[i] = _unescape("".join(re.findall(r"<(?:\w+:)?t\b[^>]*>(.*?)</(?:\w+:)?t>", body, flags=re.S)))
        if i >= want:
            break
    return out


# --- the sheet XML, one row at a time ------------------------------------------------------

class _SheetEditor:
    def __init__(self, xml: bytes, styles: _Styles, shared_strings):
        self.styles = styles
        m = re.search(rb"<(\w+:)?worksheet\b", xml)
        if not m:
            raise XfsheetsError("台账工作表的内容无法识别，无法写出标注副本",
                                hint="请用 Excel/WPS 打开后另存为 .xlsx 再试")
        self.p = m.group(1) or b""
        p = re.escape(self.p)
        self.row_re = re.compile(rb"<" + p + rb"row\b[^>]*?(?:/>|>.*?</" + p + rb"row>)", re.S)
        self.row_start_re = re.compile(rb"<" + p + rb"row[\s>/]")
        self.cell_re = re.compile(rb"<" + p + rb"c\b[^>]*?(?:/>|>.*?</" + p + rb"c>)", re.S)
        sd = re.search(rb"<" + p + rb"sheetData\b[^>]*?(/?)>", xml)
        if not sd:
            raise XfsheetsError("台账工作表的内容无法识别（没有单元格数据），无法写出标注副本")
        if sd.group(1):  # <sheetData/>
            self.head, self.body, self.tail = xml[:sd.start()], b"", xml[sd.end():]
            self.sd_open = b"<" + self.p + b"sheetData>"
        else:
            close = xml.rfind(b"</" + self.p + b"sheetData>")
            self.head, self.body, self.tail = xml[:sd.start()], xml[sd.end():close], xml[close + len(b"</" + self.p + b"sheetData>"):]
            self.sd_open = xml[sd.start():sd.end()]
        self.shared_strings = shared_strings
        self.merges = [_range(_text(r)) for r in re.findall(rb"<" + p + rb"mergeCell\b[^>]*\sref=\"([^\"]+)\"", self.tail)]
        self.col_styles = self._col_styles()
        self._sattr: dict[tuple, str] = {}

    def _col_styles(self) -> dict[int, int]:
        out = {}
        for m in re.finditer(rb"<" + re.escape(self.p) + rb"col\b[^>]*>", self.head):
            tag = _text(m.group(0))
            s = _attr(tag, "style")
            if s and s != "0":
                lo, hi = int(_attr(tag, "min") or 0), int(_attr(tag, "max") or 0)
                for c in range(lo, min(hi, lo + 200) + 1):  # a whole-sheet range: the first 200 columns are enough
                    out[c] = int(s)
        return out

    # -- reading the header ------------------------------------------------------------------
    def rows_wanted(self, wanted: Iterable[int]) -> dict[int, bytes]:
        wanted = set(wanted)
        out = {}
        r = 0
        for m in self.row_re.finditer(self.body):
            tag = _text(m.group(0)[:m.group(0).index(b">") + 1])
            r = int(_attr(tag, "r") or r + 1)
            if r in wanted:
                out[r] = m.group(0)
            if r >= max(wanted, default=0):
                break
        return out

    def _cells(self, row_xml: bytes) -> list[tuple[int, bytes]]:
        out = []
        c = 0
        for m in self.cell_re.finditer(row_xml):
            cell = m.group(0)
            tag = cell[:cell.index(b">") + 1]
            ref = re.search(rb'\sr="([A-Za-z]+)\d+"', tag)
            c = column_index(_text(ref.group(1))) if ref else c + 1
            out.append((c, cell))
        return out

    def header_values(self, header_rows: list[int]) -> tuple[list[list[Any]], dict[int, int]]:
        rows = self.rows_wanted(header_rows)
        raw = {}
        shared = set()
        for r in header_rows:
            cells = self._cells(rows.get(r, b""))
            raw[r] = cells
            for _, cell in cells:
                tag = _text(cell[:cell.index(b">") + 1])
                if _attr(tag, "t") == "s":
                    v = re.search(rb"<(?:\w+:)?v>(\d+)</", cell)
                    if v:
                        shared.add(int(v.group(1)))
        strings = self.shared_strings(shared)
        values, styles = [], {}
        for r in header_rows:
            row: list[Any] = []
            for c, cell in raw[r]:
                tag = _text(cell[:cell.index(b">") + 1])
                kind = _attr(tag, "t")
                text = ""
                if kind == "s":
                    v = re.search(rb"<(?:\w+:)?v>(\d+)</", cell)
                    text = strings.get(int(v.group(1)), "") if v else ""
                elif kind == "inlineStr":
                    text = _unescape("".join(_text(t) for t in re.findall(rb"<(?:\w+:)?t\b[^>]*>(.*?)</(?:\w+:)?t>",
                                                                           cell, flags=re.S)))
                else:
                    v = re.search(rb"<(?:\w+:)?v>(.*?)</", cell, flags=re.S)
                    text = _unescape(_text(v.group(1))) if v else ""
                while len(row) < c:
                    row.append(None)
                row[c - 1] = text or None
                if r == header_rows[-1]:
                    styles[c] = int(_attr(tag, "s") or 0)
            values.append(row)
        return values, styles

    def place(self, marks: SheetMarks) -> dict[str, int]:
        if not marks.columns:
            self.header_styles = {}
            return {}
        header_rows = list(marks.header_rows) or [1]
        values, self.header_styles = self.header_values(header_rows)
        merges = [(r0, c0, r1, c1) for (r0, c0, r1, c1) in self.merges]
        return place_columns(values, [c.label for c in marks.columns], merges, header_rows)

    # -- writing -----------------------------------------------------------------------------
    def apply(self, marks: SheetMarks, cols: dict[str, int], legacy_rid: str | None) -> list[bytes]:
        """The edited sheet part, as chunks (written to the zip one by one, never joined)."""
        header_row = marks.header_row
        fills: dict[int, dict[int, str]] = {}
        for (r, c), colour in marks.fills.items():
            fills.setdefault(r, {})[c] = colour
        columns = [(cols[column.label], column) for column in marks.columns]
        wanted = set(fills)
        if columns:
            wanted.add(header_row)
        for _, column in columns:
            wanted.update(column.values)
            wanted.update(column.fills)
        last_row = max([marks.last_row or header_row, *wanted]) if wanted else (marks.last_row or header_row)

        def row_ops(r: int) -> dict[int, tuple]:
            """column -> ("fill", colour) | ("value", value, kind, colour) for row ``r``."""
            ops: dict[int, tuple] = {c: ("fill", colour) for c, colour in fills.get(r, {}).items()}
            for c, column in columns:
                if r == header_row:
                    ops[c] = ("value", column.label, "header", None)
                elif r in column.values or r in column.fills:
                    ops[c] = ("value", column.values.get(r), column.kind, column.fills.get(r))
            return ops

        self._header_style = self._pick_header_style(cols)
        added_cols = {c for c, _ in columns}
        # a row below the header holding an earlier run's value in our columns that this run does
        # not fill is cleared there (the columns are ours)
        out = [self.head_edit(marks, cols, last_row), self.sd_open]
        body = self.body
        pending = sorted(wanted)
        k = 0
        pos = 0
        for start, stop, r, has_r in self._row_spans(body):
            while k < len(pending) and pending[k] < r:
                out.append(body[pos:start])
                pos = start
                out.append(self._new_row(pending[k], row_ops(pending[k])))
                k += 1
            if k < len(pending) and pending[k] == r:
                row_xml = body[start:stop].rstrip()
                out.append(body[pos:start])
                out.append(self._edit_row(row_xml, r, row_ops(r), added_cols, has_r=has_r))
                pos = start + len(row_xml)
                k += 1
            elif added_cols and r > header_row:
                row_xml = body[start:stop].rstrip()
                if self._touches(row_xml, added_cols):
                    out.append(body[pos:start])
                    out.append(self._edit_row(row_xml, r, {}, added_cols, has_r=has_r))
                    pos = start + len(row_xml)
        out.append(body[pos:])
        while k < len(pending):
            out.append(self._new_row(pending[k], row_ops(pending[k])))
            k += 1
        out.append(b"</" + self.p + b"sheetData>")
        out.append(self.tail_edit(marks, cols, last_row, legacy_rid))
        return out

    def _row_spans(self, body: bytes):
        """(start, end, row number, has an r attribute) of each <row> element, found by its start
        tag alone (a row ends where the next begins; whitespace between rows stays outside)."""
        starts = [m.start() for m in self.row_start_re.finditer(body)]
        r = 0
        for i, start in enumerate(starts):
            gt = body.find(b">", start)
            m = _ROW_NUMBER.search(body, start, gt)
            r = int(m.group(1)) if m else r + 1
            yield start, starts[i + 1] if i + 1 < len(starts) else len(body), r, m is not None

    def _touches(self, row_xml: bytes, added_cols: set[int]) -> bool:
        if not row_xml.endswith(b"</" + self.p + b"row>"):
            return False
        return any(c in added_cols for c, _ in self._cells(row_xml))

    def _pick_header_style(self, cols: dict[str, int]) -> int:
        if not cols or not getattr(self, "header_styles", None):
            return self.styles.bold() if cols else 0
        first = min(cols.values())
        left = [c for c in self.header_styles if c < first]
        return self.header_styles[max(left)] if left else self.styles.bold()

    def _cell_xml(self, r: int, c: int, op: tuple, base: int | None) -> bytes | None:
        p = _text(self.p)
        ref = f"{column_letter(c)}{r}"
        if op[0] == "fill":
            return None  # handled on the existing cell (or an empty styled cell)
        _, value, kind, colour = op
        key = (c, kind, colour, value is None, base)
        sattr = self._sattr.get(key)
        if sattr is None:
            if kind == "header":
                s = self._header_style
            else:
                s = self.col_styles.get(c, 0) if base is None else base
                if kind == "date" and value is not None:
                    s = self.styles.as_date(s)
                s = self.styles.with_fill(s, colour)
            sattr = self._sattr[key] = f' s="{s}"' if s else ""
        if kind == "header":
            kind = "text"
        if value is None or value == "":
            return f'<{p}c r="{ref}"{sattr}/>'.encode() if sattr else None
        if kind == "date":
            return f'<{p}c r="{ref}"{sattr}><{p}v>{serial(value)}</{p}v></{p}c>'.encode()
        if kind == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
            return f'<{p}c r="{ref}"{sattr}><{p}v>{value!r}</{p}v></{p}c>'.encode()
        return (f'<{p}c r="{ref}"{sattr} t="inlineStr"><{p}is><{p}t xml:space="preserve">{_xml_text(str(value))}'
                f'</{p}t></{p}is></{p}c>').encode("utf-8")

    def _edit_row(self, row_xml: bytes, r: int, row_ops: dict[int, tuple], added_cols: set[int], has_r: bool) -> bytes:
        gt = row_xml.index(b">")
        self_closed = row_xml[gt - 1:gt + 1] == b"/>"
        open_tag = row_xml[:gt - 1] + b">" if self_closed else row_xml[:gt + 1]
        open_tag = re.sub(rb'\sspans="[^"]*"', b"", open_tag)
        if has_r and not self_closed and row_ops and all(o[0] == "value" for o in row_ops.values()):
            # the common case (deadline columns): cells appended after the row's last cell, nothing re-parsed
            end = row_xml.rfind(b"</" + self.p + b"row>")
            at = row_xml.rfind(b"<" + self.p + b"c ", gt, end)
            last = re.match(rb'<[^>]*?\sr="([A-Za-z]+)\d+"', row_xml[at:]) if at != -1 else None
            if at == -1 or (last and column_index(_text(last.group(1))) < min(min(row_ops), min(added_cols, default=1 << 20))):
                new = [self._cell_xml(r, c, o, None) for c, o in sorted(row_ops.items())]
                return open_tag + row_xml[gt + 1:end] + b"".join(x for x in new if x) + b"</" + self.p + b"row>"
        if not has_r:
            open_tag = open_tag.replace(b"<" + self.p + b"row", b"<" + self.p + b"row" + f' r="{r}"'.encode(), 1)
        cells = [] if self_closed else self._cells(row_xml[gt + 1:])
        kept: list[tuple[int, bytes]] = []
        seen = set()
        for c, cell in cells:
            if c in added_cols:
                continue  # an earlier run's value in our column: rewritten below (or cleared)
            o = row_ops.get(c)
            if o and o[0] == "fill":
                cell = self._restyle(cell, o[1])
                seen.add(c)
            if not re.search(rb'^<[^>]*\sr="', cell):
                cell = cell.replace(b"<" + self.p + b"c", b"<" + self.p + b"c" + f' r="{column_letter(c)}{r}"'.encode(), 1)
            kept.append((c, cell))
        row_style = _attr(_text(open_tag), "s") if b'customFormat="1"' in open_tag else None
        for c, o in row_ops.items():
            if o[0] == "fill" and c not in seen and c not in added_cols:
                base = int(row_style) if row_style else self.col_styles.get(c, 0)
                s = self.styles.with_fill(base, o[1])
                kept.append((c, f'<{_text(self.p)}c r="{column_letter(c)}{r}" s="{s}"/>'.encode()))
            elif o[0] == "value":
                xml = self._cell_xml(r, c, o, None)
                if xml:
                    kept.append((c, xml))
        kept.sort(key=lambda x: x[0])
        return open_tag + b"".join(c for _, c in kept) + b"</" + self.p + b"row>"

    def _restyle(self, cell: bytes, colour: str) -> bytes:
        gt = cell.index(b">")
        tag = cell[:gt]
        m = re.search(rb'\ss="(\d+)"', tag)
        s = self.styles.with_fill(int(m.group(1)) if m else 0, colour)
        if m:
            tag = tag[:m.start()] + f' s="{s}"'.encode() + tag[m.end():]
        else:
            tag = tag.rstrip(b"/") + f' s="{s}"'.encode() + (b"/" if tag.endswith(b"/") else b"")
        return tag + cell[gt:]

    def _new_row(self, r: int, row_ops: dict[int, tuple]) -> bytes:
        p = self.p
        return self._edit_row(b"<" + p + f'row r="{r}">'.encode() + b"</" + p + b"row>", r, row_ops, set(), True)

    def head_edit(self, marks: SheetMarks, cols: dict[str, int], last_row: int) -> bytes:
        head = _text(self.head)
        p = _text(self.p)
        max_col = max(cols.values(), default=0)
        # <dimension>
        m = re.search(rf'<{re.escape(p)}dimension\b[^>]*\sref="([^"]+)"', head)
        if m and (max_col or marks.fills):
            lo, hi = (m.group(1).split(":") + [m.group(1)])[:2]
            r0, c0 = _split_ref(lo)
            r1, c1 = _split_ref(hi)
            fill_rows = [r for r, _ in marks.fills] or [0]
            fill_cols = [c for _, c in marks.fills] or [0]
            r1, c1 = max(r1, last_row, *fill_rows), max(c1, max_col, *fill_cols)
            ref = f"{column_letter(c0)}{r0}:{column_letter(c1)}{r1}"
            head = head[:m.start(1)] + ref + head[m.end(1):]
        # <cols>: widths of the added columns
        widths = {cols[c.label]: c.width or (12 if c.kind == "date" else None) for c in marks.columns}
        widths = {c: w for c, w in widths.items() if w}
        if widths:
            head = _set_widths(head, p, widths)
        # a frozen header, unless the clerk froze something already
        if marks.filter_and_freeze and "<" + p + "pane" not in head:
            r = marks.header_row
            pane = f'<{p}pane ySplit="{r}" topLeftCell="A{r + 1}" activePane="bottomLeft" state="frozen"/>'
            sv = re.search(rf"<{re.escape(p)}sheetView\b[^>]*?(/?)>", head)
            if sv:
                if sv.group(1):
                    head = head[:sv.start()] + sv.group(0)[:-2] + ">" + pane + f"</{p}sheetView>" + head[sv.end():]
                else:
                    head = head[:sv.end()] + pane + head[sv.end():]
                    head = re.sub(rf"(<{re.escape(p)}selection\b)(?![^>]*\spane=)", rf'\1 pane="bottomLeft"', head)
            else:
                head = _insert(head, p, "sheetViews", f'<{p}sheetViews><{p}sheetView workbookViewId="0">{pane}'
                                                       f'</{p}sheetView></{p}sheetViews>')
        return head.encode("utf-8")

    def tail_edit(self, marks: SheetMarks, cols: dict[str, int], last_row: int, legacy_rid: str | None) -> bytes:
        tail = _text(self.tail)
        p = _text(self.p)
        if marks.filter_and_freeze and "tableParts" not in tail:  # a table has its own filter
            first = 1
            last_col = max([*cols.values(), *getattr(self, "header_styles", {}), 1])
            ref = f"{column_letter(first)}{marks.header_row}:{column_letter(last_col)}{max(last_row, marks.header_row)}"
            m = re.search(rf'<{re.escape(p)}autoFilter\b[^>]*\sref="([^"]+)"', tail)
            if m:
                tail = tail[:m.start(1)] + ref + tail[m.end(1):]
            else:
                tail = _insert(f"<{p}sheetData/>" + tail, p, "autoFilter", f'<{p}autoFilter ref="{ref}"/>')[len(f"<{p}sheetData/>"):]
        if legacy_rid:
            r = re.search(rf'xmlns:(\w+)="{re.escape(REL_NS)}"', _text(self.head))
            prefix = r.group(1) if r else None
            attr = f'{prefix}:id="{legacy_rid}"' if prefix else f'xmlns:r="{REL_NS}" r:id="{legacy_rid}"'
            tail = _insert(f"<{p}sheetData/>" + tail, p, "legacyDrawing", f"<{p}legacyDrawing {attr}/>")[len(f"<{p}sheetData/>"):]
        return tail.encode("utf-8")


_ROW_NUMBER = re.compile(rb'\sr\s*=\s*"(\d+)"')


def _insert(xml: str, p: str, element: str, block: str) -> str:
    """Insert ``block`` (a worksheet child ``element``) where the schema order puts it."""
    after = WORKSHEET_ORDER[WORKSHEET_ORDER.index(element) + 1:]
    best = None
    for name in after:
        m = re.search(rf"<{re.escape(p)}{name}\b", xml)
        if m and (best is None or m.start() < best):
            best = m.start()
    if best is None:  # nothing after it: before </worksheet>, or at the end of the part before <sheetData>
        best = xml.rindex(f"</{p}worksheet>") if f"</{p}worksheet>" in xml else len(xml)
    return xml[:best] + block + xml[best:]


def _set_widths(head: str, p: str, widths: dict[int, float]) -> str:
    ep = re.escape(p)
    m = re.search(rf"<{ep}cols>(.*?)</{ep}cols>", head, flags=re.S)
    entries: list[tuple[int, str]] = []
    if m:
        for tag in re.findall(rf"<{ep}col\b[^>]*/>", m.group(1)):
            lo, hi = int(_attr(tag, "min")), int(_attr(tag, "max"))
            pieces = []
            start = lo
            for c in sorted(x for x in widths if lo <= x <= hi):
                if start <= c - 1:
                    pieces.append((start, c - 1))
                start = c + 1
            if start <= hi:
                pieces.append((start, hi))
            for a, b in pieces:
                piece = re.sub(r'\smin="\d+"', f' min="{a}"', re.sub(r'\smax="\d+"', f' max="{b}"', tag))
                entries.append((a, piece))
    for c, w in widths.items():
        entries.append((c, f'<{p}col min="{c}" max="{c}" width="{w}" customWidth="1"/>'))
    entries.sort(key=lambda e: e[0])
    block = f"<{p}cols>" + "".join(t for _, t in entries) + f"</{p}cols>"
    if m:
        return head[:m.start()] + block + head[m.end():]
    return head + block  # head ends right before <sheetData>, where <cols> goes


def _split_ref(ref: str) -> tuple[int, int]:
    m = re.match(r"\$?([A-Za-z]+)\$?(\d+)", ref)
    return (int(m.group(2)), column_index(m.group(1))) if m else (1, 1)


def _range(ref: str) -> tuple[int, int, int, int]:
    lo, hi = (ref.split(":") + [ref])[:2]
    r0, c0 = _split_ref(lo)
    r1, c1 = _split_ref(hi)
    return r0, c0, r1, c1


def _xml_text(text: str) -> str:
    return escape(text).replace("\r", "&#13;")


# --- notes: comments part and VML -----------------------------------------------------------

def _note_runs(text: str) -> str:
    return f'<r><rPr><sz val="9"/><rFont val="宋体"/><family val="2"/><charset val="134"/></rPr><t xml:space="preserve">{_xml_text(text)}</t></r>'


def _new_comments(notes: dict[tuple[int, int], str], author: str) -> str:
    items = "".join(f'<comment ref="{column_letter(c)}{r}" authorId="0"><text>{_note_runs(t)}</text></comment>'
                    for (r, c), t in sorted(notes.items()))
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<comments xmlns="{MAIN_NS}"><authors>'
            f"<author>{escape(author)}</author></authors><commentList>{items}</commentList></comments>")


def _merge_comments(xml: str, notes: dict[tuple[int, int], str], author: str) -> tuple[str, set[str]]:
    """The sheet's comments with ours added: a clerk's note on a marked cell keeps its text and
    ours follows it; an earlier xfsheets note is replaced. Returns (xml, refs that had a comment)."""
    m = re.search(r"<(\w+:)?comments\b", xml)
    p = (m.group(1) or "") if m else ""
    ep = re.escape(p)
    authors = [_unescape(a) for a in re.findall(rf"<{ep}author>(.*?)</{ep}author>", xml, flags=re.S)]
    if author in authors:
        ours = authors.index(author)
    else:
        ours = len(authors)
        if re.search(rf"<{ep}authors\s*/>", xml):
            xml = re.sub(rf"<{ep}authors\s*/>", f"<{p}authors><{p}author>{escape(author)}</{p}author></{p}authors>", xml, count=1)
        else:
            xml = xml.replace(f"</{p}authors>", f"<{p}author>{escape(author)}</{p}author></{p}authors>", 1)
    wanted = {f"{column_letter(c)}{r}": t for (r, c), t in notes.items()}
    existing = set()

    def merge(cm: re.Match) -> str:
        comment = cm.group(0)
        ref = _attr(comment[:comment.index(">")], "ref")
        if ref not in wanted:
            return comment
        existing.add(ref)
        text = wanted[ref]
        if _attr(comment[:comment.index(">")], "authorId") == str(ours):  # our own earlier note: replaced
            return re.sub(rf"<{ep}text>.*?</{ep}text>", lambda _: f"<{p}text>{_note_runs(text)}</{p}text>", comment,
                          count=1, flags=re.S)
        body = re.search(rf"<{ep}text>(.*?)</{ep}text>", comment, flags=re.S)
        inner = body.group(1) if body else ""
        # what an earlier run appended (a run starting with the separator) is replaced, not repeated
        inner = re.sub(rf"<{ep}r>(?:(?!<{ep}r>).)*?<{ep}t\b[^>]*>\n——\n.*?</{ep}t></{ep}r>", "", inner, flags=re.S)
        if re.match(rf"\s*<{ep}t\b", inner):  # plain text: as a run, so that ours can follow it
            inner = f"<{p}r>{inner}</{p}r>"
        inner += _note_runs("\n——\n" + text).replace("<r>", f"<{p}r>").replace("</r>", f"</{p}r>") if p else \
            _note_runs("\n——\n" + text)
        return comment[:body.start(1)] + inner + comment[body.end(1):] if body else comment

    xml = re.sub(rf"<{ep}comment\b[^>]*?(?:/>|>.*?</{ep}comment>)", merge, xml, flags=re.S)
    new = "".join(f'<{p}comment ref="{ref}" authorId="{ours}"><{p}text>{_note_runs(t)}</{p}text></{p}comment>'
                  for ref, t in wanted.items() if ref not in existing)
    if p:
        new = new.replace("<r>", f"<{p}r>").replace("</r>", f"</{p}r>")
    if re.search(rf"<{ep}commentList\s*/>", xml):
        xml = re.sub(rf"<{ep}commentList\s*/>", lambda _: f"<{p}commentList>{new}</{p}commentList>", xml, count=1)
    else:
        xml = xml.replace(f"</{p}commentList>", new + f"</{p}commentList>", 1)
    return xml, existing


_SHAPETYPE = ('<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
              '<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>')


_VML_NAMESPACES = (' xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office"'
                   ' xmlns:x="urn:schemas-microsoft-com:office:excel"')


def _new_vml(block: int) -> str:
    return (f'<xml{_VML_NAMESPACES}>'
            f'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{block}"/></o:shapelayout>{_SHAPETYPE}</xml>')


def _add_vml_shapes(vml: str, notes: dict[tuple[int, int], str]) -> str:
    if not notes:
        return vml
    block = int((re.search(r'data="(\d+)', vml) or re.search(r"(1)", "1")).group(1))
    used = [int(x) for x in re.findall(r'_x0000_s(\d+)', vml)]
    next_id = max([block * 1024, *used]) + 1
    shapes = []
    for k, ((r, c), text) in enumerate(sorted(notes.items())):
        lines = text.count("\n") + 1 + len(text) // 24
        height = min(max(60, 14 * lines), 400)
        shapes.append(
            f'<v:shape id="_x0000_s{next_id + k}" type="#_x0000_t202" style="position:absolute;margin-left:59.25pt;'
            f'margin-top:1.5pt;width:240pt;height:{height}pt;z-index:{k + 1};visibility:hidden" fillcolor="#ffffe1" '
            'o:insetmode="auto"><v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/>'
            '<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div>'
            '</v:textbox><x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
            f"<x:Anchor>{c}, 15, {max(r - 2, 0)}, 10, {c + 3}, 15, {r + 3}, 4</x:Anchor><x:AutoFill>False</x:AutoFill>"
            f"<x:Row>{r - 1}</x:Row><x:Column>{c - 1}</x:Column></x:ClientData></v:shape>")
    if 'id="_x0000_t202"' not in vml:
        shapes.insert(0, _SHAPETYPE)
    root = re.search(r"<xml\b[^>]*>", vml)
    if root is None or not all(f"xmlns:{p}=" in root.group(0) for p in ("v", "o", "x")):
        # a VML part whose root binds no v:/o:/x: (openpyxl declares its own prefixes on each element):
        # each added element declares what it uses, so the part stays well-formed
        shapes = [re.sub(r"^<(v:shape\w*)", lambda m: f"<{m.group(1)}{_VML_NAMESPACES}", x) for x in shapes]
    at = vml.rindex("</xml>")
    return vml[:at] + "".join(shapes) + vml[at:]


# --- the results sheet ----------------------------------------------------------------------

def _results_sheet(table: ResultsTable, styles: _Styles, page: dict[str, str] | None = None) -> str:
    bold, link = styles.bold(), styles.link()
    ncols = len(table.header)
    last = column_letter(max(ncols, 1))
    nrows = len(table.rows) + 1
    rows = []

    def cell(r: int, c: int, value: Any, s: int = 0) -> str:
        ref = f"{column_letter(c)}{r}"
        sattr = f' s="{s}"' if s else ""
        if value is None or value == "":
            return ""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return f'<c r="{ref}"{sattr}><v>{value!r}</v></c>'
        return f'<c r="{ref}"{sattr} t="inlineStr"><is><t xml:space="preserve">{_xml_text(str(value))}</t></is></c>'

    rows.append(f'<row r="1">{"".join(cell(1, c, v, bold) for c, v in enumerate(table.header, 1))}</row>')
    links = []
    for k, (values, target) in enumerate(zip(table.rows, table.links), 2):
        s0 = link if target else 0
        rows.append(f'<row r="{k}">' + "".join(cell(k, c, v, s0 if c == 1 else 0) for c, v in enumerate(values, 1))
                    + "</row>")
        if target:
            sheet, ref = target
            quoted = "'" + sheet.replace("'", "''") + "'"
            links.append(f'<hyperlink ref="A{k}" location="{_attr_value(quoted + "!" + ref)}" display="{_attr_value(ref)}"/>')
    cols = "".join(f'<col min="{c}" max="{c}" width="{w}" customWidth="1"/>' for c, w in enumerate(table.widths, 1))
    page = page or {"pageMargins": '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'}
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
            + page.get("sheetPr", "")
            + f'<dimension ref="A1:{last}{nrows}"/><sheetViews><sheetView workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
            '<sheetFormatPr defaultRowHeight="15"/>' + (f"<cols>{cols}</cols>" if cols else "")
            + f"<sheetData>{''.join(rows)}</sheetData>"
            + f'<autoFilter ref="A1:{last}{nrows}"/>'
            + (f"<hyperlinks>{''.join(links)}</hyperlinks>" if links else "")
            + "".join(page.get(k, "") for k in ("printOptions", "pageMargins", "pageSetup", "headerFooter"))
            + "</worksheet>")
