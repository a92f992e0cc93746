"""Reading ledgers as bureaus keep them.

A workbook (.xlsx .xlsm .xltx .xltm .xls .xlsb .ods, WPS .et/.ett; encrypted ones with a
password) is read with calamine (Rust); a .csv export (UTF-8 with or without BOM, UTF-16,
GB18030/GBK) is read with every cell as text so that IDs keep their digits. Every sheet
whose header matches is a ledger sheet (monthly or yearly sheets, concatenated; rows keep
their _sheet); instruction, summary, hidden and Excel 4.0 macro sheets are left out and
listed in Ledger.skipped_sheets. Header rows are found by matching labels against the
vocabulary: title rows above the header, two-row headers where a merged parent spans its
children, blank rows, 合计/小计 rows and footers are handled (a row naming a matter is
always data). A vertically merged range in the data area gives its value to every row it
spans (Source.merged). Each row keeps its provenance (file, sheet, Excel row number).
"""
from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from xfsheets import normalize as nz
from xfsheets.errors import EncryptedWorkbookError, LedgerReadError, file_name_problem
from xfsheets.ledger import PROVENANCE, Column, Ledger, SkippedSheet, Source
from xfsheets.schema import (
    DEFAULT_PROFILE,
    FALLBACK_LOOKUP,
    FIELD_BY_NAME,
    FIELD_NAMES,
    LABELS,
    ROW_NUMBER_LABELS,
    Profile,
    match_label,
    normalize_label,
)

SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".xlsb", ".ods", ".et", ".ett", ".csv")
# Suffixes calamine does not know by name: opened from their bytes (format sniffed).
_SNIFFED = (".xltx", ".xltm", ".et", ".ett")
_WPS = (".et", ".ett")
SAVE_AS_XLSX = "请用 Excel 或 WPS 打开后“另存为” .xlsx 格式再试（不要另存为 CSV：身份证号等长数字会丢失）"
HEADER_SCAN_ROWS = 30
MIN_HEADER_FIELDS = 3
# Generic child labels that name the parent's field ("包案领导" over "姓名").
GENERIC_CHILDREN = {"姓名", "名称", "单位", "单位名称"}
_TOTAL_RE = re.compile(r"^(合\s*计|小\s*计|总\s*计|总\s*数)")
_COUNT_RE = re.compile(r"^[共计]?\s*\d+\s*(件|人次|人|起|批|条|户)$")  # "6件" in a 合计 row is a count
_FOOTER_RE = re.compile(r"^(填表人|制表人|填报人|审核人|审核|审批人|负责人|联系人|单位负责人|分管领导|主要领导|"
                        r"联系电话|制表日期|填表日期|填报日期|报送日期|制表时间|填表时间|"
                        r"注[:：]|说明[:：]|备注[:：]|填表说明)")
# A sign line's label cell: 填表人： (its value may be the next cell: 填表人： | 王五 | 审核人： | 赵六).
_SIGN_LABEL_RE = re.compile(_FOOTER_RE.pattern + r".{0,6}[:：]?\s*$")
# Numbered notes below a table: 1、本表…  2.…  （一）…  一、…  注1：…  (a long text, not a row number).
_NOTE_RE = re.compile(r"^\s*(?:\d{1,2}\s*[、.．]|[（(]\s*[一二三四五六七八九十\d]{1,3}\s*[）)]|[一二三四五六七八九十]{1,3}\s*、|"
                      r"注\s*\d{0,2}\s*[:：、.．])\s*\S.{3,}")
# A 合计 row's first cell: 合计 / 合 计 / 合计： / 合计12件 / 合计（共12件） / 总计
_TOTAL_CELL_RE = re.compile(r"^(合\s*计|小\s*计|总\s*计)\s*[:：]?\s*(?:[（(]?\s*[共计]?\s*\d*\s*(件|人次|人|起|批)?\s*[）)]?)?$")
# What the first cells of a row below the table start with (the vectorised pre-filter).
_BELOW_RE = re.compile("|".join(f"(?:{r.pattern})" for r in (_TOTAL_RE, _FOOTER_RE, _NOTE_RE)))
_META_RE = re.compile(r"(填报单位|填表单位|报送单位|填报日期|填表日期|报送日期|统计时间|统计日期)\s*[:：]\s*([^\s:：]+(?:\s*[至到-]\s*[^\s:：]+)?)")

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"

SKIP_BLANK = "空行"
SKIP_TOTAL = "合计行"
SKIP_FOOTER = "表尾说明"
SKIP_REPEATED_HEADER = "重复的表头行"
# Rows the reader leaves out because they are not matters; any other skipped row (a far-away
# cell the limits skipped) is something that was not read, and check says so.
BELOW_TABLE_REASONS = frozenset({SKIP_BLANK, SKIP_TOTAL, SKIP_FOOTER, SKIP_REPEATED_HEADER})


def column_letter(index: int) -> str:
    """Excel column letter of a 1-based column index (1 -> A, 27 -> AA).

    A local helper: importing openpyxl.utils for this loads all of openpyxl (0.16 s) in every
    command that reads a ledger.
    """
    if index < 1:
        raise ValueError(f"column index must be >= 1, not {index}")
    letters = ""
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


# --- opening a workbook -----------------------------------------------------------

