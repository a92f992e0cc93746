"""The button entry points, run against xlwings' own remote engine (no Excel here).

A payload like the one an xlwings client sends (the workbook's sheets and values) becomes
``xw.Book(json=payload)``; ``xw.Book.caller`` is patched to return it; the entry runs; the
test reads the actions the engine would send back to Excel (``book.json()``).
XLWINGS_LICENSE_KEY=noncommercial is set for the tests only (PolyForm Noncommercial).
"""
from __future__ import annotations

import datetime as dt

import pytest
import xlwings as xw
from python_calamine import CalamineWorkbook

import xfsheets.excel as x
from conftest import DATA


def payload(path, extra_sheets=(), notes=()) -> dict:
    wb = CalamineWorkbook.from_path(str(path))
    sheets = []
    for name in wb.sheet_names:
        rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        values = [[v.date().isoformat() if isinstance(v, dt.datetime) else (None if v == "" else v) for v in row]
                  for row in rows]
        sheets.append({"name": name, "values": values or [[]], "pictures": [], "tables": [],
                       "notes": [{"address": a} for a in notes] if not sheets else []})
    sheets += [{"name": n, "values": v, "pictures": [], "tables": [], "notes": []} for n, v in extra_sheets]
    return {"client": "Office.js", "version": xw.__version__,
            "book": {"name": path.name, "active_sheet_index": 0, "selection": "A1"}, "names": [], "sheets": sheets}


@pytest.fixture
def caller(monkeypatch, tmp_path):
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    monkeypatch.delenv("XFSHEETS_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)  # the remote book has no folder: outputs go to the working folder
    books = {}

    def use(path, extra_sheets=(), notes=()):
        book = xw.Book(json=payload(path, extra_sheets, notes))
        monkeypatch.setattr(xw.Book, "caller", classmethod(lambda cls: book))
        books["book"] = book
        return book

    return use


def actions(book, func=None):
    return [a for a in book.json()["actions"] if func is None or a["func"] == func]


def alert_text(book) -> tuple[str, str]:
    (a,) = actions(book, "alert")
    return a["args"][0], a["args"][3]


def test_check_ledger_marks_a_copy_and_leaves_the_open_book_alone(caller, tmp_path):
    """检查台账 writes its marks into a copy beside the ledger (tests/test_addin_round2.py reads it back)."""
    import shutil

    shutil.copy(DATA / "checks" / "defects.xlsx", tmp_path / "defects.xlsx")
    book = caller(tmp_path / "defects.xlsx")
    x.check_ledger()
    assert [a["func"] for a in book.json()["actions"]] == ["alert"]  # no fill, note, sheet or value in the book
    text, mode = alert_text(book)
    assert "14 个错误、2 个警告" in text and "没有任何改动" in text and mode == "info"
    assert list((tmp_path / "xfsheets输出").glob("检查标注_*/defects_检查标注.xlsx"))


def test_compute_deadlines_adds_owned_columns_only(caller):
    book = caller(DATA / "summary" / "rates.xlsx")
    x.compute_deadlines()
    writes = actions(book, "setValues")
    header = {a["start_column"]: a["values"][0][0] for a in writes if a["start_row"] == 0}
    assert list(header.values()) == ["当前阶段", "法定期限", "应办结日期（按时限计算）", "剩余天数", "预警", "时限说明"]
    assert min(header) == 18  # right of the last used column (R)
    assert all(a["start_column"] >= 18 for a in writes)  # nothing else is written
    flag_col = [c for c, v in header.items() if v == "预警"][0]
    flags = next(a for a in writes if a["start_column"] == flag_col and a["start_row"] == 1)["values"]
    # the button judges "today": these April 2026 matters are long past their dates whenever the test runs
    assert [r[0] for r in flags] == ["按期办结", "超期办结", "严重超期", "按期办结", "严重超期", "严重超期", "按期办结"]
    text, _ = alert_text(book)
    assert text.startswith("时限计算完成")


def test_make_slips_and_report_write_beside_the_ledger(caller, tmp_path):
    book = caller(DATA / "slips" / "ledger.xlsx")
    x.make_slips()
    text, mode = alert_text(book)
    assert mode == "info" and "份交办单" in text
    assert list((tmp_path / "xfsheets输出").glob("交办单_*/交办单_县人社局.xlsx"))
    book = caller(DATA / "summary" / "rates.xlsx")
    x.make_report()
    text, _ = alert_text(book)
    assert "汇总表已生成" in text and list((tmp_path / "xfsheets输出").glob("汇总表_*/信访工作统计_*.xlsx"))


def test_send_report_without_smtp_writes_a_draft(caller, tmp_path):
    book = caller(DATA / "summary" / "rates.xlsx")
    x.send_report()
    text, _ = alert_text(book)
    assert "邮件草稿" in text
    (eml,) = list((tmp_path / "xfsheets输出").glob("汇总表_*/*.eml"))
    assert b"450324199001011234" not in eml.read_bytes()


def test_errors_show_as_a_message_box_not_a_traceback(caller):
    book = caller(DATA / "reader" / "no_ledger.xlsx")
    x.check_ledger()
    text, mode = alert_text(book)
    assert mode == "critical" and "找不到台账表头" in text
    assert actions(book, "setRangeColor") == [] and actions(book, "addSheet") == []


def test_a_press_shows_progress_in_excels_status_bar_and_gives_it_back(monkeypatch):
    """The remote engine has no status bar; a stand-in book records what Excel's would show."""
    seen = []

    class App:
        def __setattr__(self, name, value):
            seen.append((name, value))

        def alert(self, *a, **k):
            pass

    class Book:
        app = App()

    monkeypatch.setattr(x, "_xw", lambda: type("xw", (), {"Book": type("B", (), {"caller": staticmethod(Book)})}))
    x.button(lambda book: "完成")()
    assert seen[0][0] == "status_bar" and "正在处理" in seen[0][1] and seen[-1] == ("status_bar", False)
