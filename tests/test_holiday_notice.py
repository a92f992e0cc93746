"""Next year's schedule from the State Council notice itself (xfsheets/holiday_notice.py and
`xfsheets calendar import`): the published 2025 and 2026 notices (tests/data/notices/) must give
exactly chinese-calendar's days for those years; UTF-8, GBK and .docx; malformed notices."""
from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from click.testing import CliRunner

from conftest import DATA
from xfsheets.workdays import HOLIDAY_NAMES, WORK_SUFFIX, WorkCalendar, read_holiday_schedule
from xfsheets.cli import main
from xfsheets.errors import ConfigError
from xfsheets.holiday_notice import parse_notice, read_notice

D = dt.date
NOTICES = DATA / "notices"


def official_days(year: int, month: int | None = None) -> set[tuple[dt.date, bool, str]]:
    """chinese-calendar's own days of ``year`` (rest days incl. weekends in a holiday, make-up workdays),
    with the Chinese holiday names the calendar gives them."""
    from chinese_calendar import constants

    def keep(d: dt.date) -> bool:
        return d.year == year and (month is None or d.month == month)

    return ({(d, False, HOLIDAY_NAMES[n]) for d, n in constants.holidays.items() if keep(d)}
            | {(d, True, HOLIDAY_NAMES[n] + WORK_SUFFIX) for d, n in constants.workdays.items() if keep(d)})


def imported(schedule) -> set[tuple[dt.date, bool, str]]:
    return {(d.day, d.work, d.name) for d in schedule.days}


@pytest.mark.parametrize("year,rest,work,rest_weekdays", [(2025, 28, 5, 18), (2026, 33, 6, 19)])
def test_published_notice_equals_chinese_calendar(year, rest, work, rest_weekdays):
    schedule = read_notice(NOTICES / f"{year}.txt")
    assert schedule.year == year and schedule.title == f"国务院办公厅关于{year}年部分节假日安排的通知"
    assert imported(schedule) == official_days(year)
    days = schedule.days
    assert sum(not d.work for d in days) == rest and sum(d.work for d in days) == work
    assert sum(not d.work and d.day.weekday() < 5 for d in days) == rest_weekdays


def test_named_cases_of_the_2025_notice():
    days = {d.day: d for d in read_notice(NOTICES / "2025.txt").days}
    # a range across months, from 除夕: 1月28日（农历除夕、周二）至2月4日（农历正月初七、周二）
    assert all(days[D(2025, 1, 28) + dt.timedelta(k)].name == "春节" for k in range(8))
    # 国庆节、中秋节 together: 10-06 is 中秋 (lunar 8/15), the rest and the make-up days 国庆节
    assert days[D(2025, 10, 6)].name == "中秋节" and days[D(2025, 10, 8)].name == "国庆节"
    assert days[D(2025, 9, 28)].work and days[D(2025, 9, 28)].name == "国庆节调休上班"
    assert days[D(2025, 1, 1)].name == "元旦" and D(2025, 1, 2) not in days  # 放假1天，不调休
    assert days[D(2025, 2, 8)].line == days[D(2025, 1, 28)].line  # every day remembers its line


def test_older_notice_forms_and_previous_december():
    # 2024: no weekdays in brackets, 星期日, "与周末连休", an advice sentence (除夕（2月9日）休息) left out
    s2024 = read_notice(NOTICES / "2024.txt")
    assert imported(s2024) == official_days(2024)
    assert D(2024, 2, 9) not in {d.day for d in s2024.days}
    # 2019: 元旦 2018-12-30..2019-01-01 and 2018-12-29 a workday, written with their years
    s2019 = read_notice(NOTICES / "2019.txt")
    assert s2019.year == 2019
    assert {x for x in imported(s2019) if x[0].year == 2018} == official_days(2018, 12)
    cal = WorkCalendar.official()
    for d in s2019.days:  # same working status as chinese-calendar, except the days a later 2019
        if d.day.month in (4, 5, 6, 9) and d.day.weekday() >= 5:  # notice changed (劳动节 4 days) or
            continue  # the weekend days the library names (与周末连休)
        assert bool(cal.is_work[cal.index(d.day)]) is d.work, d


def test_gbk_and_utf8_text_give_the_same_days(tmp_path):
    text = (NOTICES / "2026.txt").read_text(encoding="utf-8")
    gbk = tmp_path / "通知gbk.txt"
    gbk.write_bytes(text.encode("gbk"))
    bom = tmp_path / "通知bom.txt"
    bom.write_bytes(text.encode("utf-8-sig"))
    with pytest.raises(UnicodeDecodeError):
        gbk.read_bytes().decode("utf-8")  # really not UTF-8
    expected = official_days(2026)
    assert imported(read_notice(gbk)) == imported(read_notice(bom)) == expected


def make_docx(path: Path, paragraphs: list[str]) -> Path:
    """A minimal Word document: one <w:p> per paragraph, text split over two runs as Word does."""
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    body = "".join(f'<w:p><w:r><w:t xml:space="preserve">{escape(p[:5])}</w:t></w:r>'
                   f'<w:r><w:t xml:space="preserve">{escape(p[5:])}</w:t></w:r></w:p>' for p in paragraphs)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/'
                   '2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("word/document.xml", f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{w}">'
                                        f"<w:body>{body}</w:body></w:document>")
    return path


def test_docx_notice(tmp_path):
    lines = (NOTICES / "2025.txt").read_text(encoding="utf-8").splitlines()
    docx = make_docx(tmp_path / "通知.docx", lines)
    assert imported(read_notice(docx)) == official_days(2025)
    broken = tmp_path / "坏.docx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ConfigError, match="无法读取这个 .docx"):
        read_notice(broken)
    with pytest.raises(ConfigError, match="另存为 .docx"):
        read_notice(tmp_path / "通知.doc")