def open_workbook(path: str | Path, password: str | None = None):
    """Open ``path`` with calamine, decrypting it first when needed.

    Raises LedgerReadError (or EncryptedWorkbookError) with a Chinese message.
    """
    from python_calamine import CalamineWorkbook

    path = Path(path)
    bad_name = file_name_problem(path)  # before anything tries to print, open or pass on the name
    if bad_name:
        raise bad_name
    if not path.exists():
        raise LedgerReadError("找不到文件", file=path, hint="请检查文件名和路径是否正确")
    if path.is_dir():
        raise LedgerReadError("这是一个文件夹，不是台账文件", file=path,
                              hint="请指定具体的 .xlsx/.xls 文件（合并整个文件夹请用 consolidate 命令）")
    if path.suffix.lower() not in SUFFIXES:
        raise LedgerReadError(f"不支持的文件类型「{path.suffix or '无扩展名'}」", file=path,
                              hint="支持 .xlsx .xlsm .xltx .xls .xlsb .ods .et .csv；"
                                   "其他格式请先用 Excel/WPS 另存为 .xlsx")
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise LedgerReadError(f"无法打开文件：{exc.strerror}", file=path,
                              hint="请检查文件权限，或先关闭正在编辑它的程序") from exc
    if len(head) == 0:
        raise LedgerReadError("文件是空的（0 字节）", file=path, hint="文件可能没有保存成功，请重新保存或重新索取")
    source: Any = path
    if path.suffix.lower() == ".csv":
        return CsvWorkbook(path)
    if head == _OLE_MAGIC:
        source = _decrypt_if_needed(path, password)
    elif head[:4] in _BIFF_OLD:
        raise LedgerReadError(f"这是 Excel {_BIFF_OLD[head[:4]]} 时代的旧格式工作表（不是 Excel 97 以后的 .xls），无法直接读取",
                              file=path, hint=SAVE_AS_XLSX)
    elif head[:4] != _ZIP_MAGIC:
        what = "网页（HTML）文件" if head.lstrip()[:1] == b"<" else "文本或其他文件"
        raise LedgerReadError(f"不是有效的 Excel 工作簿（是{what}改了扩展名）", file=path, hint=SAVE_AS_XLSX)
    if source is path and path.suffix.lower() in _SNIFFED:
        source = io.BytesIO(path.read_bytes())
    from xfsheets.limits import GuardedWorkbook, check_workbook, quiet_rust, reader_panic

    plan = check_workbook(path, source)  # container and extent limits, before calamine allocates
    source = plan.source
    try:
        with quiet_rust():
            if isinstance(source, io.BytesIO):
                return GuardedWorkbook(CalamineWorkbook.from_filelike(source), path, plan.skipped)
            return GuardedWorkbook(CalamineWorkbook.from_path(str(source)), path, plan.skipped)
    except Exception as exc:  # calamine raises several error types for broken files
        if head[:4] == _ZIP_MAGIC and ("sheet:type" in str(exc) or macro_sheet_names(path)):
            # Excel 4.0 macro sheets (xl/macrosheets/) or dialog sheets: calamine refuses the whole
            # workbook, so read it without them (they are listed as skipped by read_ledger).
            try:
                without = check_workbook(path, _without_macro_sheets(path)).source  # the same limits
                return GuardedWorkbook(CalamineWorkbook.from_filelike(without), path, plan.skipped)
            except Exception:
                pass
            except BaseException as panic:  # pyo3_runtime.PanicException
                raise reader_panic(panic, path) from None
        if path.suffix.lower() in _WPS:
            raise LedgerReadError("无法读取这个 WPS 表格文件（.et）", file=path,
                                  hint="请在 WPS 中打开，“另存为” .xlsx 格式再试（不要另存为 CSV：身份证号等长数字会丢失）") from exc
        raise LedgerReadError("文件已损坏或不完整，无法读取", file=path,
                              hint="请用 Excel/WPS 打开确认能否正常显示，必要时让报送单位重新发送") from exc
    except BaseException as panic:  # pyo3_runtime.PanicException is not an Exception
        raise reader_panic(panic, path) from None


# BIFF2/3/4 BOF records (an Excel 2.0-4.0 file is a bare record stream, no OLE container).
_BIFF_OLD = {b"\x09\x00\x04\x00": "2.0", b"\x09\x00\x06\x00": "2.0", b"\x09\x02\x06\x00": "3.0",
             b"\x09\x04\x06\x00": "4.0"}
_MACRO_REL = re.compile(rb'<Relationship\b[^>]*?(?:xlMacrosheet|xlIntlMacrosheet|dialogsheet)[^>]*?>', re.I)


def _macro_sheet_parts(zf) -> tuple[set[str], list[str]]:
    """(relationship ids, sheet names) of the macro and dialog sheets of an OOXML workbook."""
    rels = zf.read("xl/_rels/workbook.xml.rels")
    ids = {m.group(1).decode() for r in _MACRO_REL.finditer(rels) for m in [re.search(rb'\bId="([^"]+)"', r.group(0))] if m}
    book = zf.read("xl/workbook.xml").decode("utf-8")
    names = []
    for tag in re.finditer(r"<(?:\w+:)?sheet\b[^>]*/>", book):
        rid = re.search(r'\br:id="([^"]+)"|\b\w+:id="([^"]+)"', tag.group(0))
        if rid and (rid.group(1) or rid.group(2)) in ids:
            name = re.search(r'\bname="([^"]*)"', tag.group(0))
            names.append(_xml_unescape(name.group(1)) if name else "")
    return ids, names


