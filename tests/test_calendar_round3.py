"""Issue 21 items 1-2 and issue 20 item 13 (parsing half): the calendar.

1. Every form a 国务院办公厅 notice has used since 2008 is read (放假，共N天 / 放假调休 / 放假公休 /
   X日（星期一）补休 / X日（星期六）上班 / 与周末连休 / ranges across months and years / the 2008
   notice's 其中……为法定节假日、公休日调至 explanations / “五一”“十一”), or refused with the line.
   Each real notice in tests/data/notices/ must give, day by day, chinese-calendar's status for its
   year; the only differences are the days a later notice of that year changed, named below.
2. A year no data covers is estimated from the 放假办法: art. 2 (statutory days) and art. 6 (补假
   for a statutory day on a weekend), said to be certain by law; the notice's 调休 is said not to be
   estimated; results are 预估 and never called 实际期满日.
13. A notice whose one paragraph is megabytes of dates is refused at once, with the line.
"""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import DATA
from xfsheets.cli import main
from xfsheets.errors import ConfigError
from xfsheets.holiday_notice import parse_notice, read_notice
from xfsheets.workdays import WorkCalendar, estimated_rest_days, makeup_days, statutory_days

D = dt.date
NOTICES = DATA / "notices"
# Days of a year that a later notice of the same year changed (chinese-calendar carries the change):
LATER_NOTICES = {
    2011: {D(2011, 12, 31): True},  # the 2012 notice: 2011-12-31 (Saturday) a workday
    2015: {D(2015, 9, 3): False, D(2015, 9, 4): False, D(2015, 9, 6): True},  # 抗战胜利70周年纪念日调休放假的通知
    2019: {D(2019, 4, 28): True, D(2019, 5, 2): False, D(2019, 5, 3): False, D(2019, 5, 5): True},  # 调整2019年劳动节假期安排的通知: 4 days
    2020: {D(2020, 1, 31): False, D(2020, 2, 1): False},  # 延长2020年春节假期的通知: to 02-02
}
YEARS = (2008, 2011, 2012, 2015, 2016, 2017, 2019, 2020, 2024, 2025, 2026)


def status(schedule, day: dt.date) -> bool:
    """Whether ``day`` is a working day by the imported notice (weekends otherwise)."""
    listed = {d.day: d.work for d in schedule.days}
    return listed.get(day, day.weekday() < 5)


def is_work(cal: WorkCalendar, day: dt.date) -> bool:
    return bool(cal.is_work[cal.index(day)])


@pytest.mark.parametrize("year", YEARS)
def test_each_real_notice_gives_chinese_calendars_year_day_by_day(year):
    import chinese_calendar

    schedule = read_notice(NOTICES / f"{year}.txt")
    assert schedule.year == year
    days = [D(year, 1, 1) + dt.timedelta(k) for k in range((D(year + 1, 1, 1) - D(year, 1, 1)).days)]
    days += sorted(d.day for d in schedule.days if d.day.year < year)  # late December moved by this notice
    differ = {d: chinese_calendar.is_workday(d) for d in days if status(schedule, d) != chinese_calendar.is_workday(d)}
    assert differ == LATER_NOTICES.get(year, {})
    # every statutory day of the 放假办法 in force that year is one of the notice's rest days
    rest = {d.day for d in schedule.days if not d.work}
    assert set(statutory_days(year)) <= rest


def test_2017_bu_xiu_makes_01_02_a_rest_day():
    # "一、元旦：1月1日放假，1月2日（星期一）补休。" (before: 01-02 dropped, a working day)
    s = read_notice(NOTICES / "2017.txt")
    assert [d.day for d in s.days if not d.work and d.day.weekday() < 5] == [
        D(2017, 1, 2), D(2017, 1, 27), D(2017, 1, 30), D(2017, 1, 31), D(2017, 2, 1), D(2017, 2, 2),
        D(2017, 4, 3), D(2017, 4, 4), D(2017, 5, 1), D(2017, 5, 29), D(2017, 5, 30),
        D(2017, 10, 2), D(2017, 10, 3), D(2017, 10, 4), D(2017, 10, 5), D(2017, 10, 6)]
    assert [d.day for d in s.days if d.work] == [D(2017, 1, 22), D(2017, 2, 4), D(2017, 4, 1), D(2017, 5, 27),
                                                 D(2017, 9, 30)]
    day = {d.day: d for d in s.days}
    assert day[D(2017, 1, 2)].name == "元旦" and day[D(2017, 1, 2)].line == 8
    assert day[D(2017, 10, 4)].name == "中秋节"  # lunar 8/15, in the combined 中秋节、国庆节 paragraph


