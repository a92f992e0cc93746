"""The working-day calendar: official 2025/2026 schedule (DOMAIN.md section 1), the user's holiday
file (.xlsx read from disk, CSV), unknown years, and the vectorised day arrays."""
from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import DATA
from xfsheets.workdays import WorkCalendar, read_holiday_file
from xfsheets.cli import main
from xfsheets.deadlines import calendar_due, workday_due
from xfsheets.errors import ConfigError

D = dt.date
HOLIDAYS_2027 = DATA / "deadlines" / "holidays_2027.xlsx"


def first_uncovered_year() -> int:
    """The first year chinese-calendar itself has no schedule for (it raises for such a day)."""
    import chinese_calendar

    year = 2025  # covered (test_official_days)
    while True:
        try:
            chinese_calendar.is_workday(D(year, 1, 1))
        except NotImplementedError:
            return year
        year += 1


UNCOVERED = first_uncovered_year()


@pytest.fixture(scope="module")
def official() -> WorkCalendar:
    return WorkCalendar.official()


def is_work(cal: WorkCalendar, day: dt.date) -> bool:
    return bool(cal.is_work[cal.index(day)])


@pytest.mark.parametrize("day,work", [
    (D(2026, 1, 1), False), (D(2026, 1, 3), False), (D(2026, 1, 4), True),  # 元旦, make-up Sunday
    (D(2026, 2, 14), True), (D(2026, 2, 15), False), (D(2026, 2, 23), False), (D(2026, 2, 24), True),
    (D(2026, 2, 28), True), (D(2026, 5, 1), False), (D(2026, 5, 5), False), (D(2026, 5, 9), True),
    (D(2026, 6, 19), False), (D(2026, 9, 20), True), (D(2026, 10, 7), False), (D(2026, 10, 10), True),
    (D(2025, 1, 26), True), (D(2025, 1, 28), False), (D(2025, 2, 4), False), (D(2025, 2, 8), True),
    (D(2025, 4, 27), True), (D(2025, 5, 31), False), (D(2025, 10, 8), False), (D(2025, 10, 11), True),
    (D(2026, 3, 7), False), (D(2026, 3, 9), True),  # an ordinary Saturday and Monday
])
def test_official_days(official, day, work):
    assert is_work(official, day) is work


def test_covered_years_come_from_chinese_calendar(official):
    assert official.year_known(2025) and official.year_known(2026)
    assert not official.year_known(UNCOVERED) and official.year_known(UNCOVERED - 1)
    assert official.first_year <= 2025 and official.last_year == UNCOVERED - 1
    i = official.index(D(UNCOVERED, 3, 1))
    assert not official.known[i] and official.known[official.index(D(UNCOVERED - 1, 12, 31))]


def test_cumulative_count_matches_the_day_flags(official):
    # 2026-02 has 20 weekdays; 02-16..20 and 02-23 are off (6), Saturdays 02-14 and 02-28 are worked (2)
    a, b = official.index(D(2026, 1, 31)), official.index(D(2026, 2, 28))
    counted = int(official.cum_work[b] - official.cum_work[a])
    by_hand = sum(is_work(official, D(2026, 2, d)) for d in range(1, 29))
    assert counted == by_hand == 20 - 6 + 2


def test_names_come_from_the_official_data(official):
    assert official.describe_day(D(2026, 10, 1)) == "国庆节放假"
    assert official.describe_day(D(2026, 2, 14)) == "春节调休上班"
    assert official.describe_day(D(2026, 3, 7)) == "星期六"


def test_holiday_xlsx_is_read_from_disk_and_overrides(official):
    days = {o.day: o for o in read_holiday_file(HOLIDAYS_2027)}
    assert set(days) == {D(2027, 1, 1), D(2027, 1, 4), D(2027, 1, 9), D(2026, 6, 15)}  # blank row skipped
    assert days[D(2027, 1, 9)].work and days[D(2027, 1, 4)].name == "元旦补休"
    cal = WorkCalendar.official(HOLIDAYS_2027)
    assert cal.year_known(2027)
    assert not is_work(cal, D(2027, 1, 4)) and is_work(cal, D(2027, 1, 9))  # a Monday off, a Saturday worked
    assert is_work(official, D(2026, 6, 15)) and not is_work(cal, D(2026, 6, 15))  # the user's day wins
    assert is_work(cal, D(2026, 2, 14))  # official days the file does not mention are kept
    table = cal.year_table(2027)
    assert table["来源"].str.contains("holidays_2027.xlsx").all() and list(table["类型"]) == ["休", "休", "班"]