def _xml_unescape(text: str) -> str:
    import html

    return html.unescape(text)


def macro_sheet_names(path: Path) -> list[str]:
    """Names of the Excel 4.0 macro (and dialog) sheets of an OOXML workbook ([] if none or not OOXML)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            if not any(n.startswith(("xl/macrosheets/", "xl/dialogsheets/")) for n in zf.namelist()):
                return []
            return _macro_sheet_parts(zf)[1]
    except Exception:
        return []


def _without_macro_sheets(path: Path) -> io.BytesIO:
    """The workbook's bytes with the macro/dialog sheets taken out of xl/workbook.xml."""
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(path) as zf, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        ids, _ = _macro_sheet_parts(zf)
        for item in zf.infolist():
            data = zf.read(item.filename)
            if item.filename == "xl/workbook.xml":
                text = data.decode("utf-8")
                for rid in ids:
                    text = re.sub(r'<(?:\w+:)?sheet\b[^>]*\bid="' + re.escape(rid) + r'"[^>]*/>', "", text)
                data = text.encode("utf-8")
            dst.writestr(item, data)
    out.seek(0)
    return out


def ods_merges(path: Path) -> dict[str, list[tuple[tuple[int, int], tuple[int, int]]]]:
    """Merged ranges per sheet of an OpenDocument spreadsheet (calamine does not report them),
    as ((first row, first col), (last row, last col)), 0-based like calamine's."""
    import zipfile
    from xml.etree.ElementTree import iterparse

    ns = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
    T = f"{{{ns}}}"
    out: dict[str, list] = {}
    try:
        with zipfile.ZipFile(path) as zf, zf.open("content.xml") as fh:
            sheet, r, c, repeat, depth = None, 0, 0, 1, 0
            for event, el in iterparse(fh, events=("start", "end")):
                tag = el.tag
                if event == "start":
                    if tag == T + "table":
                        depth += 1
                        if depth == 1:
                            sheet, r = el.get(T + "name", ""), 0
                            out[sheet] = []
                    elif depth == 1 and tag == T + "table-row":
                        c, repeat = 0, int(el.get(T + "number-rows-repeated", "1"))
                    elif depth == 1 and tag in (T + "table-cell", T + "covered-table-cell"):
                        rs = int(el.get(T + "number-rows-spanned", "1"))
                        cs = int(el.get(T + "number-columns-spanned", "1"))
                        if rs > 1 or cs > 1:
                            out[sheet].append(((r, c), (r + rs - 1, c + cs - 1)))
                        c += int(el.get(T + "number-columns-repeated", "1"))
                else:
                    if tag == T + "table":
                        depth -= 1
                    elif depth == 1 and tag == T + "table-row":
                        r += repeat
                        el.clear()
    except Exception:
        return {}
    return out


class CsvSheet:
    """A CSV file as a calamine-like sheet: every cell text (IDs keep their digits)."""

    merged_cell_ranges = None

    def __init__(self, rows: list[list[str]]):
        self._rows = rows

    def to_python(self, skip_empty_area: bool = False, nrows: int | None = None) -> list[list[Any]]:
        return self._rows[:nrows] if nrows else self._rows


class CsvWorkbook:
    """A CSV ledger (UTF-8 with or without BOM, UTF-16 with BOM, else GB18030/GBK) as a one-sheet workbook."""

    is_csv = True

    def __init__(self, path: Path):
        import csv

        from xfsheets.textfiles import decode_text  # the one rule for text an office saved

        text = decode_text(path.read_bytes())
        if text is None:
            # Not "open it in Excel and save as .xlsx": Excel turns 18-digit IDs in a CSV into numbers.
            raise LedgerReadError("CSV 文件的文字编码无法识别（不是 UTF-8，也不是 GBK/GB18030）", file=path,
                                  hint="请用记事本打开该文件，“另存为”时编码选 UTF-8，再运行本命令")
        sample = text[:8192]
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",\t;|")
        except csv.Error:
            dialect = csv.excel_tab if sample.count("\t") > sample.count(",") else csv.excel
        rows = [[c.strip() for c in r] for r in csv.reader(io.StringIO(text, newline=""), dialect)]
        width = max((len(r) for r in rows), default=0)
        self.sheet_names = [path.stem]
        self.sheets_metadata: list = []
        self._sheet = CsvSheet([r + [""] * (width - len(r)) for r in rows])

    def get_sheet_by_name(self, name: str) -> CsvSheet:
        return self._sheet

    def close(self) -> None:
        pass


def _decrypt_if_needed(path: Path, password: str | None) -> Any:
    """An OLE file is either a legacy .xls or an encrypted OOXML workbook."""
    import msoffcrypto

    try:
        with path.open("rb") as fh:
            office = msoffcrypto.OfficeFile(fh)
            encrypted = office.is_encrypted()
    except Exception:
        return path  # not something msoffcrypto knows: let calamine judge it
    if not encrypted:
        return path
    if not password:
        raise EncryptedWorkbookError("工作簿设有打开密码（已加密），无法读取", file=path,
                                     hint="请用 --password 提供密码，或在 Excel 中取消密码后另存")
    out = io.BytesIO()
    try:
        with path.open("rb") as fh:
            office = msoffcrypto.OfficeFile(fh)
            office.load_key(password=password)
            office.decrypt(out)
    except Exception as exc:
        raise EncryptedWorkbookError("密码不正确，无法解密工作簿", file=path,
                                     hint="请确认 --password 提供的密码（区分大小写）") from exc
    out.seek(0)
    return out