def notice_with(old: str, new: str, year: int = 2026) -> str:
    text = (NOTICES / f"{year}.txt").read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new)


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


@pytest.mark.parametrize("old,new,message", [
    ("1月4日（周日）上班", "1月4日（周一）上班", "写的是周一，但 2026-01-04 是星期日"),
    ("共7天", "共6天", "写的是共6天，但 2026-10-01 至 2026-10-07 是 7 天"),
    ("6月19日（周五）至21日", "6月19日（周五）到某日", "放假日期看不懂"),
    ("5月9日（周六）上班", "5月9日（周六）等上班", "上班日期看不懂"),
    ("9月25日（周五）至27日（周日）放假，共3天", "9月26日（周六）至27日（周日）放假，共2天",
     "2026-09-25（中秋节）是法定节假日，但通知里没有把它列为放假日"),
    ("至23日（农历正月初七、周一）", "至32日（农历正月初七、周一）", "「32日(农历正月初七、周一)」不是一个有效的日期"),
])
def test_malformed_notice_names_the_line(tmp_path, old, new, message):
    text = notice_with(old, new)
    f = tmp_path / "通知.txt"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        read_notice(f)
    line = line_of(text, new)
    assert err.value.row == line and f"第 {line} 行" in str(err.value) and message in str(err.value)
    assert "通知.txt" in str(err.value) and str(err.value).count(f"第 {line} 行") == 1


def test_incomplete_or_yearless_notice():
    text = (NOTICES / "2026.txt").read_text(encoding="utf-8")
    no_national_day = "\n".join(l for l in text.splitlines() if "国庆节：" not in l)
    with pytest.raises(ConfigError, match="没有找到 国庆节 的安排"):
        parse_notice(no_national_day)
    body = "\n".join(l for l in text.splitlines() if "2026年" not in l)
    with pytest.raises(ConfigError, match="没有找到通知的年份"):
        parse_notice(body)
    assert imported(parse_notice(body, year=2026)) == official_days(2026)  # --year when the title is missing
    with pytest.raises(ConfigError, match="没有找到任何节日的安排"):
        parse_notice("国务院办公厅关于2027年部分节假日安排的通知\n各省、自治区……\n")
    twice = text.replace("七、国庆节：", "七、元旦：")
    with pytest.raises(ConfigError, match="又出现了“元旦”"):
        parse_notice(twice)


def test_ascii_punctuation_and_unnumbered_paragraphs():
    # as many web pages carry it: ASCII colon/brackets/commas, no 一、 numbering
    text = notice_with("一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。", "元旦:1月1日(周四)至3日(周六)放假调休,共3天。")
    assert imported(parse_notice(text)) == official_days(2026)


# --- the command -----------------------------------------------------------------------------

def test_cli_import_writes_a_whole_year_file_that_deadlines_accept(tmp_path):
    out = tmp_path / "2026节假日.xlsx"
    r = CliRunner().invoke(main, ["calendar", "import", str(NOTICES / "2026.txt"), "-o", str(out), "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["year"] == 2026 and doc["official_differences"] == [] and doc["work_days"] == 6
    assert doc["rest_days"] == 33 and doc["rest_weekdays"] == 19 and doc["output"] == str(out)
    schedule = read_holiday_schedule(out)
    assert schedule.whole_years == {2026}
    assert {(o.day, o.work, o.name) for o in schedule.days} == official_days(2026)
    # the file is an xfsheets output: a second import may replace it, the notice is never an output
    r = CliRunner().invoke(main, ["calendar", "import", str(NOTICES / "2026.txt"), "-o", str(out)])
    assert r.exit_code == 0 and "完全一致" in r.output and "2026年全年" in r.output
    r = CliRunner().invoke(main, ["calendar", "import", str(NOTICES / "2026.txt"), "-o",
                                  str(NOTICES / "2026.txt")])
    assert r.exit_code == 2


def test_cli_import_csv_and_a_2027_style_year(tmp_path):
    # the 2026 notice moved one year on: the dates no longer match their weekdays -> refused with the line
    text = notice_with("2026年", "2027年")
    notice = tmp_path / "通知.txt"
    notice.write_text(text, encoding="gbk")
    r = CliRunner().invoke(main, ["calendar", "import", str(notice), "-o", str(tmp_path / "x.csv")])
    assert r.exit_code == 2 and "第 " in r.stderr and "是星期" in r.stderr and not (tmp_path / "x.csv").exists()
    # the real 2026 notice to CSV: the 全年 row first, then the days; read back by --holidays
    out = tmp_path / "假日.csv"
    r = CliRunner().invoke(main, ["calendar", "import", str(NOTICES / "2026.txt"), "-o", str(out)])
    assert r.exit_code == 0, r.output
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "日期,类型,名称" and lines[1].startswith("2026年全年,全年,") and lines[2] == "2026-01-01,休,元旦"
    assert read_holiday_schedule(out).whole_years == {2026}


def test_cli_malformed_notice_is_a_chinese_message_without_traceback(tmp_path):
    notice = tmp_path / "通知.txt"
    notice.write_text(notice_with("1月4日（周日）上班", "1月4日（周一）上班"), encoding="utf-8")
    r = CliRunner().invoke(main, ["calendar", "import", str(notice), "--json"])
    assert r.exit_code == 2 and "Traceback" not in r.output
    error = json.loads(r.stdout)["error"]
    assert error["code"] == "config_invalid" and error["row"] == 7 and "周一" in error["message"]
    assert not (tmp_path / "2026节假日.xlsx").exists()
