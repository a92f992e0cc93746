"""The report workbook: the figures of xfsheets.summary laid out as the document a chief signs
and sends upward, then the statistics behind it.

Sheets: 情况报告 (a 公文-style page: title, period, the paragraph, the headline table with
numerator and denominator, 填报单位（盖章）/负责人/填报人/联系电话/日期), 总体情况 (the headline
table with every rate's definition; the mail body quotes it), one sheet per breakdown with its
native chart under the table, the lists (超期清单, 重复信访, 集体访) and 说明. Values, not
formulas, so that every reader, the email body included, sees the numbers.

Written by xlsxwriter with one shared format per kind of cell (:data:`STYLES`), not a style
per cell; every sheet gets the writer's page rule. Unless ``include_personal_data``, every
table is masked (:func:`xfsheets.privacy.mask_frame`) and every other text
(:func:`xfsheets.privacy.mask_text`) before it is written, and the finished file is scanned
(:func:`xfsheets.privacy.check_bytes`) before it replaces anything; a hit refuses the file.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path, PureWindowsPath
from typing import Any

import numpy as np
import pandas as pd

from xfsheets.ledger import Ledger
from xfsheets.normalize import cn_date
from xfsheets.policy import resolve as resolve_policy
from xfsheets.summary import (ENDED_SHEET, LEADER_SHEET, RESOLUTION_SHEET, Summary, compute_summary,
                              ending_statuses)
from xfsheets.writer import (WRAP_WIDTH, _for_excel, atomic_path, estimate_widths, excel_text, lines_height,
                             page_setup_xlsxwriter, row_height, text_width, wrapped_lines)

# Every format of the report, written once: 公文 fonts (小标宋 title, 黑体 headings, 仿宋 body)
# on the 情况报告 page, 宋体 in the statistics tables.
BODY_FONT, HEAD_FONT, TITLE_FONT, TABLE_FONT = "仿宋", "黑体", "方正小标宋简体", "宋体"
FORM_SIZE, TABLE_SIZE = 14, 11
PAGE_BODY_SIZE = 16  # 三号 仿宋, as a 公文 body
HEADER_FILL = "#DDEBF7"
STYLES: dict[str, dict[str, Any]] = {
    "title": {"font_name": TITLE_FONT, "font_size": 22, "align": "center", "valign": "vcenter", "text_wrap": True},
    "subtitle": {"font_name": "楷体", "font_size": PAGE_BODY_SIZE, "align": "center", "valign": "vcenter",
                 "text_wrap": True},
    "paragraph": {"font_name": BODY_FONT, "font_size": PAGE_BODY_SIZE, "text_wrap": True, "valign": "top"},
    "heading": {"font_name": HEAD_FONT, "font_size": PAGE_BODY_SIZE, "valign": "vcenter"},
    "form_head": {"font_name": HEAD_FONT, "font_size": FORM_SIZE, "border": 1, "align": "center", "valign": "vcenter",
                  "text_wrap": True},
    "form_label": {"font_name": BODY_FONT, "font_size": FORM_SIZE, "border": 1, "valign": "vcenter",
                   "text_wrap": True},
    "form_number": {"font_name": BODY_FONT, "font_size": FORM_SIZE, "border": 1, "valign": "vcenter",
                    "align": "right", "num_format": "#,##0"},
    "form_rate": {"font_name": BODY_FONT, "font_size": FORM_SIZE, "border": 1, "valign": "vcenter", "align": "right",
                  "num_format": "0.0%"},
    "note": {"font_name": BODY_FONT, "font_size": 12, "text_wrap": True, "valign": "top"},
    "sign_label": {"font_name": BODY_FONT, "font_size": FORM_SIZE, "align": "right", "valign": "bottom"},
    "sign_line": {"font_name": BODY_FONT, "font_size": FORM_SIZE, "bottom": 1, "valign": "bottom"},
    "sheet_title": {"font_name": HEAD_FONT, "font_size": 14, "valign": "vcenter"},
    "sheet_note": {"font_name": TABLE_FONT, "font_size": TABLE_SIZE, "valign": "vcenter"},
    "head": {"font_name": TABLE_FONT, "font_size": TABLE_SIZE, "bold": True, "bg_color": HEADER_FILL, "border": 1,
             "align": "center", "valign": "vcenter", "text_wrap": True},
    "text": {"font_name": TABLE_FONT, "font_size": TABLE_SIZE, "border": 1, "valign": "top"},
    "wrap": {"font_name": TABLE_FONT, "font_size": TABLE_SIZE, "border": 1, "valign": "top", "text_wrap": True},
    "number": {"font_name": TABLE_FONT, "font_size": TABLE_SIZE, "border": 1, "valign": "top"},
    "rate": {"font_name": TABLE_FONT, "font_size": TABLE_SIZE, "border": 1, "valign": "top", "num_format": "0.0%"},
    "date": {"font_name": TABLE_FONT, "font_size": TABLE_SIZE, "border": 1, "valign": "top",
             "num_format": "yyyy-mm-dd"},
    "dash": {"font_name": TABLE_FONT, "font_size": TABLE_SIZE, "border": 1, "valign": "top", "align": "right"},
}
RATE_COLUMNS = {"按期办结率", "化解率", "占比"}
# Column widths the statistics sheets print with (others are estimated, long text wraps).
WIDTHS = {"反映问题": 30, "时限说明": 34, "来源文件": 16, "口径": 70, "备注": 18, "办理状态": 10, "责任单位": 16}
# 情况报告: four columns, about 17 cm (A4 portrait between the form margins).
PAGE_COLUMNS = (34, 18, 18, 18)
OVERVIEW_COLUMNS = (20, 16, 8, 8, 46)
TIE = "并列"  # shown before a rank several units share (competition ranking: 1, 1, 3)
SHORT_HEADER = 10  # width units (5 CJK characters): a header this short is never wrapped
SMALL_CHART_PX = 20  # a chart row per unit/category, in pixels


def build_report(ledger: Ledger, path: str | Path, *, include_personal_data: bool = False,
                 reporting_unit: str = "", reporter: str = "", principal: str = "", phone: str = "",
                 changes: Any = None, **options: Any) -> tuple[Path, Summary]:
    """Compute the summary of ``ledger`` and write the report workbook to ``path``. ``changes`` (from the
    history store, :class:`xfsheets.history.queries.ChangesResult`) adds its sentence to the 情况报告
    and a 本期变化 sheet."""
    summary = compute_summary(ledger, **options)
    if changes is not None:
        summary.paragraph = summary.paragraph.rstrip() + changes.sentence()
    if not include_personal_data:
        from xfsheets.privacy import mask_text

        summary.paragraph = mask_text(summary.paragraph)  # also what the command line prints
    path = write_report(summary, path, include_personal_data=include_personal_data, reporting_unit=reporting_unit,
                        reporter=reporter, principal=principal, phone=phone,
                        inputs=ledger.frame["_file"].dropna().astype(str).unique().tolist(), changes=changes)
    return path, summary


def write_report(summary: Summary, path: str | Path, *, include_personal_data: bool = False,
                 reporting_unit: str = "", reporter: str = "", principal: str = "", phone: str = "",
                 inputs: list[str] | None = None, changes: Any = None) -> Path:
    """Write the report workbook atomically, through the output gate, stamped as xfsheets' own.

    Unless ``include_personal_data``, identity numbers and phones are masked everywhere in it
    (every table, the paragraph, unit and place names, titles, the 填报 lines) and the file is
    scanned before it is moved into place; anything left refuses it (:class:`PersonalDataError`).
    """
    import xlsxwriter

    from xfsheets.outputs import mark_package
    from xfsheets.privacy import check_bytes, mask_frame, mask_text

    mask = not include_personal_data
    text = mask_text if mask else (lambda v: v)
    table = mask_frame if mask else (lambda f: f)
    path = Path(path)
    s = summary
    with atomic_path(path, inputs or ()) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_numbers": False, "strings_to_formulas": False,
                                            "strings_to_urls": False, "nan_inf_to_errors": True})
        book = _Book(wb, text)
        who = text(s.unit or "")
        wb.set_properties({"title": text(f"{who}信访工作情况报告（{s.period_text}）"), "author": "xfsheets"})
        _report_page(book, s, who, {k: text(v) for k, v in (("unit", reporting_unit or who), ("reporter", reporter),
                                                          ("principal", principal), ("phone", phone))})
        _overview(book, s, who)
        units = _ranks(table(s.by_unit))
        book.table("按责任单位", units, "各责任单位办理情况", chart=("bar", "受理件数", "各责任单位信访事项（件）"))
        book.table("按问题类别", table(s.by_category), "按问题类别", chart=("bar", "件数", "问题类别分布（件）"))
        book.table("按信访形式", table(s.by_channel), "按信访形式")
        if s.by_place is not None:
            book.table("按属地", table(s.by_place), "按问题发生地")
        book.table("按时间", table(s.trend), "信访事项趋势", chart=("line", "件数", "信访事项趋势（件）"))
        book.table("超期清单", table(_file_names(s.overdue)), f"超期未办结事项（截至{cn_date(s.as_of)}）")
        book.table("重复信访", table(_file_names(s.repeated)), "重复信访（同一人就同一问题类别再次信访，跨文件、跨期间比对）")
        headcount = resolve_policy(s.policy).thresholds.collective_headcount
        book.table("集体访", table(s.collective), f"集体访（人数≥{headcount}）")
        if s.skip_level is not None:
            book.table("越级访", table(s.skip_level), "越级访")
        if s.ended is not None:
            book.table(ENDED_SHEET, table(_file_names(s.ended)),
                       f"办理终止事项（{'、'.join(ending_statuses(s.policy))}：不计时限、不算超期、不发督办单）")
        if s.resolution is not None:
            book.table(RESOLUTION_SHEET, table(s.resolution), "化解进展（按“化解情况”一栏，按责任单位）",
                       chart=("bar", "件数", "各责任单位化解进展（件）"))
        if s.leader_load is not None:
            book.table(LEADER_SHEET, table(s.leader_load), "包案领导包案情况")
        if changes is not None:
            book.table("本期变化", table(changes.frame()), f"本期变化（{changes.span_text()}）")
        book.table("说明", table(s.definitions), "统计口径")
        wb.close()
        if mask:
            check_bytes(tmp.read_bytes(), what="汇总报表", file=path)
        mark_package(tmp)
    return path


def _widths(values: pd.DataFrame, dates: list[str]) -> dict[str, float]:
    """Width each column needs: its longest value (of the first rows); a header longer than
    its values wraps onto two lines instead of widening the column."""
    out = {}
    for col, width in estimate_widths(values, date_columns=tuple(dates)).items():
        data = max((text_width(v) for v in values[col].head(200).dropna().astype(str)), default=0)
        data = 10 if col in dates else 7 if col in RATE_COLUMNS else data
        head = text_width(col)
        if data >= head or head <= SHORT_HEADER:  # a short header stays on one line
            out[col] = float(max(width, head + 2))
        else:
            out[col] = float(max(data, -(-head // 2), 4) + 2)
    return out


def _file_names(frame: pd.DataFrame) -> pd.DataFrame:
    """来源文件 as the file's name: a clerk's folders do not travel upward."""
    if "来源文件" not in frame.columns:
        return frame
    names = frame["来源文件"].map(lambda p: PureWindowsPath(str(p)).name if isinstance(p, str) else p)
    return frame.assign(来源文件=names)


def _ranks(units: pd.DataFrame) -> pd.DataFrame:
    """排名 as people read it: competition ranking (1, 1, 3), a shared place marked 并列."""
    if "排名" not in units.columns or units.empty:
        return units
    rank = units["排名"]
    shared = rank.notna() & rank.duplicated(keep=False)
    shown = rank.astype(object).where(rank.notna(), None)
    shown = shown.where(~shared, rank.map(lambda r: f"{TIE}{r}" if pd.notna(r) else None))
    return units.assign(排名=shown)


class _Book:
    """One xlsxwriter workbook with the report's shared formats and its text filter (masking)."""

    def __init__(self, wb, text):
        self.wb = wb
        self.text = text
        self.fmt = {name: wb.add_format(props) for name, props in STYLES.items()}

    def string(self, ws, row: int, col: int, value: Any, fmt: str) -> None:
        ws.write_string(row, col, excel_text(self.text(str(value)), f"工作表「{ws.name}」"), self.fmt[fmt])

    def merged(self, ws, row: int, first: int, last: int, value: Any, fmt: str) -> None:
        ws.merge_range(row, first, row, last, "", self.fmt[fmt])
        self.string(ws, row, first, value, fmt)

    def table(self, name: str, frame: pd.DataFrame, title: str, chart: tuple[str, str, str] | None = None):
        """A statistics sheet: title, header (row 2), rows, the chart under the table. ``frame``
        comes masked (:func:`xfsheets.privacy.mask_frame`) unless personal data is asked for."""
        ws = self.wb.add_worksheet(name)
        values, dates = _for_excel(frame)
        needed = _widths(values, dates)
        widths = {c: float(WIDTHS.get(c, min(w, WRAP_WIDTH))) for c, w in needed.items()}
        wrapped = {c for c, w in needed.items() if w > widths[c]}
        self.string(ws, 0, 0, title, "sheet_title")
        ws.set_row(0, 24)
        for c, col in enumerate(values.columns):
            ws.set_column(c, c, widths[col])
            self.string(ws, 1, c, col, "head")
        if any(text_width(c) + 2 > widths[c] for c in values.columns):
            ws.set_row(1, float(lines_height(2, TABLE_SIZE)))  # a long header wraps onto two lines
        if frame.empty:
            self.string(ws, 2, 0, "（无）", "sheet_note")
        self._rows(ws, values, dates, wrapped)
        if wrapped and len(values):
            lines = np.max([wrapped_lines(values[c], widths[c], TABLE_SIZE) for c in wrapped], axis=0)
            for r in np.flatnonzero(lines > 1).tolist():
                ws.set_row(r + 2, float(lines_height(lines[r], TABLE_SIZE)))
        total = sum(widths.values())
        if len(values.columns):
            ws.freeze_panes(2, 0)
            ws.autofilter(1, 0, 1 + len(values), len(values.columns) - 1)
        if chart and not frame.empty:
            self._chart(ws, values, chart, total)
        page_setup_xlsxwriter(ws, "table", header_row=1, width=total)
        return ws

    def _rows(self, ws, values: pd.DataFrame, dates: list[str], wrapped: set[str]) -> None:
        fmt = self.fmt
        for c, col in enumerate(values.columns):
            kind = ("date" if col in dates else "rate" if col in RATE_COLUMNS else "wrap" if col in wrapped else None)
            column = values[col].tolist()
            for r, v in enumerate(column, 2):
                if v is None or (isinstance(v, float) and v != v) or v is pd.NA:
                    if col in RATE_COLUMNS:
                        ws.write_string(r, c, "—", fmt["dash"])
                    else:
                        ws.write_blank(r, c, None, fmt[kind or "text"])
                elif isinstance(v, str):  # the frame was masked as a whole (mask_frame)
                    ws.write_string(r, c, excel_text(v), fmt[kind or "text"])
                elif isinstance(v, (bool, np.bool_)):
                    ws.write_string(r, c, "是" if v else "否", fmt["text"])
                elif isinstance(v, (int, float, np.integer, np.floating)):
                    ws.write_number(r, c, float(v), fmt[kind or "number"])
                elif isinstance(v, (dt.date, pd.Timestamp)):
                    ws.write_string(r, c, cn_date(v), fmt["text"])
                else:
                    ws.write_string(r, c, excel_text(self.text(str(v))), fmt[kind or "text"])  # not a frame value type

    def _chart(self, ws, values: pd.DataFrame, spec: tuple[str, str, str], total_width: float) -> None:
        kind, column, title = spec
        n = len(values) if kind == "line" else min(len(values), 20)  # the 20 largest keep a bar chart readable
        col = list(values.columns).index(column)
        chart = self.wb.add_chart({"type": kind})
        chart.add_series({"name": [ws.name, 1, col], "categories": [ws.name, 2, 0, 1 + n, 0],
                          "values": [ws.name, 2, col, 1 + n, col], "data_labels": {"value": kind == "bar"}})
        chart.set_title({"name": self.text(title), "name_font": {"name": HEAD_FONT, "size": 12}})
        chart.set_legend({"none": True})
        if kind == "bar":
            chart.set_y_axis({"reverse": True, "num_font": {"name": TABLE_FONT}})  # largest on top, as the table
        width_px = int(max(480, min(total_width, 150) * 7.2))
        height_px = max(260, SMALL_CHART_PX * n + 90) if kind == "bar" else 300
        chart.set_size({"width": width_px, "height": height_px})
        ws.insert_chart(len(values) + 3, 0, chart, {"x_offset": 4, "y_offset": 8, "object_position": 1})


