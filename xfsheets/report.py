"""The summary workbook: lays out the figures of xfsheets.summary (values, not formulas,
so that every reader, the email body included, sees the numbers) with native Excel charts."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from xfsheets.ledger import Ledger
from xfsheets.normalize import cn_date
from xfsheets.summary import Summary, compute_summary
from xfsheets.writer import save_workbook, text_width

FONT = "宋体"
TITLE = Font(name=FONT, size=16, bold=True)
BOLD = Font(name=FONT, bold=True)
BODY = Font(name=FONT, size=11)
HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
THIN = Side(style="thin", color="999999")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
PERCENT = "0.0%"
DATE = "yyyy-mm-dd"
RATE_COLUMNS = {"按期办结率", "化解率", "占比"}


def build_report(ledger: Ledger, path: str | Path, *, include_personal_data: bool = False,
                 **options: Any) -> tuple[Path, Summary]:
    """Compute the summary of ``ledger`` and write the report workbook to ``path``."""
    summary = compute_summary(ledger, **options)
    if not include_personal_data:
        from xfsheets.privacy import mask_text

        summary.paragraph = mask_text(summary.paragraph)  # also what the command line prints
    return write_report(summary, path, include_personal_data=include_personal_data), summary


def write_report(summary: Summary, path: str | Path, *, include_personal_data: bool = False) -> Path:
    """Write the summary workbook atomically.

    Unless ``include_personal_data``, identity numbers and phones are masked everywhere in
    it (every sheet, the 情况综述 paragraph, unit and place names, chart titles, sheet names,
    document properties: :func:`xfsheets.privacy.mask_book`), and the workbook is scanned
    before it is written; anything left refuses the file (:class:`PersonalDataError`)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "总体情况"
    _overview(ws, summary)
    unit = _table(wb.create_sheet("按责任单位"), summary.by_unit, "各责任单位办理情况")
    _bar_chart(unit, summary.by_unit, "受理件数", "各责任单位信访事项（件）", anchor_col=len(summary.by_unit.columns) + 2)
    cat = _table(wb.create_sheet("按问题类别"), summary.by_category, "按问题类别")
    _bar_chart(cat, summary.by_category, "件数", "问题类别分布（件）", anchor_col=6)
    _table(wb.create_sheet("按信访形式"), summary.by_channel, "按信访形式")
    if summary.by_place is not None:
        _table(wb.create_sheet("按属地"), summary.by_place, "按问题发生地")
    trend = _table(wb.create_sheet("按时间"), summary.trend, "信访事项趋势")
    _line_chart(trend, summary.trend)
    private = (lambda f: f) if include_personal_data else _mask
    _table(wb.create_sheet("超期清单"), private(summary.overdue), f"超期未办结事项（截至{cn_date(summary.as_of)}）",
           widths={"反映问题": 36, "时限说明": 60})
    _table(wb.create_sheet("重复信访"), private(summary.repeated), "重复信访")
    _table(wb.create_sheet("集体访"), private(summary.collective), "集体访（人数≥5）", widths={"反映问题": 36})
    _table(wb.create_sheet("说明"), summary.definitions, "统计口径", widths={"口径": 80})
    if not include_personal_data:
        from xfsheets.privacy import check_workbook, mask_book

        mask_book(wb)
        check_workbook(wb, what="汇总报表", file=path)
    return save_workbook(wb, path)


def _mask(frame: pd.DataFrame) -> pd.DataFrame:
    from xfsheets.privacy import mask_frame

    return mask_frame(frame)


def _overview(ws, s: Summary) -> None:
    who = s.unit or ""
    ws["A1"] = f"{who}信访工作情况统计（{s.period_text}）"
    ws["A1"].font = TITLE
    ws.merge_cells("A1:E1")
    ws["A1"].alignment = Alignment(horizontal="center")
    ws["A2"] = f"统计截止：{cn_date(s.as_of)}    生成时间：{cn_date(dt.date.today())}"
    ws["A2"].font = BODY
    head = s.headline()
    start = 4
    _write_frame(ws, head, start)
    for r in range(start + 1, start + 1 + len(head)):
        cell = ws.cell(r, 2)
        if isinstance(cell.value, float):
            cell.number_format = PERCENT
        ws.cell(r, 5).alignment = Alignment(wrap_text=True, vertical="center")
    end = start + len(head) + 2
    ws.cell(end, 1, "情况综述（可直接复制到报告中）").font = BOLD
    ws.cell(end + 1, 1, s.paragraph).alignment = Alignment(wrap_text=True, vertical="top")
    ws.cell(end + 1, 1).font = BODY
    ws.merge_cells(start_row=end + 1, start_column=1, end_row=end + 1, end_column=5)
    ws.row_dimensions[end + 1].height = 15 * (text_width(s.paragraph) // 90 + 2)
    for col, width in zip("ABCDE", (22, 18, 8, 8, 60)):
        ws.column_dimensions[col].width = width
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _write_frame(ws, frame: pd.DataFrame, header_row: int) -> None:
    for c, name in enumerate(frame.columns, 1):
        cell = ws.cell(header_row, c, str(name))
        cell.font, cell.fill, cell.border = BOLD, HEAD_FILL, BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for r, values in enumerate(frame.itertuples(index=False), header_row + 1):
        for c, (name, value) in enumerate(zip(frame.columns, values), 1):
            cell = ws.cell(r, c, _cell_value(value))
            cell.border, cell.font = BOX, BODY
            if isinstance(cell.value, dt.datetime):
                cell.number_format = DATE
            elif name in RATE_COLUMNS and isinstance(cell.value, float):
                cell.number_format = PERCENT
            elif name in RATE_COLUMNS and cell.value is None:
                cell.value = "—"
                cell.alignment = Alignment(horizontal="right")


def _cell_value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item"):
        return value.item()
    return value


def _table(ws, frame: pd.DataFrame, title: str, widths: dict[str, float] | None = None):
    ws["A1"] = title
    ws["A1"].font = Font(name=FONT, size=14, bold=True)
    if frame.empty:
        ws["A3"] = "（无）"
        _write_frame(ws, frame, 2)
        return ws
    _write_frame(ws, frame, 2)
    ws.freeze_panes = "A3"
    ws.auto_filter.ref = f"A2:{get_column_letter(len(frame.columns))}{len(frame) + 2}"
    for c, name in enumerate(frame.columns, 1):
        sample = frame[name].head(100).dropna().astype(str)
        width = max([text_width(name)] + [text_width(v) for v in sample]) + 2
        ws.column_dimensions[get_column_letter(c)].width = min((widths or {}).get(str(name), width), 60)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_title_rows = "2:2"
    return ws


def _bar_chart(ws, frame: pd.DataFrame, column: str, title: str, anchor_col: int) -> None:
    if frame.empty:
        return
    n = min(len(frame), 20)  # the 20 largest keep a bar chart readable
    col = list(frame.columns).index(column) + 1
    chart = BarChart()
    chart.type = "bar"
    chart.title = title
    chart.legend = None
    chart.add_data(Reference(ws, min_col=col, min_row=2, max_row=2 + n), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=3, max_row=2 + n))
    chart.height, chart.width = max(7.5, 0.6 * n + 3), 16
    ws.add_chart(chart, f"{get_column_letter(anchor_col)}3")


def _line_chart(ws, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    chart = LineChart()
    chart.title = "信访事项趋势（件）"
    chart.legend = None
    chart.add_data(Reference(ws, min_col=2, min_row=2, max_row=2 + len(frame)), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=3, max_row=2 + len(frame)))
    chart.height, chart.width = 7.5, 18
    ws.add_chart(chart, "D3")