def test_bu_xiu_in_other_years_and_the_2008_forms():
    s2015 = {d.day: d for d in read_notice(NOTICES / "2015.txt").days}
    assert not s2015[D(2015, 4, 6)].work and not s2015[D(2015, 6, 22)].work  # 清明、端午 补休
    s2016 = {d.day: d for d in read_notice(NOTICES / "2016.txt").days}
    assert not s2016[D(2016, 5, 2)].work and s2016[D(2016, 5, 2)].name == "劳动节"
    # 2008: “五一”/“十一” headings, ranges with —, the year before, 其中……公休日调至…… explanations
    s2008 = read_notice(NOTICES / "2008.txt")
    assert [(d.day, d.work) for d in s2008.days if d.day.year == 2007] == [
        (D(2007, 12, 29), True), (D(2007, 12, 30), False), (D(2007, 12, 31), False)]
    assert [d.day for d in s2008.days if d.work] == [D(2007, 12, 29), D(2008, 2, 2), D(2008, 2, 3), D(2008, 5, 4),
                                                     D(2008, 9, 27), D(2008, 9, 28)]
    names = {d.day: d.name for d in s2008.days}
    assert names[D(2008, 5, 2)] == "劳动节" and names[D(2008, 10, 5)] == "国庆节" and names[D(2008, 2, 6)] == "春节"
    # 2012: 2011-12-31 a workday written with its year; "29日" without its month
    s2012 = {d.day: d.work for d in read_notice(NOTICES / "2012.txt").days}
    assert s2012[D(2011, 12, 31)] is True and s2012[D(2012, 1, 29)] is True


def _notice(year: int, old: str, new: str) -> str:
    text = (NOTICES / f"{year}.txt").read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new)


@pytest.mark.parametrize("year,old,new,message", [
    # a dated clause that is neither 放假, 补休 nor 上班 is refused, not skipped
    (2017, "1月2日（星期一）补休", "1月2日（星期一）调休", "「1月2日(星期一)调休」写了日期，但看不出是放假、补休还是上班"),
    (2017, "1月2日（星期一）补休", "1月2日（星期一）起补休", "「1月2日(星期一)起补休」中的补休日期看不懂"),
    (2017, "1月1日放假，1月2日（星期一）补休", "1月1日放假1月2日（星期一）补休", "同时写了放假和补休"),
    # an explanation that does not fit the days the paragraph sets
    (2008, "公休日调至12月31日（星期一）", "公休日调至1月2日（星期三）", "说调至 2008-01-02 休息，但这一段没有把它列为放假日"),
    (2008, "其中，4月4日（清明节）为法定节假日", "其中，4月3日（星期四）为法定节假日",
     "说 2008-04-03 放假，但这一段没有把它列为放假日"),
    # a statutory day the notice leaves out (2008: 春节 is 除夕 to 初二)
    (2008, "2月6日—12日（农历除夕至正月初六）放假，共7天。其中，2月6日（除夕）、",
     "2月7日—12日（农历正月初一至初六）放假，共6天。其中，", "2008-02-06（春节）是法定节假日，但通知里没有把它列为放假日"),
])
def test_what_is_not_understood_is_refused_with_its_line(tmp_path, year, old, new, message):
    text = _notice(year, old, new)
    f = tmp_path / "通知.txt"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        read_notice(f)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if new in l)
    assert err.value.row == line and message in str(err.value), str(err.value)


