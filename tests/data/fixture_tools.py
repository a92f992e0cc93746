"""Shared by the fixture scripts in this folder: a plain ledger table workbook."""
from __future__ import annotations

import datetime as dt

import openpyxl


def table_workbook(header: list, rows: list[list], sheet: str = "台账"):
    """(workbook, sheet) with ``header`` in row 1 and ``rows`` below, dates formatted as dates."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(header)
    for row in rows:
        ws.append(row)
    for cells in ws.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, dt.datetime):
                cell.number_format = "yyyy-mm-dd"
    return wb, ws
