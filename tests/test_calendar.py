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
from xfsheets.calendar import WorkCalendar, read_holiday_file
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
    assert r.exit_code == 0 and "劳动节" in r.stderr and "chinese-calendar" in r.stderr
