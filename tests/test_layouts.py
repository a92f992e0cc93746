"""Ledgers as counties keep them (tests/data/layouts, made by tests/data/make_layouts.py):
every command reads every layout without a traceback, accounts for every row, and gets
the known facts of each file (layouts/truth.json) right."""
from __future__ import annotations

import json

import pandas as pd

import pytest
from click.testing import CliRunner

from conftest import DATA, digest
from xfsheets.cli import main
from xfsheets.reader import read_ledger

L = DATA / "layouts"
TRUTH = json.loads((L / "truth.json").read_text(encoding="utf-8"))
AS_OF = TRUTH["as_of"]
PENDING: set[str] = set()
READABLE = sorted(name for name, t in TRUTH.items()
                  if isinstance(t, dict) and "matters" in t and (L / name).exists() and name not in PENDING)


def run(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.output, result.exception)
    return result


@pytest.mark.parametrize("name", READABLE)
def test_every_command_reads_the_layout(name, tmp_path):
    path = L / name
    before = digest(path)
    truth = TRUTH[name]
    doc = json.loads(run("inspect", str(path), "--json").stdout)
    rows = sum(f["rows"] for f in doc["files"])
    skipped = sum(len(f["skipped"]) for f in doc["files"])
    assert rows == truth["matters"]
    # rows in = rows out + listed skipped rows: every sheet row below a header is accounted for
    assert rows + skipped == truth["rows_in"]
    check = run("check", str(path), "--json")
    findings = json.loads(check.stdout)["findings"]
    codes: dict[str, int] = {}
    for f in findings:
        codes[f["code"]] = codes.get(f["code"], 0) + 1
    assert codes == truth["findings"]
    assert check.exit_code == (1 if any(f["severity"] == "error" for f in findings) else 0)
    dl = run("deadlines", str(path), "--json", "--as-of", AS_OF)
    assert dl.exit_code in (0, 1)
    cases = json.loads(dl.stdout)["cases"]
    assert len(cases) == truth["matters"]
    assert digest(path) == before


@pytest.mark.parametrize("name", [n for n in READABLE if n.startswith("merged_unit_leader_date")])
def test_merged_unit_leader_and_date_belong_to_every_row(name):
    truth = TRUTH[name]
    ledger = read_ledger(L / name)
    assert ledger.frame["unit"].tolist() == truth["units"]
    assert ledger.frame["leader"].tolist() == truth["leaders"]
    assert [d.date().isoformat() for d in ledger.frame["received_on"]] == truth["received_on"]
    assert ledger.raw["unit"].tolist() == truth["units"]  # the as-typed table too
    findings = json.loads(run("check", str(L / name), "--json").stdout)["findings"]
    assert not [f for f in findings if f["code"] == "required_missing" and f["field"] in ("unit", "leader", "received_on")]


def test_merged_ranges_are_kept_on_the_source_and_shown_by_inspect():
    ledger = read_ledger(L / "merged_unit_leader_date.xlsx")
    src = ledger.sources[0]
    filled = TRUTH["merged_unit_leader_date.xlsx"]["filled"]
    for letter, count in filled.items():
        assert len([m for m in src.filled if m.first_col == letter]) == count
    unit = next(m for m in src.filled if m.first_col == "H")
    assert (unit.ref, unit.field, unit.value) == ("H2:H6", "unit", "县人社局")
    assert src.top_left(4, "H") == (2, "H") and src.top_left(4, "B") == (4, "B")
    doc = json.loads(run("inspect", str(L / "merged_unit_leader_date.xlsx"), "--json").stdout)
    assert {"range": "H7:H11", "field": "unit", "value": "城关镇"}.items() <= next(
        m for m in doc["files"][0]["merged"] if m["range"] == "H7:H11").items()
    text = run("inspect", str(L / "merged_unit_leader_date.xlsx")).output
    assert "合并单元格" in text and "H2:H6「县人社局」" in text


