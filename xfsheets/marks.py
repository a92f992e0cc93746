"""The plan of marks: what a check or a deadline run puts on a ledger, as plain data.

One plan (cells to fill, notes to add, columns to add, a results table) is built by the
engine's door (``checks.mark_plan``, ``deadlines.mark_plan``) and applied by both writers:
the annotated copy (:mod:`xfsheets.package_edit`, ``check -o`` / ``deadlines -o``) and the
Excel buttons (:mod:`xfsheets.excel`). So the copy and a button's result are the same cells,
colours, notes and values. Rows are Excel row numbers, columns 1-based indexes; a cell
inside a merged range is already its range's top-left cell. Colours are RRGGBB.

Where the added columns go is decided by :func:`place_columns` from what the writer sees in
the sheet (header rows and merged header cells), the same way for both writers.
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field as dc_field
from typing import Any, Iterable, Sequence

from xfsheets.reader import column_letter as _reader_column_letter

AUTHOR = "xfsheets"


@dataclass
class AddedColumn:
    """A column a run owns at the right of the ledger (matched by its header label on a rerun)."""

    label: str
    values: dict[int, Any]  # Excel row -> str | int | float | datetime.date | None
    kind: str = "text"  # "text" | "number" | "date"
    width: float | None = None
    fills: dict[int, str] = dc_field(default_factory=dict)  # Excel row -> colour of the cell


@dataclass
class SheetMarks:
    sheet: str
    header_rows: list[int]
    fills: dict[tuple[int, int], str] = dc_field(default_factory=dict)  # (row, column) -> colour
    notes: dict[tuple[int, int], str] = dc_field(default_factory=dict)  # (row, column) -> text
    columns: list[AddedColumn] = dc_field(default_factory=list)
    last_row: int | None = None  # the last data row (autofilter, column values)
    filter_and_freeze: bool = False  # autofilter over the ledger and a frozen header (if none is frozen)

    @property
    def header_row(self) -> int:
        return self.header_rows[-1] if self.header_rows else 1


@dataclass
class ResultsTable:
    """A sheet listing what was found, each row linking to its cell."""

    name: str
    header: list[str]
    rows: list[list[Any]]
    links: list[tuple[str, str] | None]  # per row: (sheet, "E10") the first cell links to
    widths: list[float] = dc_field(default_factory=list)


@dataclass
class MarkPlan:
    sheets: list[SheetMarks]
    results: ResultsTable | None = None
    author: str = AUTHOR

    def sheet(self, name: str) -> SheetMarks | None:
        return next((s for s in self.sheets if s.sheet == name), None)


# The reader's one column-letter rule, cached: the package editor asks for it cell by cell.
column_letter = functools.lru_cache(maxsize=4096)(_reader_column_letter)


def column_index(letter: str) -> int:
    n = 0
    for ch in letter.upper():
        n = n * 26 + ord(ch) - 64
    return n


def place_columns(header_rows: Sequence[Sequence[Any]], labels: Iterable[str],
                  merges: Iterable[tuple[int, int, int, int]] = (), header_row_numbers: Sequence[int] = ()) -> dict[str, int]:
    """Where each added column goes (1-based): the column of the last header row whose label
    already is that label (an earlier run's column, refreshed in place), else right of the last
    column the header uses (every header row, merged header cells included, our own labels
    excluded). ``header_rows`` are the header rows' values (index 0 = column A); ``merges`` are
    (first_row, first_col, last_row, last_col) 1-based ranges, of which those touching
    ``header_row_numbers`` count."""
    labels = list(labels)
    own = set(labels)

    def text(v: Any) -> str:
        return "" if v is None else str(v).strip()

    last = 0
    for values in header_rows:
        for i, v in enumerate(values):
            if text(v) and text(v) not in own:
                last = max(last, i + 1)
    if header_row_numbers:
        lo, hi = min(header_row_numbers), max(header_row_numbers)
        top = {n: values for n, values in zip(header_row_numbers, header_rows)}
        for r0, c0, r1, c1 in merges:
            if r0 <= hi and r1 >= lo:
                anchor = top.get(r0, [])
                value = text(anchor[c0 - 1]) if c0 - 1 < len(anchor) else ""
                if value and value not in own:
                    last = max(last, c1)
    bottom = [text(v) for v in (header_rows[-1] if header_rows else [])]
    cols = {}
    for name in labels:
        if name in bottom:
            cols[name] = bottom.index(name) + 1
        else:
            last += 1
            cols[name] = last
    return cols


def excel_date(value: Any) -> dt.date | None:
    """A pandas/numpy/datetime date as a plain ``datetime.date`` (None for a missing one)."""
    if value is None:
        return None
    try:
        import numpy as np
        import pandas as pd

        if pd.isna(value):
            return None
        if isinstance(value, (pd.Timestamp, np.datetime64)):
            return pd.Timestamp(value).date()
    except (TypeError, ValueError):
        pass
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def serial(day: dt.date) -> int:
    """Excel's serial number of a date (1900 system)."""
    return (day - dt.date(1899, 12, 30)).days