def test_holiday_file_moves_a_due_date(official):
    cal = WorkCalendar.official(HOLIDAYS_2027)
    starts = pd.Series(pd.to_datetime(["2026-12-17", "2026-12-25", None]))
    # 15日 from 12-17 ends Friday 2027-01-01 (元旦) -> Saturday 01-02 and Sunday 01-03 rest, 01-04 off -> 01-05
    # 15日 from 12-25 ends Saturday 2027-01-09, a make-up workday in the file: no move
    due = calendar_due(starts, 15, cal)
    assert due.iloc[:2].dt.date.tolist() == [D(2027, 1, 5), D(2027, 1, 9)] and pd.isna(due.iloc[2])
    late = pd.Series(pd.to_datetime([f"{UNCOVERED - 1}-12-17", f"{UNCOVERED - 1}-12-25", None]))
    unknown = calendar_due(late, 15, official)
    assert unknown.isna().all()  # ends in a year chinese-calendar does not cover; NaT start stays NaT


def test_workday_due_counts_make_up_saturday(official):
    # 5 working days after Wednesday 2026-02-11: 02-12, 02-13, Saturday 02-14 (make-up), then
    # 02-15..23 off, 02-24, 02-25 -> the 5th is 02-25
    assert workday_due(D(2026, 2, 11), 5, official) == D(2026, 2, 25)
    # numpy's busday_offset with a weekmask cannot see the make-up Saturday
    naive = np.busday_offset(np.datetime64("2026-02-11"), 5, roll="forward")
    assert str(naive) != "2026-02-25"


def test_bad_type_names_file_row_and_column():
    with pytest.raises(ConfigError) as err:
        WorkCalendar.official(DATA / "deadlines" / "holidays_bad.xlsx")
    text = str(err.value)
    assert "holidays_bad.xlsx" in text and "第 3 行" in text and "B 列" in text and "半天" in text