def test_open_matters_of_merged_units_all_get_deadlines():
    name = "merged_unit_leader_date.xlsx"
    cases = json.loads(run("deadlines", str(L / name), "--json", "--as-of", AS_OF).stdout)["cases"]
    open_ = [c for c in cases if c["flag"] not in ("closed_on_time", "closed_late")]
    assert len(open_) == TRUTH[name]["open"]
    assert all(c["stage"] == "handle" for c in open_)


def test_rows_starting_with_total_or_note_words_are_matters_when_they_name_one():
    name = "title_and_unit_line.xlsx"
    truth = TRUTH[name]
    ledger = read_ledger(L / name)
    assert ledger.frame["case_id"].tolist() == truth["case_ids"]
    assert "合计拖欠工资3.2万元未支付" in ledger.frame["summary"].tolist()
    assert ledger.sources[0].skipped == [(int(r), why) for r, why in truth["skipped"].items()]
    assert ledger.sources[0].meta["填报单位"] == truth["meta"]["填报单位"]
    text = run("inspect", str(L / name)).output
    assert "合计行 1 行：第 10 行" in text and "表尾说明 1 行：第 12 行" in text


def test_two_row_header_with_vertical_spans_maps_the_spanning_columns():
    name = "two_row_header_vertical_spans.xlsx"
    src = read_ledger(L / name).sources[0]
    assert src.header_rows == TRUTH[name]["header_rows"]
    fields = {c.letter: c.field for c in src.columns}
    for letter, field in TRUTH[name]["fields"].items():
        assert fields[letter] == field


@pytest.mark.parametrize("name", [n for n in READABLE if n.startswith(("monthly_sheets", "yearly_sheets"))])
def test_every_ledger_sheet_is_read_and_the_others_are_listed(name):
    truth = TRUTH[name]
    ledger = read_ledger(L / name)
    assert ledger.frame["_sheet"].value_counts().to_dict() == truth["sheets"]
    assert [s.sheet for s in ledger.sources] == list(truth["sheets"])
    assert [s.sheet for s in ledger.skipped_sheets] == truth.get("skipped_sheets", [])
    assert all(s.reason for s in ledger.skipped_sheets)
    # each row keeps its own sheet and Excel row
    first = ledger.frame.groupby("_sheet", sort=False)["_row"].min().to_dict()
    assert set(first.values()) <= {2, 3}
    doc = json.loads(run("inspect", str(L / name), "--json").stdout)
    assert [f["sheet"] for f in doc["files"]] == list(truth["sheets"])
    assert [s["sheet"] for s in doc["skipped_sheets"]] == truth.get("skipped_sheets", [])


def test_sheet_option_picks_one_sheet():
    ledger = read_ledger(L / "monthly_sheets_with_instructions.xlsx", sheet="2月")
    assert len(ledger) == 10 and set(ledger.frame["_sheet"]) == {"2月"}
    result = run("inspect", str(L / "yearly_sheets.xlsx"), "--sheet", "2026年", "--json")
    assert [f["sheet"] for f in json.loads(result.stdout)["files"]] == ["2026年"]


def test_consolidate_keeps_every_monthly_sheet(tmp_path):
    out = tmp_path / "all.xlsx"
    result = run("consolidate", str(L / "monthly_sheets_with_instructions.xlsx"), str(L / "yearly_sheets.xlsx"),
                 "-o", str(out), "--json")
    doc = json.loads(result.stdout)
    assert doc["rows_in"] == 27 + 11


@pytest.mark.parametrize("name", ["gb18030.csv", "utf8_bom.csv"])
def test_csv_every_cell_is_text_so_ids_keep_their_digits(name):
    truth = TRUTH[name]
    ledger = read_ledger(L / name)
    assert ledger.frame["case_id"].tolist() == truth["case_ids"]  # leading zeros kept
    assert ledger.frame["id_number"].tolist() == truth["id_numbers"]
    assert ledger.frame["phone"].tolist() == truth["phones"]
    assert ledger.frame["petitioner"].tolist() == truth["petitioners"]
    assert ledger.frame["received_on"].notna().all()
    assert "，" in ledger.frame["summary"].iloc[0]  # a quoted comma stays in its cell


