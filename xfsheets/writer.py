"""Writing workbooks: atomic saves and shared styles.

Every output file is written to a temporary file in the destination folder and
renamed into place only when complete, so an interrupted run never leaves a
half-written workbook (and never replaces a good one with a broken one).
"""
from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Iterable, Iterator


@contextlib.contextmanager
def atomic_path(path: str | Path, inputs: Iterable[str | Path] = (), *, guard: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` on success.

    With ``guard`` (always, except for files that are themselves inputs-to-be, such as
    sample ledgers) ``path`` first passes the output gate: it may not be one of ``inputs``
    nor an existing file xfsheets may not replace (:mod:`xfsheets.outputs`).
    On any exception or catchable signal the temporary file is removed and ``path`` is left
    as it was; every written XML part is parsed back before the file is put in place
    (:func:`xfsheets.outputs.atomic_file`, the one gate).
    """
    from xfsheets.outputs import atomic_file

    with atomic_file(path, inputs, guard=guard) as tmp:
        yield tmp


_UNSAFE_IN_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def safe_filename(name: str) -> str:
    """A unit name as a Windows-safe file name (reserved characters replaced, no leading dots)."""
    cleaned = _UNSAFE_IN_NAME.sub("_", str(name)).strip().lstrip(".").rstrip(". ")
    return cleaned or "未命名单位"


def save_workbook(workbook, path: str | Path, inputs: Iterable[str | Path] = ()) -> Path:
    """Save an openpyxl workbook atomically to ``path``, through the output gate, stamped as
    xfsheets' own, with every text written as text (see :func:`defuse_formulas`)."""
    from xfsheets.outputs import mark_package

    path = Path(path)
    defuse_formulas(workbook)
    with atomic_path(path, inputs) as tmp:
        workbook.save(tmp)
        mark_package(tmp)
    return path


# --- user text is written as text -----------------------------------------------------------
# openpyxl makes any string that starts with "=" a formula. xfsheets writes no formula on
# purpose, so the only formulas a saved workbook may hold are the user's own, recorded when
# a workbook of theirs is loaded (keep_user_formulas). Everything else is turned back into text.

EXCEL_CELL_LIMIT = 32767
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_changes: list[str] | None = None


def excel_text(value, where: str = ""):
    """``value`` as Excel can store it: control characters (which no cell can hold) become
    U+FFFD, text over 32,767 characters is cut there with a note saying so. Each change is
    recorded (see :func:`recorded_changes`); the source ledger keeps the original."""
    if not isinstance(value, str):
        return value
    fixed = value
    if _ILLEGAL.search(fixed):
        fixed = _ILLEGAL.sub("\ufffd", fixed)
        _record(f"{where}含 Excel 不能保存的控制字符，已替换为 \ufffd")
    if len(fixed) > EXCEL_CELL_LIMIT:
        note = f"……（原文 {len(value):,} 字，超出 Excel 单元格上限 32,767 字，以下从略，全文见原台账）"
        fixed = fixed[: EXCEL_CELL_LIMIT - len(note)] + note
        _record(f"{where}文字长 {len(value):,} 字，超出 Excel 单元格上限，已截断")
    return fixed


def _record(text: str) -> None:
    if _changes is not None and len(_changes) < 10000:
        _changes.append(text)


@contextlib.contextmanager
def recorded_changes() -> Iterator[list[str]]:
    """Collect what :func:`excel_text` had to change while the block runs (for the door to list)."""
    global _changes
    outer, _changes = _changes, []
    try:
        yield _changes
    finally:
        _changes = outer


def defuse_formulas(workbook) -> int:
    """Turn every formula cell that is not the user's own back into text (and cut text over
    Excel's cell limit, see :func:`excel_text`); returns how many formulas were defused."""
    own = getattr(workbook, "_xfsheets_user_formulas", frozenset())
    fixed = 0
    for ws in workbook.worksheets:
        title = ws.title
        for cell in getattr(ws, "_cells", {}).values():
            value = cell._value
            if not isinstance(value, str):
                continue
            if cell.data_type == "f" and (title, cell.row, cell.column) not in own:
                cell.data_type = "s"
                fixed += 1
            if len(value) > EXCEL_CELL_LIMIT:
                cell._value = excel_text(value, where=f"工作表「{title}」{cell.coordinate} 单元格")
    return fixed


def keep_user_formulas(workbook) -> None:
    """Record the formulas a workbook loaded from the user's file already holds, so that
    :func:`defuse_formulas` keeps them (and only them) when it is saved again."""
    workbook._xfsheets_user_formulas = frozenset(
        (ws.title, c.row, c.column) for ws in workbook.worksheets
        for c in getattr(ws, "_cells", {}).values() if c.data_type == "f")


# --- fast styled tables -------------------------------------------------------------
# Writing a 100k-row styled workbook is the slow half of consolidation. Measured on
# 100k x 29 (bench/bench_writer.py): rustpy-xlsxwriter (a binding to the Rust port of
# XlsxWriter) 2.0 s, pandas + xlsxwriter 22.5 s, openpyxl write-only 23.7 s; it keeps
# real dates, Chinese text, widths, header style, frozen header and autofilter on
# several sheets. It formats a column, not a cell (see _mixed_for_excel). It stays behind
# this one function so that the choice can change without touching the callers.

from dataclasses import dataclass, field as dc_field  # noqa: E402

import datetime as _dt  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

HEADER_FILL = "#DDEBF7"
DATE_FORMAT = "yyyy-mm-dd"
MAX_WIDTH = 50


@dataclass
class Table:
    """One sheet of a table workbook: a header row, then the frame's rows."""

    name: str
    frame: pd.DataFrame
    widths: dict[str, float] = dc_field(default_factory=dict)  # column -> width (else estimated)


def text_width(text: object) -> int:
    """Display width in Excel character units (CJK characters count two)."""
    s = "" if text is None else str(text)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)


def estimate_widths(frame: pd.DataFrame, sample: int = 200, date_columns: tuple = ()) -> dict[str, float]:
    widths = {}
    head = frame.head(sample)
    for col in frame.columns:
        values = head[col]
        if pd.api.types.is_datetime64_any_dtype(values) or str(col) in date_columns:
            longest = 10
        else:
            longest = max((text_width(v) for v in values.dropna().astype(str)), default=0)
        widths[str(col)] = float(min(max(longest, text_width(col)) + 2, MAX_WIDTH))
    return widths


EXCEL_EPOCH = pd.Timestamp("1899-12-30")


def _for_excel(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Values the writer understands, and the columns to format as dates.

    Date columns become Excel serial numbers (NaN for empty cells) with a date format:
    the same cells Excel writes, without a Python datetime object per cell.
    """
    out, dates = {}, []
    for col in frame.columns:
        s = frame[col]
        name = str(col)
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            if getattr(s.dt, "tz", None) is not None:
                s = s.dt.tz_localize(None)
            s = (s - EXCEL_EPOCH) / pd.Timedelta(days=1)
            dates.append(name)
        elif isinstance(s.dtype, pd.Int64Dtype):
            s = s.astype(object).where(s.notna(), None)
        elif pd.api.types.is_string_dtype(s.dtype) and not pd.api.types.is_object_dtype(s.dtype):
            s = s.astype(object).where(s.notna(), None)
        elif pd.api.types.is_object_dtype(s.dtype):
            s = _mixed_for_excel(s)
        if s.dtype == object:
            s = _fit_long_text(s, name)
        out[name] = s
    return pd.DataFrame(out, index=frame.index), dates


def _mixed_for_excel(s: pd.Series) -> pd.Series:
    """An object column as the writer needs it (it formats a column, not a cell).

    - NaT / NaN / pd.NA become None: among text and dates (a date column keeping what was
      typed) they reach the writer as year 1 and fail the whole file.
    - A column holding dates gets the date format on every cell, so a number beside a
      date would show as a date (3 -> 1900-01-03): such numbers are written as text,
      exactly as they read.
    """
    if s.isna().any():
        s = s.where(s.notna(), None)
    if pd.api.types.infer_dtype(s, skipna=True) not in ("mixed", "mixed-integer", "mixed-integer-float"):
        return s  # one kind of value (all text, all dates, all numbers): nothing to do
    is_date = s.map(lambda v: isinstance(v, _dt.date))  # datetime and Timestamp are dates too
    if not is_date.any():
        return s
    is_number = s.map(lambda v: isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_)))
    if is_number.any():
        s = s.where(~is_number, s[is_number].map(_number_text))
    return s


def _fit_long_text(s: pd.Series, column: str) -> pd.Series:
    """Text longer than an Excel cell holds, cut with a note (the writer refuses the file otherwise)."""
    try:
        long = s.str.len().fillna(0) > EXCEL_CELL_LIMIT  # vectorised; non-text cells give NaN
    except AttributeError:  # no text in the column at all
        return s
    if not long.any():
        return s
    s = s.copy()
    for i in s.index[long]:
        s.at[i] = excel_text(s.at[i], where=f"「{column}」列第 {i} 项")
    return s


def _number_text(v) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


_PLAIN_KINDS = ("string", "integer", "floating", "mixed-integer-float", "decimal", "boolean", "empty")


def write_tables(path: str | Path, tables: list[Table], inputs: Iterable[str | Path] = ()) -> Path:
    """Write several tables as formatted sheets (header style, widths, dates, frozen header,
    autofilter), atomically, through the output gate, stamped as xfsheets' own. Text is
    always written as text (this writer never makes a formula of a string). Returns the path."""
    import rustpy_xlsxwriter as rx

    from xfsheets.outputs import mark_package

    path = Path(path)
    header = (rx.Format().set_bold().set_background_color(HEADER_FILL).set_border("thin")
              .set_align("center").set_text_wrap())
    entries, widths, formats, pages, heights = [], {}, {}, {}, {}
    # every data cell top-aligned: beside a wrapped cell, a row's other values start on its first line
    date_format = rx.Format().set_num_format(DATE_FORMAT).set_align("top")
    wrap_format = rx.Format().set_text_wrap().set_align("top")
    top_format = rx.Format().set_align("top")
    for table in tables:
        frame, date_columns = _for_excel(table.frame)
        if frame.empty:  # the writer needs a row to learn the columns: write the header alone
            frame = pd.DataFrame({c: pd.Series([None], dtype=object) for c in frame.columns})
            frame = frame.iloc[0:0] if len(frame.columns) == 0 else frame
        entries.append((table.name, frame))
        asked = {k: v for k, v in table.widths.items() if k in frame.columns}  # a column may be absent
        sheet_widths = {**estimate_widths(frame, date_columns=tuple(date_columns)), **asked}
        # Long text wraps within a column of WRAP_WIDTH (rows grow to fit) instead of pushing
        # the table off the page.
        wrapped = {c for c, w in sheet_widths.items() if w > WRAP_WIDTH and c not in date_columns}
        widths[table.name] = {c: (WRAP_WIDTH if c in wrapped else w) for c, w in sheet_widths.items()}
        # (a column holding dates among text keeps no column format: the writer formats its dates itself)
        plain = [c for c in frame.columns if pd.api.types.infer_dtype(frame[c], skipna=True) in _PLAIN_KINDS]
        formats[table.name] = {**{c: top_format for c in plain}, **{c: date_format for c in date_columns},
                               **{c: wrap_format for c in wrapped if c in plain}}
        pages[table.name] = page_setup_rustpy("table", 0, sum(widths[table.name].values()))
        if wrapped and len(frame):
            lines = np.max([wrapped_lines(frame[c], WRAP_WIDTH) for c in wrapped], axis=0)
            tall = np.flatnonzero(lines > 1)
            heights[table.name] = dict(zip((tall + 1).tolist(), lines_height(lines[tall]).tolist()))
    with atomic_path(path, inputs) as tmp:
        rx.write_worksheets(entries, str(tmp), freeze_panes={"general": {"row": 1, "col": 0}},
                            datetime_format=DATE_FORMAT, header_format={"general": header},
                            autofilter={"general": True}, column_widths=widths, column_formats=formats,
                            page_setup=pages, row_heights=heights)
        mark_package(tmp)
    return path


# --- page setup: one rule for every sheet xfsheets writes or adds -------------------------
# Every sheet prints on A4, fitted to one page wide, with page numbers in the footer. A table
# repeats its header row on every page and turns landscape when it is wider than portrait
# paper holds; a form (slip, zero report, 情况报告) is portrait and fits on one page. Written
# once as data, applied by one function per writing library (openpyxl, xlsxwriter,
# rustpy-xlsxwriter). Margins are in inches, as all three libraries take them.

PAGE_SETUP = {
    "paper": 9,  # A4 in Excel's paper codes
    "footer": "&C第 &P 页 共 &N 页",
    "fit_width": 1,
    "kinds": {
        "table": {"fit_height": 0, "repeat_header": True, "center": False,
                  "margins": {"left": 0.5, "right": 0.5, "top": 0.6, "bottom": 0.7, "header": 0.3, "footer": 0.3}},
        # a form (slip, zero report) is one page: no page numbers on it
        "form": {"fit_height": 1, "repeat_header": False, "center": True, "landscape": False, "footer": "",
                 "margins": {"left": 0.7, "right": 0.7, "top": 0.8, "bottom": 0.8, "header": 0.3, "footer": 0.3}},
        # a document of several pages (the report's 情况报告): portrait, runs on to more pages
        "document": {"fit_height": 0, "repeat_header": False, "center": True, "landscape": False,
                     "margins": {"left": 0.7, "right": 0.7, "top": 0.8, "bottom": 0.8, "header": 0.3, "footer": 0.3}},
    },
}
# Column width units (Excel's, about 0.19 cm each) that A4 portrait holds between the table
# margins; a wider table prints landscape. A column wider than WRAP_WIDTH wraps its text.
PORTRAIT_WIDTH = 100
WRAP_WIDTH = 40


def page_layout(kind: str = "table", width: float | None = None) -> dict:
    """The page rule for a sheet of ``kind`` (table | form | document) whose columns add up
    to ``width`` units: landscape, fit_height, repeat_header, center, margins, paper, footer."""
    rule = PAGE_SETUP["kinds"][kind]
    landscape = rule.get("landscape")
    if landscape is None:
        landscape = width is None or width > PORTRAIT_WIDTH
    return {**rule, "landscape": landscape, "paper": PAGE_SETUP["paper"],
            "footer": rule.get("footer", PAGE_SETUP["footer"]), "fit_width": PAGE_SETUP["fit_width"]}


def sheet_width(ws) -> float:
    """Sum of an openpyxl sheet's used column widths (8.43 for a column left at the default)."""
    from openpyxl.utils import column_index_from_string, get_column_letter

    sized = [column_index_from_string(k) for k, d in ws.column_dimensions.items() if d.width]
    total = 0.0
    for c in range(1, max([ws.max_column or 1, *sized]) + 1):
        dim = ws.column_dimensions.get(get_column_letter(c))
        total += (dim.width if dim is not None and dim.width else 8.43)
    return total


def page_setup_openpyxl(ws, kind: str = "table", header_row: int | None = 1) -> None:
    """Apply :data:`PAGE_SETUP` to an openpyxl sheet xfsheets writes or adds (never to a
    user's own sheet: their print settings and frozen panes stay theirs)."""
    from openpyxl.worksheet.page import PageMargins

    rule = page_layout(kind, sheet_width(ws))
    ws.page_setup.paperSize = rule["paper"]
    ws.page_setup.orientation = "landscape" if rule["landscape"] else "portrait"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = rule["fit_width"]
    ws.page_setup.fitToHeight = rule["fit_height"]
    ws.page_margins = PageMargins(**rule["margins"])
    if rule["footer"]:
        ws.oddFooter.center.text = rule["footer"].removeprefix("&C")
    ws.print_options.horizontalCentered = rule["center"]
    if rule["repeat_header"] and header_row:
        ws.print_title_rows = f"{header_row}:{header_row}"


def page_setup_xlsxwriter(ws, kind: str = "table", header_row: int | None = 0, width: float | None = None) -> None:
    """Apply :data:`PAGE_SETUP` to an xlsxwriter worksheet (``header_row`` 0-based)."""
    rule = page_layout(kind, width)
    ws.set_paper(rule["paper"])
    ws.set_landscape() if rule["landscape"] else ws.set_portrait()
    ws.fit_to_pages(rule["fit_width"], rule["fit_height"])
    m = rule["margins"]
    ws.set_margins(left=m["left"], right=m["right"], top=m["top"], bottom=m["bottom"])
    if rule["footer"]:
        ws.set_footer(rule["footer"], {"margin": m["footer"]})
    if rule["center"]:
        ws.center_horizontally()
    if rule["repeat_header"] and header_row is not None:
        ws.repeat_rows(header_row)


def page_setup_rustpy(kind: str = "table", header_row: int | None = 0, width: float | None = None) -> dict:
    """:data:`PAGE_SETUP` as rustpy-xlsxwriter's ``page_setup`` mapping for one sheet."""
    rule = page_layout(kind, width)
    out = {"landscape": rule["landscape"], "paper_size": rule["paper"], "margins": dict(rule["margins"]),
           "fit_to_pages": (rule["fit_width"], rule["fit_height"]), "center_horizontally": rule["center"]}
    if rule["footer"]:
        out["footer"] = rule["footer"]
    if rule["repeat_header"] and header_row is not None:
        out["repeat_rows"] = header_row
    return out


LINE_HEIGHT = 1.4  # points per point of font size, one wrapped line (CJK fonts run tall)


def _per_line(width: float, size: float) -> float:
    return max(1.0, width * 11 / size * 0.92)


def row_height(text: object, width: float, size: float = 11) -> float:
    """Points a row needs to show ``text`` wrapped in a cell (or merged range) ``width``
    units wide in a ``size``-point font (CJK characters count two units). Heights are set,
    not left to the reader: LibreOffice keeps a file's row heights when it prints it, and
    nobody fits a merged cell."""
    per_line = _per_line(width, size)
    lines = sum(max(1, -(-text_width(part) // per_line)) for part in str(text or "").split("\n"))
    return float(min(409, lines * size * LINE_HEIGHT + 5))


def wrapped_lines(values: pd.Series, width: float, size: float = 11) -> np.ndarray:
    """How many lines each value of a wrapped column takes (vectorised :func:`row_height`)."""
    text = values.astype(object).where(values.notna(), "").astype(str)
    units = text.str.len() + text.str.count("[\u2e81-\U0010ffff]")
    lines = np.ceil(units.to_numpy(dtype=float) / _per_line(width, size)) + text.str.count("\n").to_numpy()
    return np.maximum(lines, 1)


def lines_height(lines, size: float = 11):
    """Points for ``lines`` wrapped lines (a number or an array of them)."""
    return np.minimum(409, np.asarray(lines) * size * LINE_HEIGHT + 5)


def page_setup_xml(kind: str = "table", width: float | None = None) -> dict[str, str]:
    """:data:`PAGE_SETUP` as worksheet XML, for a sheet written part by part (the package editor):
    ``sheetPr`` (goes first in the sheet), then ``printOptions``, ``pageMargins``, ``pageSetup``,
    ``headerFooter`` (in this order, after sheetData and the parts Excel puts before them). The
    header row to repeat is a defined name: :func:`print_titles_xml`."""
    from xml.sax.saxutils import escape

    rule = page_layout(kind, width)
    m = rule["margins"]
    out = {
        "sheetPr": '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>',
        "printOptions": '<printOptions horizontalCentered="1"/>' if rule["center"] else "",
        "pageMargins": (f'<pageMargins left="{m["left"]}" right="{m["right"]}" top="{m["top"]}" '
                        f'bottom="{m["bottom"]}" header="{m["header"]}" footer="{m["footer"]}"/>'),
        "pageSetup": (f'<pageSetup paperSize="{rule["paper"]}" fitToWidth="{rule["fit_width"]}" '
                      f'fitToHeight="{rule["fit_height"]}" orientation="{"landscape" if rule["landscape"] else "portrait"}"/>'),
        "headerFooter": (f"<headerFooter><oddFooter>{escape(rule['footer'])}</oddFooter></headerFooter>"
                         if rule["footer"] else ""),
    }
    return out


def print_titles_xml(sheet: str, sheet_index: int, header_row: int = 1) -> str:
    """The workbook's defined name repeating row ``header_row`` (1-based) of the ``sheet_index``-th
    sheet (0-based) on every printed page."""
    from xml.sax.saxutils import escape

    quoted = "'" + sheet.replace("'", "''") + "'"
    return (f'<definedName name="_xlnm.Print_Titles" localSheetId="{sheet_index}">'
            f"{escape(quoted)}!${header_row}:${header_row}</definedName>")