def test_missing_columns_and_missing_file(tmp_path):
    f = tmp_path / "h.csv"
    f.write_text("day,kind\n2027-01-01,休\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="日期"):
        read_holiday_file(f)
    with pytest.raises(ConfigError, match="找不到节假日文件"):
        read_holiday_file(tmp_path / "none.csv")


def test_calendar_cli_with_user_file():
    r = CliRunner().invoke(main, ["calendar", "2027", "--holidays", str(HOLIDAYS_2027), "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["known"] and [d["日期"] for d in doc["days"]] == ["2027-01-01", "2027-01-04", "2027-01-09"]
    r = CliRunner().invoke(main, ["calendar", "2026"])
    assert r.exit_code == 0 and "劳动节" in r.output and "chinese-calendar" in r.output


# --- estimates for a year no schedule covers, and the whole-year marker -------------------------

def test_estimate_rests_on_the_statutory_holidays(official):
    from lunardate import LunarDate

    from xfsheets.workdays import statutory_days

    year = UNCOVERED
    eve = LunarDate(year, 1, 1).to_solar_date() - dt.timedelta(days=1)  # 除夕, from the lunar library itself
    if year == 2027:
        assert eve == D(2027, 2, 5)
    spring = [eve + dt.timedelta(days=k) for k in range(4)]  # 除夕 .. 初三
    days = statutory_days(year)
    assert [d for d, n in sorted(days.items()) if n == "春节"] == spring
    assert days[D(year, 1, 1)] == "元旦" and days[D(year, 5, 2)] == "劳动节" and days[D(year, 10, 3)] == "国庆节"
    assert sorted(days.values()).count("国庆节") == 3 and len(days) == 13  # 1+4+1+2+1+1+3 days
    for d in [D(year, 1, 1), *spring, D(year, 10, 1)]:
        assert not is_work(official, d) and "预估" in official.describe_day(d)
    assert official.estimated[official.index(D(year, 1, 1))] and not official.estimated[official.index(D(2026, 1, 1))]
    # the estimate of a year is listed apart from the official days, and only for unknown years
    # 13 statutory days (art. 2) and, for 2027, 6 补假 days (art. 6: 02-09/10, 05-03/04, 10-04/05)
    assert len(official.estimate_table(year)) == 13 + 6 and official.estimate_table(2026).empty
    assert official.year_table(year).empty


def test_estimated_deadlines_are_marked_and_skip_new_years_day(official):
    from xfsheets.deadlines import compute_deadlines

    assert UNCOVERED == 2027  # the dates below are 2027's
    from xfsheets.schema import DATE_FIELDS, FIELD_NAMES

    rows = [{"received_on": "2026-10-30", "accepted_on": "2026-11-02"}, {"received_on": "2026-12-17"},
            {"received_on": "2027-01-20", "accepted_on": "2027-01-21"}]
    frame = pd.DataFrame({k: pd.Series([None] * len(rows), dtype=object) for k in FIELD_NAMES})
    for f in DATE_FIELDS:
        frame[f] = pd.Series(pd.to_datetime([row.get(f) for row in rows]), dtype="datetime64[ns]")
    frame["extension_days"] = pd.array([None] * len(rows), dtype="Int64")
    r = compute_deadlines(frame, as_of=D(2027, 1, 25), calendar=official, assume_weekends=True)  # after every event
    # 60日 from 2026-11-02 and 15日 from 2026-12-17 both end on Friday 2027-01-01 (元旦): weekends-only
    # counting kept that day; the estimate moves it to Monday 01-04 and says 预估
    assert r["due_on"].dt.date.tolist()[:2] == [D(2027, 1, 4), D(2027, 1, 4)]
    assert r["estimated"].tolist()[:2] == [True, True]
    assert all("预估" in e and "元旦（预估）放假" in e for e in r["explain"][:2])
    # 60日 from 2027-01-21 ends 2027-03-22, a Monday:春节 (02-05..08) does not move it, still an estimate
    assert r["due_on"].dt.date.iloc[2] == D(2027, 3, 22) and r["estimated"].iloc[2]
    plain = compute_deadlines(frame, as_of=D(2027, 1, 25), calendar=official)
    assert plain["flag"].eq("unknown").all() and not plain["estimated"].any()
    # the row says what is missing; the remedy (import the notice, or estimate) is said once per run
    assert "2027年放假安排尚未收录" in plain["explain"].iloc[0] and "--assume-weekends" not in plain["explain"].iloc[0]
    from xfsheets.deadlines import deadline_notes
    from xfsheets.policy import default_policy

    (note,) = deadline_notes(plain, default_policy(), official)
    assert "有 3 件" in note and "xfsheets calendar import 通知.txt -o 2027节假日.xlsx" in note and "--assume-weekends" in note


def test_a_few_days_do_not_make_a_year_known_the_whole_year_row_does(tmp_path):
    few = tmp_path / "几天.csv"
    few.write_text("日期,类型,名称\n2027-01-01,休,元旦\n2027-01-04,休,元旦补休\n", encoding="utf-8")
    cal = WorkCalendar.official(few)
    assert not cal.year_known(2027) and not cal.known[cal.index(D(2027, 1, 4))]
    assert not is_work(cal, D(2027, 1, 4))  # the file's days still count, on top of the estimate
    assert "只列了 2027 年的部分日子" in cal.missing_year_reason(2027) and "2027年全年" in cal.missing_year_reason(2027)
    whole = tmp_path / "全年.csv"
    whole.write_text("日期,类型,名称\n2027年全年,全年,国务院办公厅通知\n2027-01-01,休,元旦\n", encoding="gbk")
    cal = WorkCalendar.official(whole)
    assert cal.year_known(2027) and cal.known[cal.index(D(2027, 6, 9))]
    # a known year is not estimated: 端午 2027-06-09 (a Wednesday) is a working day unless the file says otherwise
    assert is_work(cal, D(2027, 6, 9)) and not cal.estimated[cal.index(D(2027, 6, 9))]
    typed = tmp_path / "手写.csv"
    typed.write_text("日期,类型,名称\n 2027 全年 ,,\n", encoding="utf-8")  # as a clerk may type it
    assert read_holiday_schedule_years(typed) == {2027}
    bad = tmp_path / "错.csv"
    bad.write_text("日期,类型,名称\n2027年全年,休,\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        read_holiday_file(bad)
    assert "第 2 行" in str(err.value) and "B 列" in str(err.value) and "全年" in str(err.value)


def read_holiday_schedule_years(path) -> set[int]:
    from xfsheets.workdays import read_holiday_schedule

    return read_holiday_schedule(path).whole_years


def test_calendar_cli_unknown_year_gives_the_import_command_and_the_estimate():
    r = CliRunner().invoke(main, ["calendar", str(UNCOVERED)])
    assert r.exit_code == 0
    assert f"xfsheets calendar import 通知.txt -o {UNCOVERED}节假日.xlsx" in r.output and "预估" in r.output
    doc = json.loads(CliRunner().invoke(main, ["calendar", str(UNCOVERED), "--json"]).stdout)
    assert not doc["known"] and doc["days"] == [] and f"{UNCOVERED}-01-01" in [d["日期"] for d in doc["estimate"]]
    assert "calendar import" in doc["missing"]
    doc = json.loads(CliRunner().invoke(main, ["calendar", "show", "2026", "--json"]).stdout)
    assert doc["known"] and doc["estimate"] == [] and doc["missing"] is None


def test_calendar_template_is_an_empty_holiday_file(tmp_path):
    import openpyxl

    out = tmp_path / "2027节假日.xlsx"
    r = CliRunner().invoke(main, ["calendar", "2027", "--template", str(out)])
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["节假日", "填写说明"]
    assert [c.value for c in wb["节假日"][1]] == ["日期", "类型", "名称"] and wb["节假日"].max_row == 1
    assert "2027年全年" in "".join(str(c.value) for c in wb["填写说明"]["A"])
    assert read_holiday_file(out) == [] and not WorkCalendar.official(out).year_known(2027)
    # through the output gate: a file xfsheets did not write, or the --holidays input, is never replaced
    mine = tmp_path / "我的.xlsx"
    mine.write_bytes(HOLIDAYS_2027.read_bytes())
    r = CliRunner().invoke(main, ["calendar", "2027", "--template", str(mine)])
    assert r.exit_code == 2 and mine.read_bytes() == HOLIDAYS_2027.read_bytes()
    r = CliRunner().invoke(main, ["calendar", "2027", "--holidays", str(mine), "--template", str(mine)])
    assert r.exit_code == 2 and "输入文件" in r.stderr
