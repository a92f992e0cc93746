"""Writing workbooks: atomic saves and shared styles.

Every output file is written to a temporary file in the destination folder and
renamed into place only when complete, so an interrupted run never leaves a
half-written workbook (and never replaces a good one with a broken one).
"""
from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path
from typing import Iterator

from xfsheets.errors import XfsheetsError


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` on success.

    On any exception the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise XfsheetsError(f"无法创建输出文件夹「{folder}」：{exc.strerror}",
                            hint="请检查路径和写入权限") from exc
    fd, tmp = tempfile.mkstemp(prefix=".~xfsheets-", suffix=path.suffix, dir=folder)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, _default_mode())  # mkstemp makes 0600; outputs get the usual mode
        try:
            os.replace(tmp_path, path)
        except PermissionError as exc:
            raise XfsheetsError(f"无法写入「{path}」：文件可能正在 Excel/WPS 中打开",
                                hint="请关闭该文件后重试") from exc
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


_UNSAFE_IN_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def safe_filename(name: str) -> str:
    """A unit name as a Windows-safe file name (reserved characters replaced, no leading dots)."""
    cleaned = _UNSAFE_IN_NAME.sub("_", str(name)).strip().lstrip(".").rstrip(". ")
    return cleaned or "未命名单位"


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def save_workbook(workbook, path: str | Path) -> Path:
    """Save an openpyxl workbook atomically to ``path``."""
    path = Path(path)
    with atomic_path(path) as tmp:
        workbook.save(tmp)
    return path


def load_copy(path: str | Path, password: str | None = None, out_path: str | Path | None = None):
    """Open a ledger with openpyxl to write an annotated *copy* of it (formatting kept).

    The file itself is only read. ``.xlsm`` keeps its VBA project; an encrypted
    workbook is decrypted in memory with ``password``; ``.xls`` cannot be edited by
    openpyxl, so the user is told to save it as .xlsx first.
    """
    import io

    import openpyxl

    from xfsheets.errors import LedgerReadError
    from xfsheets.reader import open_workbook, _decrypt_if_needed, _OLE_MAGIC

    path = Path(path)
    open_workbook(path, password).close()  # same checks and messages as reading
    if path.suffix.lower() in (".xls", ".xlsb"):
        raise LedgerReadError(f"{path.suffix} 格式无法在保留原有格式的前提下写出标注副本", file=path,
                              hint="请先用 Excel/WPS 将该文件另存为 .xlsx，再对 .xlsx 运行本命令")
    with path.open("rb") as fh:
        head = fh.read(8)
    source = _decrypt_if_needed(path, password) if head == _OLE_MAGIC else io.BytesIO(path.read_bytes())
    # Macros travel only into a macro-enabled copy: an .xlsx holding VBA does not open in Excel.
    target = Path(out_path) if out_path is not None else path
    keep_vba = path.suffix.lower() == ".xlsm" and target.suffix.lower() == ".xlsm"
    try:
        return openpyxl.load_workbook(source, keep_vba=keep_vba, rich_text=True)
    except Exception as exc:
        raise LedgerReadError("文件无法以可编辑方式打开（可能已损坏）", file=path,
                              hint="请用 Excel/WPS 打开后另存为 .xlsx 再试") from exc


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


def _number_text(v) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def write_tables(path: str | Path, tables: list[Table]) -> Path:
    """Write several tables as formatted sheets (header style, widths, dates, frozen header,
    autofilter), atomically. Returns the path."""
    import rustpy_xlsxwriter as rx

    path = Path(path)
    header = (rx.Format().set_bold().set_background_color(HEADER_FILL).set_border("thin")
              .set_align("center").set_text_wrap())
    entries, widths, formats = [], {}, {}
    date_format = rx.Format().set_num_format(DATE_FORMAT)
    for table in tables:
        frame, date_columns = _for_excel(table.frame)
        formats[table.name] = {c: date_format for c in date_columns}
        if frame.empty:  # the writer needs a row to learn the columns: write the header alone
            frame = pd.DataFrame({c: pd.Series([None], dtype=object) for c in frame.columns})
            frame = frame.iloc[0:0] if len(frame.columns) == 0 else frame
        entries.append((table.name, frame))
        asked = {k: v for k, v in table.widths.items() if k in frame.columns}  # a column may be absent
        widths[table.name] = {**estimate_widths(frame, date_columns=tuple(date_columns)), **asked}
    with atomic_path(path) as tmp:
        rx.write_worksheets(entries, str(tmp), freeze_panes={"general": {"row": 1, "col": 0}},
                            datetime_format=DATE_FORMAT, header_format={"general": header},
                            autofilter={"general": True}, column_widths=widths, column_formats=formats)
    return path