def _report_page(book: _Book, s: Summary, who: str, sign: dict[str, str]) -> None:
    """情况报告: the page a chief signs (portrait A4, 公文 fonts)."""
    ws = book.wb.add_worksheet("情况报告")
    ws.hide_gridlines(2)
    for c, width in enumerate(PAGE_COLUMNS):
        ws.set_column(c, c, width)
    span = sum(PAGE_COLUMNS)
    last = len(PAGE_COLUMNS) - 1
    title = f"关于{who}信访工作情况的报告"
    book.merged(ws, 0, 0, last, title, "title")
    ws.set_row(0, max(48.0, row_height(book.text(title), span, 22)))
    subtitle = f"（统计期间：{s.period_text}；统计截止：{cn_date(s.as_of)}）"
    book.merged(ws, 1, 0, last, subtitle, "subtitle")
    ws.set_row(1, row_height(subtitle, span, PAGE_BODY_SIZE))
    paragraph = "\u3000\u3000" + s.paragraph
    book.merged(ws, 3, 0, last, paragraph, "paragraph")
    ws.set_row(3, row_height(book.text(paragraph), span, PAGE_BODY_SIZE) + 6)
    book.merged(ws, 5, 0, last, "一、主要指标", "heading")
    ws.set_row(5, 28)
    r = 6
    for c, head in enumerate(("指标", "数值", "分子（件）", "分母（件）")):
        book.string(ws, r, c, head, "form_head")
    ws.set_row(r, 26)
    for row in s.headline().itertuples(index=False):
        label, value, num, den = row[0], row[1], row[2], row[3]
        if label == "统计期间":
            continue  # in the subtitle
        r += 1
        ws.set_row(r, 24)
        book.string(ws, r, 0, label, "form_label")
        is_rate = num is not None and not (isinstance(num, float) and num != num)
        if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
            ws.write_number(r, 1, float(value), book.fmt["form_rate" if is_rate else "form_number"])
        else:
            book.string(ws, r, 1, "—" if value is None else value, "form_number")
        for c, part in ((2, num), (3, den)):
            if is_rate:
                ws.write_number(r, c, float(part), book.fmt["form_number"])
            else:
                book.string(ws, r, c, "—", "form_number")
    r += 1
    note = "注：比率口径见“说明”工作表；分子、分母为计算该比率的件数。各单位、各类别明细及超期清单见后附工作表。"
    left_out = [f"{rate.name}{rate.excluded_text}" for rate in s.rates if rate.excluded_text]
    if left_out:  # what a denominator leaves out is said beside the figures, not only on 说明
        note += "无法判断的事项不计入比率：" + "；".join(left_out) + "。"
    book.merged(ws, r, 0, last, note, "note")
    ws.set_row(r, row_height(note, span, 12))
    r += 2
    # 落款: the unit and its seal, the people who answer for the figures, the date.
    lines = [(("填报单位（盖章）", sign["unit"]), None),
             (("负责人", sign["principal"]), ("填报人", sign["reporter"])),
             (("联系电话", sign["phone"]), ("填报日期", cn_date(dt.date.today())))]
    for left, right in lines:
        ws.set_row(r, 34 if right else 56)  # room for the seal beside the unit
        book.string(ws, r, 0, f"{left[0]}：", "sign_label")
        if right is None:
            ws.merge_range(r, 1, r, last, "", book.fmt["sign_line"])
        book.string(ws, r, 1, left[1], "sign_line")
        if right is not None:
            book.string(ws, r, 2, f"{right[0]}：", "sign_label")
            book.string(ws, r, 3, right[1], "sign_line")
        r += 1
    ws.print_area(0, 0, r, last)
    page_setup_xlsxwriter(ws, "document", header_row=None, width=span)
    ws.activate()