def test_cli_import_2017_writes_01_02_and_agrees_with_the_official_data(tmp_path):
    import openpyxl

    out = tmp_path / "2017节假日.xlsx"
    r = CliRunner().invoke(main, ["calendar", "import", str(NOTICES / "2017.txt"), "-o", str(out), "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["official_differences"] == [] and doc["rest_weekdays"] == 16 and doc["work_days"] == 5
    rows = [tuple(c.value for c in row) for row in openpyxl.load_workbook(out)["节假日"].iter_rows()]
    assert rows[0] == ("日期", "类型", "名称") and rows[1][:2] == ("2017年全年", "全年")
    assert ("2017-01-02", "休", "元旦") in rows and ("2017-01-01", "休", "元旦") in rows
    cal = WorkCalendar.official(out)
    assert not is_work(cal, D(2017, 1, 2)) and cal.year_known(2017)


# --- 2. the estimate of a year no data covers --------------------------------------------------

def test_art6_makeup_days_of_2027_are_rest_days_in_the_estimate():
    assert makeup_days(2027) == {D(2027, 2, 9): "春节", D(2027, 2, 10): "春节", D(2027, 5, 3): "劳动节",
                                 D(2027, 5, 4): "劳动节", D(2027, 10, 4): "国庆节", D(2027, 10, 5): "国庆节"}
    cal = WorkCalendar.official()
    assert not cal.year_known(2027)
    weekdays_off = [d for d in (D(2027, 1, 1) + dt.timedelta(k) for k in range(365))
                    if d.weekday() < 5 and not is_work(cal, d)]
    assert weekdays_off == [D(2027, 1, 1), D(2027, 2, 5), D(2027, 2, 8), D(2027, 2, 9), D(2027, 2, 10),
                            D(2027, 4, 5), D(2027, 5, 3), D(2027, 5, 4), D(2027, 6, 9), D(2027, 9, 15),
                            D(2027, 10, 1), D(2027, 10, 4), D(2027, 10, 5)]
    assert all(cal.estimated[cal.index(d)] for d in weekdays_off)
    assert cal.describe_day(D(2027, 2, 9)) == "春节补假（预估）放假"
    table = cal.estimate_table(2027)
    assert len(table) == 19
    basis = dict(zip(table["日期"], table["依据"]))
    assert basis["2027-02-09"] == basis["2027-10-05"] == "第六条 节日逢周末补假"
    assert basis["2027-02-06"] == basis["2027-10-01"] == "第二条 法定节假日"
    assert set(table["来源"]) == {"预估（依法确定）"}


@pytest.mark.parametrize("year", [2025, 2026])
def test_what_the_law_fixes_was_a_rest_day_in_each_year_the_2024_text_governs(year):
    # the estimate's days (arts. 2 and 6) against the real notices of 2025 and 2026
    import chinese_calendar

    assert not any(chinese_calendar.is_workday(d) for d in estimated_rest_days(year))


def test_estimated_deadline_moves_past_the_makeup_days_and_is_never_the_actual_day():
    from xfsheets.deadlines import compute_deadlines
    from xfsheets.schema import DATE_FIELDS, FIELD_NAMES

    rows = [{"received_on": "2027-01-25"}, {"received_on": "2027-04-18"}]
    frame = pd.DataFrame({k: pd.Series([None] * len(rows), dtype=object) for k in FIELD_NAMES})
    for f in DATE_FIELDS:
        frame[f] = pd.Series(pd.to_datetime([row.get(f) for row in rows]), dtype="datetime64[ns]")
    frame["extension_days"] = pd.array([None] * len(rows), dtype="Int64")
    r = compute_deadlines(frame, as_of=D(2027, 5, 6), calendar=WorkCalendar.official(), assume_weekends=True)
    # 15日 from 01-25 ends on 02-09 and from 04-18 on 05-03: both 补假 by art. 6 -> 02-11 and 05-05
    # (before: 02-09 and 05-03, working days in the estimate)
    assert r["due_on"].dt.date.tolist() == [D(2027, 2, 11), D(2027, 5, 5)]
    assert r["estimated"].tolist() == [True, True]
    for text in r["explain"]:
        assert "预估" in text and "实际期满日" not in text


def test_calendar_2027_says_what_is_certain_and_what_is_not_estimated():
    r = CliRunner().invoke(main, ["calendar", "2027", "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert not doc["known"]
    makeup = [e["日期"] for e in doc["estimate"] if e["依据"].startswith("第六条")]
    assert makeup == ["2027-02-09", "2027-02-10", "2027-05-03", "2027-05-04", "2027-10-04", "2027-10-05"]
    note = doc["estimate_note"]
    assert "第二条" in note and "第六条" in note and "调休" in note and "无法预估，未计入" in note and "预估" in note
    r = CliRunner().invoke(main, ["calendar", "2027"])
    assert r.exit_code == 0 and "无法预估，未计入" in r.output and "依法确定" in r.output
    assert json.loads(CliRunner().invoke(main, ["calendar", "2026", "--json"]).stdout)["estimate_note"] is None


# --- 13. a notice that is a bomb -----------------------------------------------------------------

def _bomb_docx(path: Path) -> Path:
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    body = "一、元旦：" + "1月1日（" * 600_000 + "上班。"  # 3 MB of dates in one paragraph, no closing bracket
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/content-types"/>')
        z.writestr("word/document.xml", f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{w}"><w:body>'
                   f"<w:p><w:r><w:t>国务院办公厅关于2027年部分节假日安排的通知</w:t></w:r></w:p>"
                   f"<w:p><w:r><w:t>{body}</w:t></w:r></w:p></w:body></w:document>")
    return path


def test_a_paragraph_of_megabytes_of_dates_is_refused_at_once(tmp_path):
    bomb = _bomb_docx(tmp_path / "通知.docx")
    assert bomb.stat().st_size < 50_000
    out = tmp_path / "2027节假日.xlsx"
    # before: still parsing after 60 s (quadratic); now refused by the line bound
    r = subprocess.run([sys.executable, "-m", "xfsheets", "calendar", "import", str(bomb), "-o", str(out), "--json"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    error = json.loads(r.stdout)["error"]
    assert error["row"] == 2 and "这一行有 3000008 个字，不像节假日通知的一段" in error["message"]
    assert not out.exists()


def test_within_the_bounds_parsing_is_linear(tmp_path):
    # the longest line allowed, all dates and unclosed brackets: an error, quickly, naming the line
    line = "一、元旦：1月1日放假，" + "1月1日（" * 330 + "上班。"
    text = "国务院办公厅关于2027年部分节假日安排的通知\n" + line
    with pytest.raises(ConfigError) as err:
        parse_notice(text)
    assert err.value.row == 2
    big = tmp_path / "通知.txt"
    big.write_text("国务院办公厅关于2027年部分节假日安排的通知\n" + "一、元旦：1月1日放假。\n" * 60_000, encoding="utf-8")
    with pytest.raises(ConfigError, match="不像一份节假日通知"):
        read_notice(big)
    many = "国务院办公厅关于2027年部分节假日安排的通知\n" + "说明。\n" * 60_000
    with pytest.raises(ConfigError, match="个字，不像一份节假日通知"):
        parse_notice(many)