def sheet_rows(sheet, nrows: int | None = None) -> list[list[Any]]:
    """A calamine sheet's cells as rows from A1 (row 0 = Excel row 1), '' for empty cells."""
    return sheet.to_python(skip_empty_area=False, nrows=nrows) if nrows else sheet.to_python(skip_empty_area=False)


def sheet_merges(sheet) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    try:
        return list(sheet.merged_cell_ranges or [])
    except Exception:
        return []


# --- finding the header -----------------------------------------------------------

@dataclass
class Header:
    rows: list[int]  # 0-based row indexes of the header (one or two)
    columns: list[Column]
    score: int

    @property
    def end(self) -> int:
        return self.rows[-1]


def _cell_text(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _fill_parents(top: Sequence[Any], bottom: Sequence[Any], row: int, merges) -> list[str]:
    """The upper header row with merged parent labels spread over the columns they span."""
    parents = [_cell_text(v) for v in top]
    if merges:
        for (r0, c0), (r1, c1) in merges:
            if r0 == row and c1 > c0 and c0 < len(parents):
                for c in range(c0 + 1, min(c1 + 1, len(parents))):
                    if not parents[c]:
                        parents[c] = parents[c0]
        return parents
    # No merge information (.xls, xlwings): spread a label right while the cells above
    # are empty and the row below has labels (the shape a merged parent leaves).
    current = ""
    for c in range(len(parents)):
        if parents[c]:
            current = parents[c]
        elif current and c < len(bottom) and _cell_text(bottom[c]):
            parents[c] = current
        else:
            current = ""
    return parents


def _map_columns(labels: list[tuple[str, str]], lookup: dict[str, str]) -> list[Column]:
    """(parent, child) label pairs -> Columns; a single-row header has parent ''."""
    columns = []
    for index, (parent, child) in enumerate(labels):
        field = None
        if parent and child and parent != child:
            label = f"{parent}/{child}"
            parent_field = match_label(parent, lookup)
            field = match_label(parent + child, lookup)
            if field is None and parent_field and normalize_label(child) in GENERIC_CHILDREN:
                field = parent_field
            if field is None:
                field = match_label(child, lookup)
        else:
            label = child or parent
            field = match_label(label, lookup)
        if field == "-":  # the profile says: keep this column, map it to nothing
            field = None
        columns.append(Column(index=index, letter=column_letter(index + 1), label=label, field=field))
    taken = {c.field for c in columns if c.field}
    for col in columns:  # 牵头单位 is the 责任单位 only where no column is one
        if col.field is None and col.label:
            key = normalize_label(col.label.split("/")[-1])
            field = FALLBACK_LOOKUP.get(key) if normalize_label(col.label) not in lookup else None
            if field and field not in taken:
                col.field = field
                taken.add(field)
    return columns


def _score(columns: list[Column]) -> int:
    return len({c.field for c in columns if c.field})


def find_header(rows: list[list[Any]], lookup: dict[str, str], merges=None,
                header_rows: list[int] | None = None) -> Header | None:
    """The header row(s) of a sheet: the one or two rows whose labels best match fields."""
    width = max((len(r) for r in rows[:HEADER_SCAN_ROWS]), default=0)

    def padded(r: int) -> list[Any]:
        row = list(rows[r]) if r < len(rows) else []
        return row + [""] * (width - len(row))

    def single(r: int) -> list[Column]:
        return _map_columns([("", _cell_text(v)) for v in padded(r)], lookup)

    def double(r: int) -> list[Column]:
        top, bottom = padded(r), padded(r + 1)
        parents = _fill_parents(top, bottom, r, merges)
        return _map_columns(list(zip(parents, [_cell_text(v) for v in bottom])), lookup)

    if header_rows:  # the profile names the header rows (1-based)
        r = header_rows[0] - 1
        if r >= len(rows):
            return None
        columns = double(r) if len(header_rows) == 2 else single(r)
        return Header(rows=[h - 1 for h in header_rows], columns=columns, score=_score(columns))

    scan = min(HEADER_SCAN_ROWS, len(rows))
    singles = [single(r) for r in range(scan)]  # each row mapped once
    scores = [_score(c) for c in singles]
    best: Header | None = None
    for r in range(scan):
        candidate = Header(rows=[r], columns=singles[r], score=scores[r])
        below = scores[r + 1] if r + 1 < scan else 0
        # a second header row can only help where this row has gaps or the next row has labels
        has_gaps = any(not c.label for c in singles[r])
        if r + 1 < len(rows) and (has_gaps or below):
            two = double(r)
            if _score(two) > max(candidate.score, below):
                candidate = Header(rows=[r, r + 1], columns=two, score=_score(two))
        if best is None or candidate.score > best.score:
            best = candidate
    if best is None or best.score < MIN_HEADER_FIELDS:
        return None
    return best


def _duplicate_fields(columns: list[Column]) -> tuple[Column, Column] | None:
    seen: dict[str, Column] = {}
    for col in columns:
        if col.field:
            if col.field in seen:
                return seen[col.field], col
            seen[col.field] = col
    return None


# --- building the ledger ------------------------------------------------------------

KEY_FIELDS = ("case_id", "petitioner", "received_on")


def _has_key(row: Sequence[Any], key_cols: list[int]) -> bool:
    """The row names a matter: a case id, petitioner or date that is not itself a 合计/注： text."""
    for c in key_cols:
        if c < len(row):
            t = _cell_text(row[c])
            if t and not (_TOTAL_RE.match(t) or _FOOTER_RE.match(t) or _COUNT_RE.match(t) or _NOTE_RE.match(t)):
                return True
    return False


def _sign_line(texts: list[str]) -> bool:
    """填表人：王五  审核人：赵六  联系电话：… : every cell a sign label, or the value right after one."""
    if not _FOOTER_RE.match(texts[0]):
        return False
    open_label = False
    for t in texts:
        if _FOOTER_RE.match(t):
            open_label = bool(_SIGN_LABEL_RE.match(t))
        elif open_label:
            open_label = False
        else:
            return False
    return True


def _row_kind(row: Sequence[Any], header_keys: list[str], field_cols: dict[str, int]) -> str | None:
    """Why a data row is not a ledger row (None when it is one).

    Below the table: a 合计 row (its first cell 合计, with text or typed totals), a numbered
    note (1、… （一）…), a sign line (填表人/审核人/联系电话/制表日期, values in the next cells).
    Otherwise a row with a case id, petitioner or date is a matter even when a text cell starts
    with 合计/小计/注：（"合计拖欠工资3万元" is a complaint, not a total).
    """
    texts = [t for t in (_cell_text(v) for v in row) if t]
    if not texts:
        return SKIP_BLANK
    if len(texts) >= 3 and [normalize_label(_cell_text(v)) for v in row[:len(header_keys)]] == header_keys:
        return SKIP_REPEATED_HEADER
    key_cols = [field_cols[f] for f in KEY_FIELDS if f in field_cols]
    if _sign_line(texts) or (len(texts) <= 2 and _NOTE_RE.match(texts[0])):
        return SKIP_FOOTER
    if _TOTAL_CELL_RE.match(texts[0]):  # a first cell that is just 合计: what follows is its text or totals
        return SKIP_TOTAL
    if _has_key(row, key_cols):
        return None
    if any(_TOTAL_RE.match(t) for t in texts[:3]):
        return SKIP_TOTAL
    if _FOOTER_RE.match(texts[0]) and len(texts) <= 4:
        return SKIP_FOOTER
    return None


def _columns(body: list[Sequence[Any]], width: int) -> list[np.ndarray]:
    """Rows -> one object array per column ('' and None both mean empty)."""
    if any(len(r) != width for r in body):
        body = [list(r[:width]) + [""] * (width - len(r)) for r in body]
    out = []
    for values in zip(*body):
        col = np.empty(len(values), dtype=object)
        col[:] = values
        out.append(col)
    return out


def _classify_rows(body: list[Sequence[Any]], columns: list[np.ndarray], empty: list[np.ndarray],
                   header_texts: list[str], header_keys: list[str], field_cols: dict[str, int],
                   first_excel_row: int, source: Source) -> np.ndarray:
    """Indexes of the rows of ``body`` that are ledger rows; the others go to source.skipped.

    Vectorised: a row with more than four filled cells is data unless its first
    cells say 合计/小计 or it repeats the header; only the sparse rows (few) are
    looked at one by one.
    """
    n = len(body)
    filled = np.zeros(n, dtype=np.int32)
    for e in empty:
        filled += ~e
    below = np.zeros(n, dtype=bool)  # a first cell saying 合计 / 填表人 / 1、… : looked at one by one
    for col in columns[:3]:
        is_str = np.fromiter((type(v) is str for v in col), dtype=bool, count=n)
        if is_str.any():
            below[is_str] |= pd.Series(col[is_str]).str.strip().str.match(_BELOW_RE.pattern).to_numpy(dtype=bool)
    repeated = np.zeros(n, dtype=bool)
    keys = [c for f, c in field_cols.items() if f in ("case_id", "received_on", "petitioner", "summary", "unit")]
    if keys:
        hits = sum((columns[c] == header_texts[c]).astype(np.int32) for c in keys)
        repeated = hits >= min(2, len(keys))
    why = np.full(n, None, dtype=object)
    why[repeated] = SKIP_REPEATED_HEADER
    for i in np.flatnonzero((filled <= 4) | below):
        why[i] = _row_kind(body[i], header_keys, field_cols)
    # Below the first note or sign line, a line or two of text without a key is more of the notes
    # (not below a 小计 row: a table may go on after one).
    ends = np.flatnonzero(why == SKIP_FOOTER)
    if len(ends):
        key_cols = [field_cols[f] for f in KEY_FIELDS if f in field_cols]
        for i in np.flatnonzero((np.arange(n) > ends[0]) & (why == None) & (filled <= 2)):  # noqa: E711
            if not _has_key(body[i], key_cols):
                why[i] = SKIP_FOOTER
    for i in np.flatnonzero(why != None):  # noqa: E711 (elementwise)
        source.skipped.append((first_excel_row + int(i), why[i]))
    return np.flatnonzero(why == None)  # noqa: E711


def _title_meta(rows: list[list[Any]], header_start: int) -> dict[str, str]:
    meta: dict[str, str] = {}
    for row in rows[:header_start]:
        for value in row:
            text = unicodedata.normalize("NFKC", _cell_text(value))
            for key, val in _META_RE.findall(text):
                meta.setdefault(key, val)
    titles = [t for r in rows[:header_start] for t in (_cell_text(v) for v in r) if t and not _META_RE.search(t)]
    if titles:
        meta.setdefault("标题", titles[0])
    return meta


def ledger_from_rows(rows: list[list[Any]], *, file: str | Path, sheet: str,
                     profile: Profile | None = None, merges=None, header: Header | None = None) -> Ledger:
    """Build a Ledger from a sheet's cells (row 0 = Excel row 1).

    Raises LedgerReadError when no ledger header can be found, or when two columns
    map to one field.
    """
    profile = profile or DEFAULT_PROFILE
    lookup = profile.lookup()
    file = str(file)
    if header is None:
        header = find_header(rows, lookup, merges, profile.header_rows)
    if header is None or header.score == 0:
        raise LedgerReadError(
            "找不到台账表头", file=file, sheet=sheet,
            hint="表头应含有 信访件编号、登记日期、信访人、反映问题、责任单位 等列名；"
                 "可用 --sheet 指定工作表，或在 --profile 配置文件中写明 header_rows 和列名映射")
    dup = _duplicate_fields(header.columns)
    if dup:
        a, b = dup
        # Suggest unmapping the column whose label is not the canonical one.
        drop = a if normalize_label(a.label) != normalize_label(LABELS[a.field]) else b
        raise LedgerReadError(
            f"{a.letter} 列「{a.label}」和 {b.letter} 列「{b.label}」都被识别为「{LABELS[a.field]}」，无法确定用哪一列",
            file=file, sheet=sheet, row=header.rows[0] + 1,
            hint=f"请改掉其中一列的列名，或在 --profile 配置文件的 [labels] 中写 \"{drop.label}\" = \"-\" 表示该列不作为此字段")
    width = len(header.columns)
    field_cols = {c.field: c.index for c in header.columns if c.field}
    header_keys = [normalize_label(c.label.split("/")[-1]) for c in header.columns]
    source = Source(file=file, sheet=sheet, header_rows=[r + 1 for r in header.rows],
                    columns=header.columns, meta=_title_meta(rows, header.rows[0]))

    body = rows[header.end + 1:]
    first_excel_row = header.end + 2
    header_texts = [c.label.split("/")[-1] for c in header.columns]
    columns = _columns(body, width) if body else [np.empty(0, dtype=object) for _ in range(width)]
    empty = [(col == "") | pd.isna(col) for col in columns]
    # Rows are classified on the cells as they are; merged values are given out afterwards.
    keep = (_classify_rows(body, columns, empty, header_texts, header_keys, field_cols, first_excel_row, source)
            if body else np.empty(0, dtype=np.int64))
    if merges and body:
        _fill_merged(columns, empty, merges, header.end + 1, source)
    source.rows = len(keep)
    return _build([np.where(e[keep], None, c[keep]) for c, e in zip(columns, empty)],
                  (keep + first_excel_row).tolist(), source)


def _fill_merged(columns: list[np.ndarray], empty: list[np.ndarray], merges, first: int, source: Source) -> None:
    """Give the value of each vertically merged range in the data area to every row it spans
    (the cells below the top-left one read as empty); every data-area merge goes to source.merged.

    ``first`` is the 0-based sheet row of the first data row; columns/empty are changed in place.
    """
    from xfsheets.ledger import MergedRange

    width = len(columns)
    n = len(columns[0]) if columns else 0
    by_index = {c.index: c for c in source.columns}
    for (r0, c0), (r1, c1) in sorted(merges):
        if r0 < first or c0 >= width or r0 - first >= n:
            continue
        a, b = r0 - first, min(r1 - first, n - 1)
        col = by_index.get(c0)
        value = columns[c0][a]
        vertical = b > a and not empty[c0][a]
        source.merged.append(MergedRange(
            first_row=r0 + 1, last_row=r1 + 1, first_col=column_letter(c0 + 1), last_col=column_letter(c1 + 1),
            field=col.field if col else None, label=col.label if col else "",
            value="" if empty[c0][a] else nz.display_value(value), filled=vertical))
        if vertical:
            span = slice(a + 1, b + 1)
            cells = columns[c0][span]  # a view: filled in place
            cells[empty[c0][span]] = value
            empty[c0][span] = False


def _column_name(col: Column, taken: set[str]) -> str:
    if col.field:
        return col.field
    base = col.label or f"{col.letter}列"
    if normalize_label(base) in {normalize_label(x) for x in ROW_NUMBER_LABELS}:
        base = col.label or "序号"
    name = base
    n = 2
    while name in taken or name in FIELD_NAMES or name in PROVENANCE:
        name = f"{base}_{n}"
        n += 1
    return name


def _build(columns: list[np.ndarray], excel_rows: list[int], source: Source) -> Ledger:
    """Column arrays (None for empty cells) of the kept rows -> Ledger."""
    n = len(excel_rows)
    index = pd.RangeIndex(n)
    raw: dict[str, pd.Series] = {}
    frame: dict[str, pd.Series] = {}
    taken: set[str] = set()
    year = ledger_year(source)
    for col, values in zip(source.columns, columns):
        name = _column_name(col, taken)
        col.name = name
        taken.add(name)
        series = pd.Series(values, index=index, dtype=object)
        raw[name] = series
        frame[name] = normalize_column(col.field, series, year) if col.field else nz.clean_text(series)
    for name in FIELD_NAMES:  # every canonical field exists, missing when the file lacks it
        if name not in frame:
            frame[name] = normalize_column(name, pd.Series([None] * n, index=index, dtype=object))
    extras = [k for k in frame if k not in FIELD_NAMES]
    ordered = {k: frame[k] for k in FIELD_NAMES + extras}
    ordered["_file"] = pd.Series([source.file] * n, index=index, dtype=object)
    ordered["_sheet"] = pd.Series([source.sheet] * n, index=index, dtype=object)
    ordered["_row"] = pd.Series(excel_rows, index=index, dtype="int64")
    ordered["_source"] = pd.Series([0] * n, index=index, dtype="int64")
    raw_frame = pd.DataFrame({k: raw[k] for k in [*FIELD_NAMES, *extras] if k in raw}, index=index)
    return Ledger(frame=pd.DataFrame(ordered, index=index), raw=raw_frame, sources=[source])


def ledger_year(source: Source) -> int | None:
    """The year a sheet's 3月5日-style dates belong to: from the 填报日期/统计时间 line above the
    header, else the sheet name (2026年3月), else the title; None when nothing says."""
    meta = source.meta
    return nz.year_hint(*(meta.get(k) for k in ("填报日期", "填表日期", "报送日期", "统计时间", "统计日期")),
                        source.sheet, meta.get("标题"))


def normalize_column(field: str, values: pd.Series, year: int | None = None) -> pd.Series:
    """Raw cell values of one canonical field -> its normalised column (``year``: for 3月5日)."""
    kind = FIELD_BY_NAME[field].kind
    if kind == "date":
        return nz.parse_dates(values, year)
    if field == "extension_days":
        return nz.parse_day_counts(values)
    if kind == "int":
        return nz.parse_ints(values)
    if kind in ("id_number", "phone"):
        return nz.normalize_id_text(values)
    if kind == "status":
        return nz.normalize_status(values)
    if kind == "channel":
        return nz.normalize_channel(values)
    if field in ("unit", "assigning_unit", "co_units"):  # one unit, one name: invisible characters never make two
        from xfsheets.identifiers import fold_name

        return nz.clean_text(values).map(fold_name)
    return nz.clean_text(values)


def empty_ledger() -> Ledger:
    source = Source(file="", sheet="", header_rows=[], columns=[])
    ledger = _build([], [], source)
    ledger.sources = []
    return ledger


# --- public entry points ------------------------------------------------------------

_SUMMARY_SHEET_RE = re.compile(r"汇总|统计|合计|总表|分析|目录|封面|说明")
IDENTITY_FIELDS = ("case_id", "petitioner", "received_on", "summary")
SHEET_NO_HEADER = "没有台账表头（如填表说明、空白页），未读取"
SHEET_SUMMARY = "汇总/统计表（没有信访件编号、信访人、登记日期或反映问题列），未读取"
SHEET_SUMMARY_NAME = "工作表名称表明是汇总表，其内容可能与各期工作表重复，未读取；如需读取请用 --sheet 指定"
SHEET_HIDDEN = "隐藏的工作表，未读取；如需读取请取消隐藏或用 --sheet 指定"
SHEET_MACRO = "Excel 4.0 宏表，不是台账，未读取"
SHEET_CHART = "图表或对话框工作表，没有单元格数据，未读取"


def _sheet_kinds(workbook) -> dict[str, str]:
    """Sheet name -> why it is not a worksheet to read ('' for a visible worksheet)."""
    kinds: dict[str, str] = {}
    try:
        for meta in workbook.sheets_metadata:
            typ, visible = str(meta.typ), str(meta.visible)
            if "Macro" in typ:
                kinds[meta.name] = SHEET_MACRO
            elif "WorkSheet" not in typ:
                kinds[meta.name] = SHEET_CHART
            elif visible.split(".")[-1] != "Visible":
                kinds[meta.name] = SHEET_HIDDEN
            else:
                kinds[meta.name] = ""
    except Exception:
        pass
    return kinds


def choose_sheets(workbook, path: Path, profile: Profile, sheet: str | None
                  ) -> tuple[list[tuple[str, Any, Header]], list[SkippedSheet]]:
    """The ledger sheets of a workbook, in workbook order, and the sheets left out (with why).

    The sheet asked for (--sheet or the profile), else every visible worksheet whose header
    matches; summary sheets (no column naming a matter, or a 汇总/统计 name beside other
    ledger sheets), instruction sheets, hidden sheets and macro sheets are left out and listed.
    """
    names = list(workbook.sheet_names)
    lookup = profile.lookup()
    wanted = sheet or profile.sheet
    if getattr(workbook, "is_csv", False):
        wanted = None  # a CSV file is one sheet: --sheet (meant for the workbooks of a batch) does not apply
    kinds = _sheet_kinds(workbook)
    file = str(path)
    skipped: list[SkippedSheet] = []
    if wanted:
        if wanted not in names:
            raise LedgerReadError(f"工作簿中没有名为「{wanted}」的工作表", file=path,
                                  hint=f"现有工作表：{'、'.join(names)}")
        candidates = [wanted]
    else:
        candidates = []
        for name in names:
            if kinds.get(name):
                skipped.append(SkippedSheet(file, name, kinds[name]))
            else:
                candidates.append(name)
    found: list[tuple[str, Any, Header]] = []
    broken: list[tuple[str, Exception]] = []
    for name in candidates:
        try:
            loaded = workbook.get_sheet_by_name(name)  # parses the sheet once
            rows = sheet_rows(loaded, HEADER_SCAN_ROWS + 2)
        except Exception as exc:
            broken.append((name, exc))
            skipped.append(SkippedSheet(file, name, "工作表内容无法读取（可能已损坏）"))
            continue
        header = find_header(rows, lookup, sheet_merges(loaded), profile.header_rows)
        if header is None:
            skipped.append(SkippedSheet(file, name, SHEET_NO_HEADER))
        elif not wanted and not any(c.field in IDENTITY_FIELDS for c in header.columns):
            skipped.append(SkippedSheet(file, name, SHEET_SUMMARY))
        else:
            found.append((name, loaded, header))
    if not wanted and len(found) > 1:
        regular = [f for f in found if not _SUMMARY_SHEET_RE.search(f[0])]
        if regular:
            for name, _, _ in found:
                if _SUMMARY_SHEET_RE.search(name):
                    skipped.append(SkippedSheet(file, name, SHEET_SUMMARY_NAME))
            found = regular
    if not found:
        if broken and len(broken) == len(candidates):
            raise LedgerReadError("工作表内容已损坏，无法读取", file=path, sheet=broken[0][0] if len(broken) == 1 else None,
                                  hint="请用 Excel/WPS 打开确认能否正常显示，必要时重新保存或让报送单位重新发送") from broken[0][1]
        if not candidates:
            raise LedgerReadError("工作簿中没有可读取的工作表（" + "；".join(f"「{s.sheet}」{s.reason}" for s in skipped) + "）",
                                  file=path, hint="请取消隐藏台账工作表，或用 --sheet 指定要读取的工作表")
        where = f"工作表「{wanted}」中" if wanted else "所有工作表中都"
        raise LedgerReadError(
            f"{where}找不到台账表头", file=path,
            hint="表头应含有 信访件编号、登记日期、信访人、反映问题、责任单位 等列名（至少 3 个）；"
                 "可用 --sheet 指定工作表，或在 --profile 配置文件中写明 header_rows 和列名映射")
    order = {n: i for i, n in enumerate(names)}
    skipped.sort(key=lambda s: order.get(s.sheet, 0))
    return found, skipped


def choose_sheet(workbook, path: Path, profile: Profile, sheet: str | None) -> tuple[str, Any, Header]:
    """The best-matching ledger sheet (kept for callers that want one sheet)."""
    found, _ = choose_sheets(workbook, path, profile, sheet)
    return max(found, key=lambda f: f[2].score)


def read_ledger(path: str | Path, *, sheet: str | None = None, profile: Profile | None = None,
                password: str | None = None) -> Ledger:
    """Read one ledger file into a Ledger: every ledger sheet of it (each row keeps its _sheet),
    or the one ``sheet`` names. Sheets left out are in ``Ledger.skipped_sheets``. Never writes."""
    path = Path(path)
    profile = profile or DEFAULT_PROFILE
    if sheet is None and not profile.sheet:  # a township's consolidated ledger: its rows, not its 重复记录
        from xfsheets.outputs import ledger_sheet

        sheet = ledger_sheet(path)
    workbook = open_workbook(path, password)
    try:
        found, skipped = choose_sheets(workbook, path, profile, sheet)
        ods = ods_merges(path) if path.suffix.lower() == ".ods" else {}
        parts = []
        for name, loaded, found_header in found:
            sheet_merged = sheet_merges(loaded)
            merges = sheet_merged or ods.get(name, [])
            try:
                rows = sheet_rows(loaded)
            except Exception as exc:
                raise LedgerReadError("工作表内容已损坏，无法读取", file=path, sheet=name,
                                      hint="请用 Excel/WPS 打开确认能否正常显示，必要时重新保存") from exc
            # choose_sheets found this header from the same first rows and merges: reuse it (the
            # header scan is a sixth of reading a 1,000-row file). Search again only where the
            # merges differ (.ods) or the profile names header rows (they may lie past the scan).
            same = merges == sheet_merged and not profile.header_rows
            header = found_header if same else find_header(rows, profile.lookup(), merges, profile.header_rows)
            parts.append(ledger_from_rows(rows, file=str(path), sheet=name, profile=profile, merges=merges,
                                          header=header))
            parts[-1].sources[0].skipped.extend(getattr(workbook, "skipped", {}).get(name, []))  # far-away cells
        ledger = Ledger.concat(parts)
        macro = macro_sheet_names(path) if path.suffix.lower() in (".xlsm", ".xltm", ".xlsx", ".xltx") else []
        ledger.skipped_sheets = [SkippedSheet(str(path), m, SHEET_MACRO) for m in macro
                                 if m not in workbook.sheet_names] + skipped
        return ledger
    finally:
        try:
            workbook.close()
        except Exception:
            pass


def read_ledgers(paths: Iterable[str | Path], *, sheet: str | None = None, profile: Profile | None = None,
                 password: str | None = None) -> Ledger:
    """Read several ledgers into one Ledger (rows keep their own provenance)."""
    return Ledger.concat(read_ledger(p, sheet=sheet, profile=profile, password=password) for p in paths)
