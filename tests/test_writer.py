"""The fast styled table writer (xfsheets.writer.write_tables), checked by re-reading with openpyxl."""
from __future__ import annotations

import datetime as dt

import numpy as np
import openpyxl
import pandas as pd
import pytest

from xfsheets.writer import MAX_WIDTH, Table, text_width, write_tables


def _frame(n: int = 300) -> pd.DataFrame:
    days = pd.date_range("2025-12-20", periods=n, freq="D")
    received = pd.Series(days).where(np.arange(n) % 7 != 3)  # some NaT
    return pd.DataFrame({
        "信访件编号": [f"X2026-{k:05d}" for k in range(n)],
        "登记日期": received,
        "信访人": np.where(np.arange(n) % 2 == 0, "张三", "欧阳秀英"),
        "人数": pd.array([k % 9 if k % 5 else None for k in range(n)], dtype="Int64"),
        "反映问题": ["拖欠农民工工资，要求尽快支付" * 6] * n,
        "比例": np.linspace(0, 1, n),
        "状态": pd.array(["已办结" if k % 3 else None for k in range(n)], dtype="string"),
    })


def test_several_formatted_sheets_reread_from_disk(tmp_path):
    frame = _frame()
    other = pd.DataFrame({"来源文件": ["城关镇.xlsx"], "读取行数": [12]})
    path = write_tables(tmp_path / "out.xlsx", [Table("汇总台账", frame, widths={"信访人": 20}),
                                                 Table("导入情况", other)])
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["汇总台账", "导入情况"]
    ws = wb["汇总台账"]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == list(frame.columns)
    assert len(rows) == 1 + len(frame)
    # Chinese text, numbers, nullable integers and dates come back as written
    assert [r[0] for r in rows[1:]] == list(frame["信访件编号"])
    assert [r[2] for r in rows[1:]] == list(frame["信访人"])
    assert [None if r[3] is None else int(r[3]) for r in rows[1:]] == [
        None if pd.isna(v) else int(v) for v in frame["人数"]]
    assert [r[6] for r in rows[1:]] == [None if pd.isna(v) else v for v in frame["状态"]]
    assert [r[5] for r in rows[1:]] == pytest.approx(list(frame["比例"]))
    expected_dates = [None if pd.isna(v) else v.to_pydatetime() for v in frame["登记日期"]]
    assert [r[1] for r in rows[1:]] == expected_dates
    first_date = ws.cell(2, 2)
    assert isinstance(first_date.value, dt.datetime) and first_date.number_format == "yyyy-mm-dd"
    # header style, frozen header, filter over every row and column
    assert all(c.font.b for c in ws[1])
    assert ws["A1"].fill.fgColor.rgb.endswith("DDEBF7")
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:G{len(frame) + 1}"
    # widths: explicit one honoured, CJK text wider than codes, long text capped
    widths = {k: v.width for k, v in ws.column_dimensions.items()}
    assert widths["C"] == pytest.approx(20, abs=1)
    assert widths["E"] <= MAX_WIDTH + 1 and widths["E"] > widths["A"]
    assert widths["B"] >= 10  # a date fits
    assert wb["导入情况"].freeze_panes == "A2"
    assert list(wb["导入情况"].iter_rows(values_only=True)) == [("来源文件", "读取行数"), ("城关镇.xlsx", 12)]


def test_a_column_mixing_text_dates_and_numbers_keeps_every_value(tmp_path):
    # a date field keeping what was typed: text, dates, blanks (NaT), a number beside the dates
    mixed = pd.Series(["待定", pd.Timestamp("2026-03-05"), pd.NaT, np.nan, None, 20260305, 2.5, dt.date(2026, 1, 2)],
                      dtype=object)
    numbers_and_text = pd.Series([3, "三", 4.5, None, "x", 1, 2, 3], dtype=object)
    path = write_tables(tmp_path / "m.xlsx", [Table("表", pd.DataFrame({"登记日期": mixed, "人数": numbers_and_text}))])
    ws = openpyxl.load_workbook(path)["表"]
    dates = [c.value for c in ws["A"]][1:]
    assert dates == ["待定", dt.datetime(2026, 3, 5), None, None, None, "20260305", "2.5", dt.datetime(2026, 1, 2)]
    assert ws["B2"].value == 3 and ws["B2"].number_format == "General"  # no dates: numbers stay numbers
    assert [c.value for c in ws["B"]][1:] == [3, "三", 4.5, None, "x", 1, 2, 3]


def test_an_empty_table_writes_its_header_alone(tmp_path):
    empty = pd.DataFrame({"重复类型": pd.Series([], dtype=object), "登记日期": pd.Series([], dtype="datetime64[ns]")})
    path = write_tables(tmp_path / "e.xlsx", [Table("重复记录", empty)])
    ws = openpyxl.load_workbook(path)["重复记录"]
    assert list(ws.iter_rows(values_only=True)) == [("重复类型", "登记日期")]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "汇总.xlsx"
    target.write_bytes(b"previous output")
    with pytest.raises(Exception):
        write_tables(target, [Table("a", pd.DataFrame({"x": [1]})), Table("a", pd.DataFrame({"x": [2]}))])
    assert target.read_bytes() == b"previous output"
    assert [p.name for p in tmp_path.iterdir()] == ["汇总.xlsx"]


def test_text_width_counts_cjk_double():
    assert text_width("ab") == 2
    assert text_width("信访") == 4
    assert text_width(None) == 0
