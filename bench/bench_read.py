"""Reading a 100k-row x 26-column ledger: xfsheets vs raw readers (issue 2)."""
from __future__ import annotations

from common import ledger_file, measure, row


def _ours(path):
    from xfsheets.reader import read_ledger

    return len(read_ledger(path))


def _calamine(path):
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    return len(wb.get_sheet_by_name(wb.sheet_names[0]).to_python())


def _fastexcel(path):
    import fastexcel

    reader = fastexcel.read_excel(str(path))
    return reader.load_sheet(0, header_row=2).to_arrow().num_rows


def _polars(path):
    import polars as pl

    return pl.read_excel(str(path), engine="calamine", read_options={"header_row": 2}).height


def _openpyxl(path):
    import pandas as pd

    return len(pd.read_excel(path, engine="openpyxl", header=2))


def run(quick: bool = False) -> list[dict]:
    rows = 2_000 if quick else 100_000
    path = ledger_file(rows)
    cases = [("xfsheets read_ledger", _ours, "find header, map, normalise, provenance"),
             ("raw python-calamine to_python", _calamine, "cells only"),
             ("raw fastexcel (Arrow)", _fastexcel, "typed columns, no mapping"),
             ("polars read_excel (calamine)", _polars, ""),
             ("pandas read_excel openpyxl", _openpyxl, "")]
    out = []
    for name, fn, note in cases:
        seconds, peak, n = measure(lambda fn=fn: fn(path))
        out.append(row("read 100k x 26" if not quick else "read (quick)", name, seconds, rows, peak, note))
    return out
