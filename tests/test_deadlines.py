"""Deadlines around the 2025 and 2026 holidays (DOMAIN.md section 1), table-driven.

2025: 01-01, 01-28..02-04, 04-04..06, 05-01..05, 05-31..06-02, 10-01..08 off; 01-26, 02-08,
04-27, 09-28, 10-11 worked. 2026: 01-01..03, 02-15..23, 04-04..06, 05-01..05, 06-19..21,
09-25..27, 10-01..07 off; 01-04, 02-14, 02-28, 05-09, 09-20, 10-10 worked.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import DATA
from xfsheets.workdays import WorkCalendar
from xfsheets.cli import main
from xfsheets.deadlines import compute_deadlines
from xfsheets.errors import ConfigError
from xfsheets.reader import read_ledger
from xfsheets.policy import load_policy
from xfsheets.schema import DATE_FIELDS, FIELD_NAMES

D = dt.date


def frame(*rows: dict) -> pd.DataFrame:
    f = pd.DataFrame({k: pd.Series([None] * len(rows), dtype=object) for k in FIELD_NAMES})
    for d in DATE_FIELDS:
        f[d] = pd.Series([pd.NaT] * len(rows), dtype="datetime64[ns]")
    f["extension_days"] = pd.array([None] * len(rows), dtype="Int64")
    for i, row in enumerate(rows):
        for k, v in row.items():
            f.at[i, k] = pd.Timestamp(v) if k in DATE_FIELDS else v
    return f


def one(row: dict, as_of=D(2026, 12, 31), **kw) -> pd.Series:  # after every event below (as_of is a point in time)
    return compute_deadlines(frame(row), as_of=as_of, **kw).iloc[0]


@pytest.mark.parametrize("row,stage,due,why", [
    ({"received_on": "2026-02-20", "accepted_on": "2026-03-02"}, "handle", "2026-05-06", "60日 ends on 劳动节 05-01 -> 05-06"),
    ({"received_on": "2025-01-15"}, "register", "2025-02-05", "15日 ends in 春节 (01-30) -> 02-05"),
    ({"received_on": "2025-09-16"}, "register", "2025-10-09", "15日 ends on 国庆节 10-01 -> 10-09"),
    ({"received_on": "2026-01-30"}, "register", "2026-02-14", "last day is a make-up Saturday: a working day"),
    ({"received_on": "2025-12-17"}, "register", "2026-01-04", "year boundary: 01-01..03 off, make-up Sunday 01-04"),
    ({"received_on": "2025-12-20"}, "register", "2026-01-04", "ends on the make-up Sunday itself"),
    ({"received_on": "2026-05-20"}, "register", "2026-06-04", "an ordinary Thursday: no move"),
    ({"received_on": "2026-05-15"}, "register", "2026-06-01", "Saturday 05-30 -> Monday 06-01"),
    ({"received_on": "2026-03-01", "assigned_on": "2026-03-02"}, "accept", "2026-03-17", "accept: 15日 from 交办"),
    ({"received_on": "2026-01-01", "accepted_on": "2026-03-02", "extension_days": 30}, "handle", "2026-06-01",
     "extension +30: 05-31 Sunday -> 06-01"),
    ({"received_on": "2026-01-01", "accepted_on": "2026-03-02", "review_requested_on": "2026-06-01"}, "review",
     "2026-07-01", "review 30日"),
    ({"received_on": "2026-01-01", "review_requested_on": "2026-06-01", "recheck_requested_on": "2026-09-10"},
     "recheck", "2026-10-10", "recheck 30日 ends on make-up Saturday 10-10"),
])
def test_due_dates(row, stage, due, why):
    r = one(row)
    assert r["stage"] == stage, why
    assert r["due_on"].date().isoformat() == due, why


def test_explanation_names_rule_article_and_every_move():
    r = one({"received_on": "2026-02-20", "accepted_on": "2026-03-02"}, as_of=D(2026, 4, 1))
    assert "受理日期2026年3月2日" in r["explain"] and "第三十四条" in r["explain"] and "60日" in r["explain"]
    # the last day and the day it moved to (past the holiday) are named apart, as a clerk reads them
    assert "期满日2026年5月1日逢劳动节放假，顺延至2026年5月6日" in r["explain"]
    assert "剩余 35 天" in r["explain"]


def test_working_day_rule_counts_make_up_saturday(tmp_path):
    rules_file = tmp_path / "本县规则.toml"  # only what differs from the built-in policy
    rules_file.write_text('[stages.accept]\nlabel = "异议"\ndays = 5\ncounting = "工作日"\n', encoding="utf-8")
    r = one({"received_on": "2026-02-10", "assigned_on": "2026-02-11"}, policy=load_policy(rules_file))
    # 02-12 Thu, 02-13 Fri, 02-14 make-up Sat, (02-15..23 off), 02-24 Tue, 02-25 Wed
    assert r["due_on"].date() == D(2026, 2, 25) and r["limit"] == "5个工作日"


def test_unknown_year_says_which_and_weekends_only_when_asked():
    row = {"received_on": "2026-11-18", "accepted_on": "2026-11-20"}  # 60日 -> 2027-01-19
    r = one(row, as_of=D(2026, 11, 25))
    assert r["flag"] == "unknown" and pd.isna(r["due_on"])
    assert "2027年放假安排尚未收录" in r["explain"] and "--assume-weekends" not in r["explain"]  # said once per run
    r = one(row, as_of=D(2026, 11, 25), assume_weekends=True)
    assert r["due_on"].date() == D(2027, 1, 19) and r["flag"] == "on_track"
    assert "预估" in r["explain"] and r["estimated"]


def test_extension_over_30_days_is_capped_and_said():
    r = one({"received_on": "2026-01-01", "accepted_on": "2026-03-02", "extension_days": 45})
    assert r["due_on"].date() == D(2026, 6, 1) and "超过30日上限" in r["explain"]


@pytest.mark.parametrize("as_of,days_left,flag", [
    (D(2026, 6, 9), 6, "on_track"),
    (D(2026, 6, 10), 5, "due_soon"),
    (D(2026, 6, 15), 0, "due_soon"),
    (D(2026, 6, 16), -1, "overdue"),
    (D(2026, 7, 15), -30, "overdue"),
    (D(2026, 7, 16), -31, "severely_overdue"),
])
def test_flag_boundaries(as_of, days_left, flag):
    r = one({"received_on": "2026-04-10", "accepted_on": "2026-04-16"}, as_of=as_of)  # due Monday 06-15
    assert r["due_on"].date() == D(2026, 6, 15)
    assert r["days_left"] == days_left and r["flag"] == flag


def test_thresholds_are_options():
    r = one({"received_on": "2026-04-10", "accepted_on": "2026-04-16"}, as_of=D(2026, 6, 9), warn_days=6)
    assert r["flag"] == "due_soon"
    r = one({"received_on": "2026-04-10", "accepted_on": "2026-04-16"}, as_of=D(2026, 6, 26), severe_days=10)
    assert r["flag"] == "severely_overdue"


def test_working_days_left():
    r = one({"received_on": "2026-04-10", "accepted_on": "2026-04-16"}, as_of=D(2026, 6, 5))
    # 06-08..12 (5), 06-15 (1): Monday 06-15 is the 6th working day after Friday 06-05
    assert r["working_days_left"] == 6


def test_closed_on_time_and_late():
    base = {"received_on": "2026-02-20", "accepted_on": "2026-03-02", "status": "已办结"}
    assert one({**base, "closed_on": "2026-05-06"}, as_of=D(2026, 7, 1))["flag"] == "closed_on_time"
    assert one({**base, "closed_on": "2026-05-07"}, as_of=D(2026, 7, 1))["flag"] == "closed_late"
    r = one(base, as_of=D(2026, 7, 1))
    assert r["flag"] == "unknown" and "未填写办结日期" in r["explain"]


def test_review_closed_by_its_opinion():
    r = one({"received_on": "2026-01-01", "review_requested_on": "2026-06-01", "review_opinion_on": "2026-06-25",
             "status": "已办结"}, as_of=D(2026, 8, 1))
    assert r["stage"] == "review" and r["flag"] == "closed_on_time"


def test_ledger_due_date_binds_and_warns_when_beyond_the_legal_limit():
    early = one({"received_on": "2026-02-20", "accepted_on": "2026-03-02", "due_on": "2026-04-30"}, as_of=D(2026, 4, 1))
    assert early["due_on"].date() == D(2026, 4, 30) and not early["due_beyond_legal_limit"]
    assert "早于法定期满日，以办理时限为准" in early["explain"]
    # a 交办单 cannot lengthen the statutory period (art. 34): the legal date binds, the later one is a warning
    late = one({"received_on": "2026-02-20", "accepted_on": "2026-03-02", "due_on": "2026-06-30"}, as_of=D(2026, 4, 1))
    assert late["due_on"].date() == D(2026, 5, 6) and late["due_beyond_legal_limit"]
    assert late["legal_due_on"].date() == D(2026, 5, 6) and "办理时限2026年6月30日晚于法定期满日" in late["explain"]
    assert "以法定期满日为准" in late["explain"] and late["due_source"] == "legal"


def test_missing_received_date_is_unknown_with_reason():
    r = one({"status": "办理中"})
    assert r["flag"] == "unknown" and "缺少登记日期" in r["explain"]


def test_holiday_file_adds_a_day_and_a_year(tmp_path):
    csv = tmp_path / "假日.csv"
    csv.write_text("日期,类型,名称\n2027年全年,全年,\n2026-06-15,休,本地假日\n2027-01-01,休,元旦\n2027-01-19,休,测试假日\n",
                   encoding="utf-8")
    cal = WorkCalendar.official(csv)
    r = one({"received_on": "2026-04-10", "accepted_on": "2026-04-16"}, as_of=D(2026, 6, 1), calendar=cal)
    assert r["due_on"].date() == D(2026, 6, 16) and "本地假日放假" in r["explain"]
    r = one({"received_on": "2026-11-18", "accepted_on": "2026-11-20"}, as_of=D(2026, 11, 25), calendar=cal)
    assert r["due_on"].date() == D(2027, 1, 20)  # 2027 is now covered by the user's file


def test_bad_holiday_file_names_row_and_column(tmp_path):
    bad = tmp_path / "假日.csv"
    bad.write_text("日期,类型\n2027-01-01,休\n2027-13-01,休\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        WorkCalendar.official(bad)
    assert "第 3 行" in str(err.value) and "A 列" in str(err.value)


def test_vectorised_result_equals_row_by_row():
    rows = [{"received_on": f"2026-{m:02d}-{d:02d}", "accepted_on": f"2026-{m:02d}-{d + 2:02d}"}
            for m in range(1, 10) for d in range(1, 25, 3)]
    together = compute_deadlines(frame(*rows), as_of=D(2026, 6, 1))["due_on"].tolist()
    alone = [compute_deadlines(frame(r), as_of=D(2026, 6, 1))["due_on"].iloc[0] for r in rows]
    assert together == alone


# --- CLI and the annotated copy ----------------------------------------------------------

RATES = DATA / "summary" / "rates.xlsx"


def test_cli_json_shape():
    r = CliRunner().invoke(main, ["deadlines", str(RATES), "--as-of", "2026-07-15", "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["as_of"] == "2026-07-15"
    a5 = next(c for c in doc["cases"] if c["case_id"] == "A5")
    assert a5 == {**a5, "row": 6, "stage": "register", "start_on": "2026-04-20", "due_on": "2026-05-06",
                  "days_left": -70, "flag": "severely_overdue"}
    assert set(a5) >= {"file", "sheet", "row", "case_id", "stage", "start_on", "limit", "due_on", "days_left",
                       "working_days_left", "flag", "explain"}


def test_annotated_copy_added_then_refreshed_not_duplicated(tmp_path):
    src = tmp_path / "台账.xlsx"
    shutil.copy(RATES, src)
    before = src.read_bytes()
    out1 = tmp_path / "时限.xlsx"
    assert CliRunner().invoke(main, ["deadlines", str(src), "--as-of", "2026-07-15", "-o", str(out1)]).exit_code == 0
    assert src.read_bytes() == before
    ws = openpyxl.load_workbook(out1)["台账"]
    header = [c.value for c in ws[1]]
    assert header[-6:] == ["当前阶段", "法定期限", "应办结日期（按时限计算）", "剩余天数", "预警", "时限说明"]
    col = {h: i + 1 for i, h in enumerate(header)}
    a5 = 6
    assert ws.cell(a5, col["预警"]).value == "严重超期" and ws.cell(a5, col["剩余天数"]).value == -70
    assert ws.cell(a5, col["预警"]).fill.fgColor.rgb.endswith("FF9999")
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    out2 = tmp_path / "时限2.xlsx"
    assert CliRunner().invoke(main, ["deadlines", str(out1), "--as-of", "2026-07-20", "-o", str(out2)]).exit_code == 0
    header2 = [c.value for c in openpyxl.load_workbook(out2)["台账"][1]]
    assert header2 == header  # refreshed in place
    ws2 = openpyxl.load_workbook(out2)["台账"]
    assert ws2.cell(a5, col["剩余天数"]).value == -75


def test_calendar_command():
    r = CliRunner().invoke(main, ["calendar", "2026", "--json"])
    doc = json.loads(r.stdout)
    days = {d["日期"]: d for d in doc["days"]}
    assert days["2026-02-14"]["类型"] == "班" and days["2026-10-01"]["类型"] == "休" and doc["known"]
    r = CliRunner().invoke(main, ["calendar", "2027"])
    assert "尚未收录" in r.output


# --- a ledger as bureaux keep it: title row, header in row 3 (tests/data/deadlines/title_rows.xlsx) ----

TITLE_ROWS = DATA / "deadlines" / "title_rows.xlsx"
HOLIDAYS_2027 = DATA / "deadlines" / "holidays_2027.xlsx"


def test_title_rows_ledger_read_from_disk():
    ledger = read_ledger(TITLE_ROWS)
    r = compute_deadlines(ledger, as_of=D(2026, 11, 25))
    by_id = dict(zip(ledger.frame["case_id"], r.to_dict("records")))
    assert by_id["T1"]["flag"] == "severely_overdue" and by_id["T1"]["due_on"].date() == D(2026, 5, 6)
    assert by_id["T2"]["flag"] == "on_track" and by_id["T2"]["days_left"] == 13  # 10-09 + 60 = 12-08
    assert by_id["T3"]["flag"] == "closed_late" and pd.isna(by_id["T3"]["days_left"])
    t4 = by_id["T4"]  # registered 12-10: on 11-25 it was not a matter yet (as_of is a point in time)
    assert t4["flag"] == "unknown" and pd.isna(t4["due_on"]) and "截至2026年11月25日尚未登记" in t4["explain"]


def test_unknown_year_resolved_by_holiday_file_or_weekends_cli():
    base = ["deadlines", str(TITLE_ROWS), "--as-of", "2026-12-25", "--json"]  # T4 交办 12-20: 15日 into 2027
    cases = lambda extra: {c["case_id"]: c for c in json.loads(CliRunner().invoke(main, base + extra).stdout)["cases"]}
    assert cases([])["T4"]["flag"] == "unknown"
    # with the 2027 file: 01-04 is off there, so the period ends 01-05
    t4 = cases(["--holidays", str(HOLIDAYS_2027)])["T4"]
    assert t4["due_on"] == "2027-01-05" and t4["flag"] == "on_track" and "元旦补休" in t4["explain"]
    t4 = cases(["--assume-weekends"])["T4"]
    assert t4["due_on"] == "2027-01-04" and "预估" in t4["explain"] and t4["estimated"]


def test_annotated_copy_below_title_rows(tmp_path):
    before = TITLE_ROWS.read_bytes()
    out = tmp_path / "时限.xlsx"
    r = CliRunner().invoke(main, ["deadlines", str(TITLE_ROWS), "--as-of", "2026-11-25", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert TITLE_ROWS.read_bytes() == before
    ws = openpyxl.load_workbook(out)["信访台账"]
    assert ws["A1"].value.startswith("某县") and "A1:H1" in {str(m) for m in ws.merged_cells.ranges}
    header = [c.value for c in ws[3]]
    assert header[8:14] == ["当前阶段", "法定期限", "应办结日期（按时限计算）", "剩余天数", "预警", "时限说明"]
    assert [ws.cell(r, 13).value for r in range(4, 8)] == ["严重超期", "正常", "超期办结", "无法判断"]
    assert ws.cell(5, 10).value.date() == D(2026, 12, 8) and ws.cell(5, 11).value.date() == D(2026, 12, 8)
    assert ws.cell(5, 12).value == 13
    assert ws.cell(5, 13).fill.fgColor.rgb.endswith("C6EFCE") and ws.cell(6, 13).fill.fill_type is None
    assert ws.freeze_panes == "A4" and ws.auto_filter.ref == "A3:N7"


def test_output_with_several_ledgers_is_refused(tmp_path):
    out = tmp_path / "时限.xlsx"
    r = CliRunner().invoke(main, ["deadlines", str(TITLE_ROWS), str(RATES), "-o", str(out)])
    assert r.exit_code == 2 and "-o 只能用于一个台账文件" in r.output and not out.exists()
    r = CliRunner().invoke(main, ["deadlines", str(TITLE_ROWS), str(RATES), "--as-of", "2026-11-25", "--json"])
    assert r.exit_code == 0 and {c["file"] for c in json.loads(r.stdout)["cases"]} == {str(TITLE_ROWS), str(RATES)}