def test_excel4_macro_sheet_is_skipped_and_the_ledger_read():
    ledger = read_ledger(L / "excel4_macro_sheet.xlsm")
    assert len(ledger) == TRUTH["excel4_macro_sheet.xlsm"]["matters"]
    assert [(s.sheet, "宏表" in s.reason) for s in ledger.skipped_sheets] == [("Macro1", True)]


def test_excel_2_to_4_files_get_an_honest_message():
    result = run("inspect", str(L / "excel4_biff4.xls"), "--json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert "Excel 4.0" in error["message"] and "另存为" in error["message"] and "网页" not in error["message"]
    assert "不要另存为 CSV" in error["message"]


def test_unreadable_wps_file_says_how_to_save_it(tmp_path):
    bad = tmp_path / "乡镇台账.et"
    bad.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    from xfsheets.errors import LedgerReadError

    with pytest.raises(LedgerReadError) as err:
        read_ledger(bad)
    text = str(err.value)
    assert "WPS" in text and ".xlsx" in text and "不要另存为 CSV" in text


def test_html_saved_as_xls_is_called_a_web_page(tmp_path):
    page = tmp_path / "台账.xls"
    page.write_bytes("<html><table><tr><td>信访件编号</td></tr></table></html>".encode())
    result = run("inspect", str(page), "--json")
    assert result.exit_code == 2 and "网页" in json.loads(result.stdout)["error"]["message"]


def test_consolidate_picks_up_every_supported_format(tmp_path):
    import shutil

    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("gb18030.csv", "merged_unit_leader_date.ods", "wps_saved.et", "merged_unit_leader_date.xls"):
        shutil.copy(L / name, folder / name)
    doc = json.loads(run("consolidate", str(folder), "-o", str(tmp_path / "out.xlsx"), "--json").stdout)
    assert len(doc["files"]) == 4 and not [f for f in doc["files"] if f["error"]]
    assert doc["rows_in"] == 5 + 30 + 30 + 30


# --- never invent a deadline; dates and day counts as people type them ------------------------

@pytest.mark.parametrize("name", ["no_assigned_accepted_columns.xlsx", "unreadable_dates_extensions.xlsx"])
def test_known_deadline_flags(name):
    cases = json.loads(run("deadlines", str(L / name), "--json", "--as-of", AS_OF).stdout)["cases"]
    flags = {str(c["row"]): c for c in cases}
    for row, flag in TRUTH[name]["flags"].items():
        case = flags[row]
        assert case["flag"] == flag, (row, case)
        if flag == "unknown":
            assert case["due_on"] is None and case["days_left"] is None
            assert case["explain"].startswith("无法判断") and "20" not in case["explain"].split("：", 1)[0]


def test_missing_columns_say_which_column():
    cases = json.loads(run("deadlines", str(L / "no_assigned_accepted_columns.xlsx"), "--json",
                           "--as-of", AS_OF).stdout)["cases"]
    by_row = {c["row"]: c["explain"] for c in cases}
    assert "没有“受理日期”列" in by_row[2] and "办理中" in by_row[2]
    assert "没有“交办日期”列" in by_row[5]
    assert not [c for c in cases if c["flag"] in ("overdue", "severely_overdue")]


def test_unreadable_cells_are_named_with_what_was_typed():
    cases = {c["row"]: c for c in json.loads(run("deadlines", str(L / "unreadable_dates_extensions.xlsx"), "--json",
                                                 "--as-of", AS_OF).stdout)["cases"]}
    assert "H10" in cases[10]["explain"] and "一个月" in cases[10]["explain"]
    assert "G11" in cases[11]["explain"] and "2026年2月30日" in cases[11]["explain"]
    findings = json.loads(run("check", str(L / "unreadable_dates_extensions.xlsx"), "--json").stdout)["findings"]
    codes = {(f["code"], f["row"], f["column"]) for f in findings}
    assert ("bad_number", 10, "H") in codes and ("bad_date", 11, "G") in codes
    assert ("date_out_of_range", 14, "B") in codes
    assert next(f for f in findings if f["code"] == "date_out_of_range")["severity"] == "warning"
    # /, —, -, 无 mean "not applicable": never a bad date
    assert not [f for f in findings if f["code"] == "bad_date" and f["row"] in (12, 13)]


def test_dates_and_extensions_as_typed_are_understood():
    ledger = read_ledger(L / "unreadable_dates_extensions.xlsx")
    frame = ledger.frame.set_index("_row")
    for row, expected in TRUTH["unreadable_dates_extensions.xlsx"]["rows"].items():
        for field, value in expected.items():
            if field in ("flag", "warning"):
                continue
            got = frame.at[int(row), field]
            got = None if got is None or got is pd.NA or got != got else got
            if hasattr(got, "date"):
                got = got.date().isoformat()
            assert got == value, (row, field, got)


@pytest.mark.parametrize("typed,days", [
    (30, 30), ("30", 30), ("30天", 30), ("30日", 30), ("三十", 30), ("三十日", 30), ("延期30天", 30),
    ("30（已批准）", 30), ("延长十五日", 15), ("二十五天", 25), ("一个月", None), ("30个工作日", None), ("-5", None)])
def test_extension_day_forms(typed, days):
    from xfsheets.normalize import parse_day_count

    assert parse_day_count(typed) == days


def test_month_day_without_a_year_is_not_guessed():
    from xfsheets.reader import ledger_from_rows

    rows = [["信访件编号", "登记日期", "信访人", "反映问题"], ["A-1", "3月5日", "张三", "问题"]]
    ledger = ledger_from_rows(rows, file="台账.xlsx", sheet="Sheet1")
    assert ledger.frame["received_on"].isna().all()
    from xfsheets.checks import check

    finding = next(f for f in check(ledger).findings if f.code == "bad_date")
    assert "没有年份" in finding.message
    ledger = ledger_from_rows(rows, file="台账.xlsx", sheet="2025年3月")
    assert ledger.frame["received_on"].iloc[0] == pd.Timestamp(2025, 3, 5)


def test_explanation_shows_the_typed_start_date_never_a_fallback():
    import datetime as dt

    from xfsheets.deadlines import compute_deadlines
    from xfsheets.reader import ledger_from_rows

    rows = [["信访件编号", "登记日期", "信访人", "反映问题", "办理状态"],
            ["A", dt.datetime(2062, 3, 2), "张三", "问题", "待受理"], ["B", dt.datetime(1990, 3, 2), "李四", "问题", "待受理"]]
    result = compute_deadlines(ledger_from_rows(rows, file="x.xlsx", sheet="s"), as_of=dt.date(2026, 4, 20))
    assert result["flag"].tolist() == ["unknown", "unknown"]
    assert "2062年3月2日" in result["explain"].iloc[0] and "1990年3月2日" in result["explain"].iloc[1]
    assert not any("2000年1月1日" in e for e in result["explain"])


@pytest.mark.parametrize("source,target,matters", [
    ("merged_unit_leader_date.xlsx", "模板.xltx", 30), ("excel4_macro_sheet.xlsm", "宏模板.xltm", 3),
    ("merged_unit_leader_date.xls", "wps模板.ett", 30)])
def test_templates_and_wps_templates_are_read(tmp_path, source, target, matters):
    import shutil

    shutil.copy(L / source, tmp_path / target)
    ledger = read_ledger(tmp_path / target)
    assert len(ledger) == matters
    if "macro" in source:
        assert [s.sheet for s in ledger.skipped_sheets] == ["Macro1"]
    else:
        assert ledger.frame["unit"].notna().all()  # merges came through


def test_sheet_option_of_a_batch_does_not_refuse_a_csv():
    assert len(read_ledger(L / "utf8_bom.csv", sheet="2月")) == TRUTH["utf8_bom.csv"]["matters"]