def _overview(book: _Book, s: Summary, who: str) -> None:
    """总体情况: the headline table with every rate's counts and definition (the mail quotes it)."""
    ws = book.wb.add_worksheet("总体情况")
    for c, width in enumerate(OVERVIEW_COLUMNS):
        ws.set_column(c, c, width)
    span = sum(OVERVIEW_COLUMNS)
    book.merged(ws, 0, 0, 4, f"{who}信访工作情况统计（{s.period_text}）", "sheet_title")
    ws.set_row(0, row_height(book.text(f"{who}信访工作情况统计（{s.period_text}）"), span, 14))
    book.merged(ws, 1, 0, 4, f"统计截止：{cn_date(s.as_of)}    生成时间：{cn_date(dt.date.today())}", "sheet_note")
    head = s.headline()
    r = 3
    for c, name in enumerate(head.columns):
        book.string(ws, r, c, name, "head")
    for row in head.itertuples(index=False):
        r += 1
        label, value, num, den, note = row
        book.string(ws, r, 0, label, "text")
        if label == "统计期间":  # a text value: spans the count columns instead of running into them
            ws.merge_range(r, 1, r, 3, "", book.fmt["text"])
            book.string(ws, r, 1, value, "text")
        else:
            is_rate = num is not None and not (isinstance(num, float) and num != num)
            if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
                ws.write_number(r, 1, float(value), book.fmt["rate" if is_rate else "number"])
            else:
                book.string(ws, r, 1, value, "dash")
            for c, part in ((2, num), (3, den)):
                if is_rate:
                    ws.write_number(r, c, float(part), book.fmt["number"])
                else:
                    ws.write_blank(r, c, None, book.fmt["number"])
        book.string(ws, r, 4, note or "", "wrap")
        ws.set_row(r, row_height(note, OVERVIEW_COLUMNS[4], TABLE_SIZE))
    r += 2
    book.string(ws, r, 0, "情况综述（可直接复制到报告中）", "sheet_title")
    r += 1
    ws.merge_range(r, 0, r, 4, "", book.fmt["note"])
    book.string(ws, r, 0, s.paragraph, "note")
    ws.set_row(r, row_height(book.text(s.paragraph), span, 12) + 6)
    page_setup_xlsxwriter(ws, "table", header_row=3, width=span)
